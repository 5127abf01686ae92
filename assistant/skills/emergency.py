"""Emergency: the number to call first, the first safety steps from the emergency guides, shelters."""

from __future__ import annotations

import re

from assistant.core.prompts import render
from assistant.services.places import districts_named
from assistant.services.seeds import shelters
from assistant.skills.registry import skill
from assistant.core.types import Citation

_STEP_SECTIONS = ("安全要点", "Safety steps")
MAX_STEPS = 6
_HELPER = re.compile(r"身边有人|家人|朋友|someone (else|near you)|helping", re.IGNORECASE)


def first_steps(index, doc: str, helper: bool = False) -> tuple[list[str], Citation | None]:
    """The numbered first steps of an emergency guide, and the citation for them; for someone helping a
    person in danger (`helper`), the part of the steps written for the helper when the guide has one."""
    chunks = [c for c in index.chunks_of(doc) if c.section.split(" > ")[0] in _STEP_SECTIONS]
    for_helper = [c for c in chunks if _HELPER.search(c.section)]
    if for_helper:
        chunks = for_helper if helper else [c for c in chunks if c not in for_helper]
    if not chunks:
        return [], None
    lines = [ln.strip() for c in chunks for ln in c.text.splitlines() if re.match(r"^\s*(\d+[.、]|[-*])", ln)]
    citation = Citation(n=1, doc=doc, title=chunks[0].title, section=chunks[0].section,
                        source_url=chunks[0].source_url, chunk_id=chunks[0].id, lang=chunks[0].lang)
    return lines[:MAX_STEPS], citation


def district_shelters(text: str, lang: str, limit: int = 3) -> list[str]:
    """Shelters in the districts named in the message (any name of seeds/districts.yaml), else the
    largest ones in the city."""
    named = {d.zh for d in districts_named(text)}
    chosen = [s for s in shelters() if s["district"]["zh"] in named] or sorted(shelters(), key=lambda s: -s["capacity"])
    return [f"{s['name'][lang]} · {s['address'][lang]}" for s in chosen[:limit]]


@skill(name="emergency", title={"zh": "紧急求助", "en": "Emergency help"}, domains=["emergency"])
def handle(ctx) -> None:
    """Numbers first, then steps; status `emergency`, whatever skill was active (its slots are kept)."""
    e = ctx.emergency
    lang = ctx.lang
    sep = "、" if lang == "zh" else " / "
    numbers = ([e.hotline] if e.hotline and e.for_someone_else else []) + e.numbers
    parts = [render("emergency_call", lang, label=e.label[lang], numbers=sep.join(numbers))]
    if e.hotline:
        parts.append(render("emergency_helper" if e.for_someone_else else "emergency_hotline", lang, hotline=e.hotline))
    doc = e.guide[lang] if lang in e.guide else e.guide["zh"]
    steps, citation = first_steps(ctx.desk.index, doc, helper=e.for_someone_else)
    citations = []
    if steps:
        parts.append(render("emergency_steps", lang) + "\n" + "\n".join(steps) + " [1]")
        citations.append(citation)
    if e.shelters:
        parts.append(render("emergency_shelters", lang) + "\n" + "\n".join(f"- {s}" for s in district_shelters(ctx.query, lang)))
    parts.append(render("emergency_more", lang))
    ctx.finish("\n\n".join(parts), "emergency", citations, emergency=e.kind, numbers=numbers,
               for_someone_else=e.for_someone_else)
