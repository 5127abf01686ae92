"""LLM answers: numbered, delimited passages in the prompt; the answer attributed claim by claim, or the extractive one.

`stream_answer` yields the extractive answer as a draft, then returns an `Outcome`: the
LLM's answer when `verify.problems` finds nothing and `attribution` verifies or repairs it (the
citations written from the attribution, whatever markers the model wrote), otherwise the extractive
answer. `Reply.data` says which: answer_source, verification and verification_reason.
`condense` rewrites a follow-up ("那要多少钱？") as a standalone question for retrieval.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generator

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from assistant.answer import attribution, verify
from assistant.answer.attribution import entail
from assistant.answer.extractive import Answer
from assistant.answer.llm import LLMError, complete, stream_text
from assistant.core.prompts import data as prompt_data
from assistant.core.prompts import render
from assistant.core.types import Chunk, Citation, Hit
from assistant.safety import guardrails

if TYPE_CHECKING:
    from assistant.core.config import Settings
    from assistant.knowledge.index import Index
    from assistant.search.embed import Embedder

log = logging.getLogger("citydesk.generate")

CANARY = f"CD-CANARY-{secrets.token_hex(8)}"  # one per process; an answer that contains it is never shown
MAX_PASSAGES = 5
MAX_QUESTION_CHARS = 200


def given_passages(relevant: list[Hit], extractive: Answer, index: "Index") -> list[Chunk]:
    """The passages the LLM sees: the section the extractive answer quotes first, then the rest of that
    guide (its retrieved chunks first), keeping the last place for the best hit of another guide."""
    first = extractive.citations[0]
    guide = index.chunks_of(first.doc)
    quoted = [c for c in guide if c.id == first.chunk_id or c.section == first.section]
    own = [h.chunk for h in relevant if h.doc == first.doc]
    others = [h.chunk for h in relevant if h.doc != first.doc]
    chunks: dict[str, Chunk] = {}
    for chunk in quoted + own + guide:
        if len(chunks) < MAX_PASSAGES - (1 if others else 0):
            chunks.setdefault(chunk.id, chunk)
    for chunk in others:
        if len(chunks) < MAX_PASSAGES:
            chunks.setdefault(chunk.id, chunk)
    return list(chunks.values())


def escape(text: str, *, attribute: bool = False) -> str:
    """Text that cannot open or close a delimiter in the prompt (digits untouched, unlike HTML escaping)."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "'") if attribute else text


def answer_messages(question: str, passages: list[Chunk], lang: str) -> list:
    """The system prompt (with the canary), one worked example exchange (prompts/answer.yaml `example`),
    then the question with its passages numbered from 1, as data."""
    numbered = [{"n": i, "title": escape(c.title, attribute=True),
                 "section": escape(c.section, attribute=True), "text": escape(c.text)}
                for i, c in enumerate(passages, 1)]
    example = prompt_data("example", lang, file="answer")
    return [SystemMessage(render("system", lang, file="system", canary=CANARY)),
            HumanMessage(render("answer", lang, file="answer", passages=example["passages"],
                                question=example["question"])),
            AIMessage(example["answer"]),
            HumanMessage(render("answer", lang, file="answer", passages=numbered, question=escape(question)))]


@dataclass
class Outcome:
    """What the LLM path settled on: the text shown, its citations, and how it was reached (Reply.data)."""

    text: str
    citations: list[Citation]
    data: dict = field(default_factory=dict)


def stream_answer(llm, settings: "Settings", *, question: str, typed: str, lang: str, relevant: list[Hit],
                  extractive: Answer, index: "Index", embedder: "Embedder") -> Generator[str, None, Outcome]:
    """Yield the extractive answer as a draft at once; then ask the LLM, attribute its answer claim by claim
    (`attribution`) and return it when verified or repaired, else `extractive`.

    `question` is what the LLM is asked (a follow-up already written out whole), `typed` the citizen's own
    words (numbers they typed may be repeated). Nothing the LLM writes reaches a citizen before it is
    checked: the draft is the extractive answer.
    """
    passages = given_passages(relevant, extractive, index)
    texts = [c.embedding_text() for c in passages]
    messages = answer_messages(guardrails.mask_pii(question), passages, lang)
    yield extractive.text
    raw, began, first_ms, reasons = [], time.perf_counter(), None, []
    try:
        for delta in stream_text(llm, messages, timeout=settings.llm_timeout,
                                 first_timeout=settings.llm_first_token_timeout):
            first_ms = first_ms or (time.perf_counter() - began) * 1000
            raw.append(delta)
            if verify.leaked_canary("".join(raw), CANARY):
                reasons = ["leaked canary"]
                break
    except LLMError as exc:
        reasons = [str(exc)]
    answer = "".join(raw)
    if log.isEnabledFor(logging.DEBUG):  # for bench/llm_path.py's hand judging; never shown
        log.debug("LLM wrote: %s", guardrails.mask_pii(answer))
    reasons = reasons or verify.problems(answer, passages=texts, canary=CANARY, typed=typed)
    result = None if reasons else attribution.attribute(answer, texts, question=typed, embed=embedder.query_many,
                                                                  checker=entail.versioned_model(embedder.name, settings.home)
                                                                  if settings.llm_pair_check else None)
    timing = {"llm_ms": round((time.perf_counter() - began) * 1000, 1),
              "first_token_ms": round(first_ms, 1) if first_ms else None}
    if result is None or result.status == "fallback":
        reason = guardrails.mask_pii("; ".join(reasons) if reasons else result.reason)
        log.info("LLM answer: fallback (%s) in %s ms", reason, timing["llm_ms"])
        return Outcome(extractive.text, extractive.citations, {
            "answer_source": "extractive", "verification": "fallback", "verification_reason": reason, **timing})
    text, order = result.text()
    cited = [passages[i] for i in order]
    if lang == "en" and any(c.lang != "en" for c in cited):
        text += "\n\n" + render("source_in_chinese", "en", file="answer")
    citations = [Citation(n=i, doc=c.doc, title=c.display_title(lang), section=c.section, source_url=c.source_url,
                          chunk_id=c.id, lang=c.lang) for i, c in enumerate(cited, 1)]
    reason = guardrails.mask_pii(result.reason)
    log.info("LLM answer: %s%s in %s ms", result.status, f" ({reason})" if reason else "", timing["llm_ms"])
    return Outcome(text, citations, {"answer_source": "llm", "verification": result.status,
                                     "verification_reason": reason, **timing})


def condense(llm, settings: "Settings", *, question: str, previous: str, topic: str, lang: str) -> str:
    """The follow-up `question` as a standalone question, written by the LLM from the citizen's previous
    message and the conversation's topic; `question` itself when it cannot."""
    messages = [HumanMessage(render("condense", lang, file="condense", previous=escape(previous),
                                    topic=escape(topic), question=escape(guardrails.mask_pii(question))))]
    try:
        text = complete(llm, messages, timeout=settings.llm_timeout)
    except LLMError as exc:
        log.warning("follow-up not condensed (%s); using %r", exc, guardrails.mask_pii(question))
        return question
    standalone = _clean_question(text)
    if not standalone:
        log.warning("follow-up not condensed (unusable output); using %r", guardrails.mask_pii(question))
        return question
    return standalone


def _clean_question(text: str) -> str:
    """The first line of the LLM's output without quotes or a label; "" when it is not a plausible question."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone question|question|rewritten question|独立问题|改写后的问题|问题)\s*[:：]\s*", "",
                  line, flags=re.IGNORECASE)
    line = line.strip(" \"'“”‘’「」")
    if not line or len(line) > MAX_QUESTION_CHARS or "<" in line or verify.leaked_canary(line, CANARY):
        return ""
    return line
