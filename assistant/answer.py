"""Grounded answers: the extractive composer that quotes the guide section a question asks about."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.knowledge.index import Index
from assistant.prompts import render
from assistant.types import Citation, Hit

# What a citizen can ask about a service, the words that say so, and the guide sections that answer.
# Order matters on ties: the more specific aspect first ("how much" is a fee, not "how").
ASPECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fees": (("多少钱", "费用", "收费", "价格", "花钱", "要钱", "免费", "工本费", "贵不贵", "how much", "fee",
              "cost", "price", "charge", "free of charge", "pay for"), ("收费标准", "Fees")),
    "materials": (("材料", "带什么", "带哪些", "准备什么", "准备哪些", "证件", "资料", "要带", "需要提供", "提交什么",
                   "material", "document", "bring", "paperwork", "what do i need", "required"),
                  ("所需材料", "Required materials")),
    "time": (("多久", "多长时间", "几天", "时限", "多少天", "几个工作日", "要等", "什么时候能", "how long", "processing time",
              "how many days", "when will", "how soon", "take to"), ("办理时限", "Processing time")),
    "where": (("在哪", "哪里", "哪儿", "地点", "地址", "窗口", "去哪", "where", "address", "office", "location"),
              ("办理地点", "Where to apply")),
    "contact": (("电话", "热线", "咨询", "联系", "phone", "contact", "hotline", "call", "number"),
                ("咨询电话", "Contact")),
    "eligibility": (("条件", "谁可以", "能不能办", "能办吗", "资格", "符合", "可以申请吗", "适用", "eligib", "who can",
                     "qualify", "am i allowed", "can i apply"), ("申请条件", "适用对象", "Eligibility", "Who it is for")),
    "how": (("怎么办", "流程", "步骤", "如何办", "怎么申请", "手续", "办理方式", "怎么弄", "怎样", "how do", "how to",
             "how can", "process", "steps", "apply"), ("办理流程", "Process")),
}
MAX_QUOTE_CHARS = 900
RELATED_MARGIN = 0.03  # a guide is offered as related when its similarity is this close to the best


def detect_aspect(question: str) -> str | None:
    """Which aspect of a service the question asks about, or None for a general question."""
    text = question.lower()
    best, best_hits = None, 0
    for aspect, (cues, _) in ASPECTS.items():
        hits = sum(1 for cue in cues if cue in text)
        if hits > best_hits:
            best, best_hits = aspect, hits
    return best


@dataclass
class Answer:
    """A composed answer: text with [n] markers and the citations they refer to."""

    text: str
    citations: list[Citation]


def _matches(section: str, names: tuple[str, ...]) -> bool:
    head = section.split(" > ")[0].strip()
    return any(head == n or head.endswith(n) or head.lower() == n.lower() for n in names)


def _quote(text: str) -> str:
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    cut = text[:MAX_QUOTE_CHARS]
    stop = max(cut.rfind("\n"), cut.rfind("。"), cut.rfind(". "))
    return (cut[: stop + 1] if stop > MAX_QUOTE_CHARS // 2 else cut).rstrip() + " …"


def _faq_answer(hit: Hit) -> bool:
    return bool(re.search(r"(?:^|> )(?:问：|Q: )", hit.section))


def compose_extractive(question: str, hits: list[Hit], index: Index, lang: str) -> Answer:
    """Quote the section of the best guide that the question asks about, with numbered citations."""
    best = hits[0]
    aspect = detect_aspect(question)
    quoted = [best.chunk]
    if aspect and not _faq_answer(best):
        names = ASPECTS[aspect][1]
        wanted = [c for c in index.chunks_of(best.doc) if _matches(c.section, names)]
        if wanted:
            quoted = wanted
    section = quoted[0].section
    if _faq_answer(best):
        section = section.split(" > ")[-1]
    body = "\n".join(c.text for c in quoted)
    citations = [Citation(n=1, doc=best.doc, title=best.chunk.title, section=section,
                          source_url=best.chunk.source_url, chunk_id=quoted[0].id, lang=best.chunk.lang)]
    parts = []
    if lang == "en" and best.chunk.lang != "en":
        parts.append(render("source_in_chinese", "en"))
    parts.append(render("answer_intro", lang, title=best.chunk.title, section=section))
    parts.append(f"{_quote(body)} [1]")
    related = []
    floor = (best.dense or 0.0) - RELATED_MARGIN
    for hit in hits[1:]:
        close = hit.dense is not None and hit.dense >= floor
        if close and hit.doc != best.doc and hit.doc not in {c.doc for c in citations} and len(citations) < 3:
            n = len(citations) + 1
            citations.append(Citation(n=n, doc=hit.doc, title=hit.chunk.title, section=hit.section,
                                      source_url=hit.chunk.source_url, chunk_id=hit.chunk.id, lang=hit.chunk.lang))
            related.append(f"《{hit.chunk.title}》[{n}]" if lang == "zh" else f'"{hit.chunk.title}" [{n}]')
    if related:
        parts.append(render("see_also", lang) + ("、".join(related) if lang == "zh" else ", ".join(related)))
    return Answer(text="\n\n".join(p for p in parts if p), citations=citations)
