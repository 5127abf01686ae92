"""The extractive answer: within the best guide, the units that answer the question, quoted as written.

Each unit of the guide is scored against the question (`assistant.answer.scoring`). The answer leads
with the best unit and quotes only what answers; lists the question asks for are quoted whole; a
stated value is compared with a plain threshold.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.safety.guardrails import has_chinese, normalize
from assistant.services.places import elsewhere
from assistant.core.prompts import render
from assistant.answer.question import Question, analyze, identifiers, needed, vocabulary
from assistant.answer.scoring import FAQ, Scored, UnitScorer, heading, situations_in
from assistant.answer.thresholds import conditions
from assistant.answer.unit_model import unit_model
from assistant.core.types import Citation, Hit
from assistant.core.units import Unit
from assistant.core.units import render as quote_units

WHOLE_BLOCK_ASPECTS = {"materials", "how", "where", "contact", "list"}
MAX_BLOCK_CHARS = 700
# the limits above count Chinese characters: the English guides say the same in 3.2 times as many characters
# (245,894 against 77,194 over the 35 guides written in both), so English text counts that much less
LATIN_PER_CJK = 3.2
SMALL_BLOCK = 160  # a list or paragraph this short is quoted whole rather than cut
DIRECT_CHARS = 300  # a direct answer quotes at most about this much
CLOSE = 0.8        # units scoring this close to the best one are quoted with it
# aspects a guide keeps in a section of its own: the answer comes from that section when its best unit scores
# within CLOSE of the guide's best unit (always, before the weights were learned: on the tuned questions of
# seeds/training/units, leading with that section whatever the margin quoted the answer less often, 0.762
# against 0.766 within CLOSE and 0.789 never, while "在哪里可以办护照" wants the addresses, not a sentence
# saying it can be done "wherever your hukou is")
SECTION_ASPECTS = WHOLE_BLOCK_ASPECTS | {"time"}
RELATED_MARGIN = 0.03
LIST_BONUS = 0.6   # a list whose items are named, or that says it names them, for "有哪些" (on the scale of scores)
_NAMED_ITEM = re.compile(r"^\s*\S{1,4}\s*(?:\*\*[^*]{1,20}\*\*|[^，。,.:：]{1,16})[：:]")


def length(text: str) -> float:
    """A text's length in Chinese characters: an English text's characters count 1 / LATIN_PER_CJK each."""
    return len(text) if has_chinese(text) else len(text) / LATIN_PER_CJK


@dataclass
class Answer:
    """A composed answer: text with [n] markers and the citations they refer to."""

    text: str
    citations: list[Citation]
    answerable: bool = True
    reason: str = ""
    doc: str = ""
    sections: list[str] = field(default_factory=list)


class Composer:
    """Chooses and quotes the units of a guide that answer a question."""

    def __init__(self, *, index, home: Path | None = None) -> None:
        self.index = index
        self.scorer = UnitScorer(index=index, model=unit_model(index.embedder.name, home))

    def compose(self, question: str, hits: list[Hit], lang: str, vector: np.ndarray) -> Answer:
        """Quote what answers `question` from the best of the relevant hits' guides, with citations."""
        q = analyze(question)
        if q.yesno and not q.aspects:
            q.aspects = ["eligibility"]
        self._last_vector = vector
        docs = list(dict.fromkeys(h.doc for h in hits))[:2]
        first = None
        for doc in docs:
            scored = self.scorer.score(q, doc, vector)
            if not scored:
                continue
            answer = self._answer(q, doc, scored, hits, lang)
            if answer.answerable:
                return answer
            first = first or answer
        return first or Answer(text="", citations=[], answerable=False, reason="no_text")

    def _answer(self, q: Question, doc: str, scored: list[Scored], hits: list[Hit], lang: str) -> Answer:
        chosen = self._select(q, scored[0], scored)
        if len(q.aspects) > 1 and q.aspects[1] != "eligibility":  # "要不要钱，要等几天": each aspect its unit
            other = replace(q, aspects=q.aspects[1:2])
            rescored = self.scorer.score(other, doc, self._last_vector)
            chosen += [u for u in self._select(other, rescored[0], rescored) if u not in chosen]
        need = needed(q)
        quoted = " ".join(u.text for u in chosen)
        if need and not any(p.search(quoted) for p in need):
            return Answer(text="", citations=[], answerable=False, reason=f"no_{q.aspect}", doc=doc)
        texts = dict(self.index.sections_of(doc))
        whole = "\n".join([*texts, *texts.values()])
        place = elsewhere(q.text, whole)
        if place:
            return Answer(text="", citations=[], answerable=False, reason=f"elsewhere:{place}", doc=doc)
        flat = re.sub(r"\s+", "", normalize(whole)).lower()
        unknown = [name for name in identifiers(q.text) if name not in flat]
        if unknown:  # "5号线" asked of a guide about lines 1 to 4
            return Answer(text="", citations=[], answerable=False, reason=f"not_in_guide:{unknown[0]}", doc=doc)
        chunk = next((h.chunk for h in hits if h.doc == doc), None) or self.index.chunks_of(doc)[0]
        sections = list(dict.fromkeys(u.section for u in chosen))
        citations, parts = [], []
        if lang == "en" and chunk.lang != "en":
            parts.append(render("source_in_chinese", "en"))
        verdict = self._threshold_line(q, chosen, lang)
        if verdict:
            parts.append(verdict)
        for n, section in enumerate(sections, start=1):
            picked = {(u.block, u.index) for u in chosen if u.section == section}
            body = quote_units(texts[section], picked, lang)
            label = section.split(" > ")[-1] if FAQ.search(section) else section
            first_chunk = next((c for c in self.index.chunks_of(doc) if c.section == section), chunk)
            citations.append(Citation(n=n, doc=doc, title=chunk.display_title(lang), section=label, source_url=chunk.source_url,
                                      chunk_id=first_chunk.id, lang=chunk.lang))
            intro = render("answer_intro", lang, title=chunk.display_title(lang), section=label) if n == 1 else \
                (f"（{label}）" if lang == "zh" else f"({label})")
            parts.append(f"{intro}\n{body} [{n}]")
        self._related(hits, doc, citations, parts, lang)
        return Answer(text="\n\n".join(p for p in parts if p), citations=citations, doc=doc, sections=sections)

    def _select(self, q: Question, best: Scored, scored: list[Scored]) -> list[Unit]:
        """The units to quote: the answer's own unit (a whole FAQ answer, a whole list the question asks
        for, a short block whole), then the next best units while they score close to the best and the
        answer stays short; for a situation, its units in other sections too."""
        top = best.score
        section = self._aspect_section(q, scored)
        if section is not None and section.score >= top - CLOSE:
            best = section
        need = needed(q)
        if need and not any(p.search(best.unit.text) for p in need):  # lead with a unit that can answer
            best = next((s for s in scored[:8] if s.score >= top - 2 * CLOSE
                         and any(p.search(s.unit.text) for p in need)), best)
        chosen = self._whole(q, best.unit, scored)
        chars = sum(length(u.text) for u in chosen)
        for other in scored[:8]:
            if other.unit in chosen or other.score < top - CLOSE:
                continue
            if need and not any(p.search(other.unit.text) for p in need):
                continue  # asked for a fee: a unit that states none adds nothing
            if not (other.unit.section == chosen[0].section or FAQ.search(other.unit.section)
                    or self._in_aspect_section(q, other.unit)):
                continue  # nor does another section's text, unless it is where the aspect lives
            more = self._whole(q, other.unit, scored, small_only=True)
            if chars + sum(length(u.text) for u in more) > DIRECT_CHARS:
                continue
            chosen += [u for u in more if u not in chosen]
            chars += sum(length(u.text) for u in more)
        if q.situations:
            seen = {u.section for u in chosen}
            for s in scored[1:12]:
                if s.unit.section not in seen and len(seen) < 3 and s.score >= top - 2 * CLOSE \
                        and situations_in(s.unit.section + " " + s.unit.lead + " " + s.unit.text) & q.situations:
                    seen.add(s.unit.section)
                    chosen.append(s.unit)
        first = chosen[0].section
        return sorted(chosen, key=lambda u: (u.section != first, u.block, u.index))

    def _whole(self, q: Question, unit: Unit, scored: list[Scored], small_only: bool = False) -> list[Unit]:
        """A unit with what must be quoted with it: its whole FAQ answer, or its whole block when the
        block is short or (unless `small_only`) when the question asks for a whole list."""
        if FAQ.search(unit.section):
            return sorted((s.unit for s in scored if s.unit.section == unit.section), key=lambda u: (u.block, u.index))
        block = sorted((s.unit for s in scored if s.unit.section == unit.section and s.unit.block == unit.block),
                       key=lambda u: u.index)
        chars = sum(length(u.text) for u in block)
        wanted = q.aspect in WHOLE_BLOCK_ASPECTS or (unit.kind == "row" and q.aspect is None)
        if chars <= SMALL_BLOCK or (not small_only and wanted and chars <= MAX_BLOCK_CHARS):
            return block
        return [unit]

    def _aspect_section(self, q: Question, scored: list[Scored]) -> Scored | None:
        """For a question whose answer is a whole section or list (documents, where, how, contact, hours,
        "which ones"), the best unit of the section that the guide keeps that answer in; None if none."""
        if q.aspect not in SECTION_ASPECTS:
            return None
        if q.aspect == "list":
            return self._best_list(scored)
        else:
            names = [n for lang in ("zh", "en") for n in vocabulary()["aspects"][q.aspect]["sections"][lang]]
            fits = [s for s in scored if not FAQ.search(s.unit.section)
                    and any(n in s.unit.section.split(" > ")[0] or n in heading(s.unit.section) for n in names)]
        if q.situations:
            named = [s for s in fits if situations_in(s.unit.section + " " + s.unit.lead + " " + s.unit.text)
                     & q.situations]
            fits = named or fits
        return fits[0] if fits else None

    def _in_aspect_section(self, q: Question, unit: Unit) -> bool:
        """True when the unit's section is one that keeps the asked aspect, or no aspect was asked."""
        if not q.aspects:
            return True
        names = [n for a in q.aspects[:2] for lang in ("zh", "en") for n in vocabulary()["aspects"][a]["sections"][lang]]
        return any(n and (n in unit.section.split(" > ")[0] or n in heading(unit.section)) for n in names)

    def _best_list(self, scored: list[Scored]) -> Scored | None:
        """For "有哪些 / which ones": the enumeration that answers, a list of three or more items or a
        sentence naming three or more things (…、…、…). Lists whose items are named ("**子女教育**：…",
        "普通卡：…") are what such questions want more than numbered steps."""
        items = Counter((s.unit.section, s.unit.block) for s in scored if s.unit.kind == "item")
        named = Counter((s.unit.section, s.unit.block) for s in scored if s.unit.kind == "item"
                        and _NAMED_ITEM.match(s.unit.text))
        enumeration = vocabulary()["enumeration_pattern"]
        best, best_score = None, -1e9
        for s in scored:
            key = (s.unit.section, s.unit.block)
            if items.get(key, 0) >= 3:
                bonus = LIST_BONUS * named.get(key, 0) / items[key]
                if enumeration.search(s.unit.lead) or enumeration.search(heading(s.unit.section)):
                    bonus += LIST_BONUS
            elif s.unit.kind == "sentence" and s.unit.text.count("、") >= 2:
                bonus = 0.0
            else:
                continue
            if s.score + bonus > best_score:
                best, best_score = s, s.score + bonus
        return best

    def _threshold_line(self, q: Question, chosen: list[Unit], lang: str) -> str:
        """For a yes/no or eligibility question ("符合条件不"), one sentence saying which side of a plain
        threshold in the quoted text a stated value is on (a question about an amount is answered by the
        quoted item itself)."""
        if not (q.yesno or "eligibility" in q.aspects) or "amount" in q.aspects or "fees" in q.aspects:
            return ""
        for kind, value in q.values:
            for u in chosen:
                found = conditions(u.text, kind)
                if len(found) == 1:
                    c = found[0]
                    said = {"age": ("岁", " years old"), "years": ("年", " years"), "months": ("个月", " months")}[kind]
                    stated = f"{value}{said[0]}" if lang == "zh" else f"{value}{said[1]}"
                    key = "threshold_meets" if c.holds(value) else "threshold_not"
                    return render(key, lang, condition=c.text, value=stated)
        return ""

    def _related(self, hits: list[Hit], doc: str, citations: list[Citation], parts: list[str], lang: str) -> None:
        best = next((h for h in hits if h.doc == doc), hits[0])
        floor = (best.dense or 0.0) - RELATED_MARGIN
        related = []
        for hit in hits:
            close = hit.dense is not None and hit.dense >= floor
            if close and hit.doc != doc and hit.doc not in {c.doc for c in citations} and len(related) < 2:
                n = len(citations) + 1
                title = hit.chunk.display_title(lang)
                citations.append(Citation(n=n, doc=hit.doc, title=title, section=hit.section,
                                          source_url=hit.chunk.source_url, chunk_id=hit.chunk.id, lang=hit.chunk.lang))
                related.append(f"《{title}》[{n}]" if lang == "zh" else f'"{title}" [{n}]')
        if related:
            parts.append(render("see_also", lang) + ("、".join(related) if lang == "zh" else ", ".join(related)))


def combine(questions: list[str], answers: list[Answer | None], lang: str) -> Answer:
    """One answer for a message that asked several questions: each answered in order under its own
    question, citations numbered across them; a question no guide answers says so."""
    if len(answers) == 1:
        return answers[0]
    parts, citations = [], []
    for number, (question, answer) in enumerate(zip(questions, answers), start=1):
        head = f"**{number}. {question}**"
        if answer is None:
            parts.append(head + "\n" + render("part_not_found", lang))
            continue
        renumber = {}
        for c in answer.citations:
            same = next((k for k in citations if (k.doc, k.section) == (c.doc, c.section)), None)
            if same is None:
                same = replace(c, n=len(citations) + 1)
                citations.append(same)
            renumber[c.n] = same.n
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{renumber.get(int(m.group(1)), m.group(1))}]", answer.text)
        parts.append(head + "\n" + text)
    return Answer(text="\n\n".join(parts), citations=citations, doc=next(a.doc for a in answers if a))
