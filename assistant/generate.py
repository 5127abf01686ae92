"""LLM answers: numbered, delimited passages in the prompt; the answer attributed claim by claim, or the extractive one.

`stream_answer` yields the extractive answer as a draft, then ends the turn with `ctx.finish`: the
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
from typing import TYPE_CHECKING, Iterator

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from assistant import attribution, guardrails, verify
from assistant.extractive import Answer
from assistant.llm import LLMError, complete, stream_text
from assistant.prompts import data as prompt_data
from assistant.prompts import render
from assistant.types import Chunk, Citation, Hit

if TYPE_CHECKING:
    from assistant.dialogue import TurnContext
    from assistant.knowledge.index import Index

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


def stream_answer(ctx: "TurnContext", relevant: list[Hit], extractive: Answer) -> Iterator[str]:
    """Yield the extractive answer as a draft at once; then ask the LLM, attribute its answer claim by claim
    (`attribution`) and finish the turn with it when verified or repaired, else with `extractive`.

    Nothing the LLM writes reaches a citizen before it is checked: the draft is the extractive answer.
    """
    assistant, settings = ctx.assistant, ctx.assistant.settings
    passages = given_passages(relevant, extractive, assistant.index)
    texts = [c.embedding_text() for c in passages]
    condensed = ctx.state.pop("condensed", None)
    question = condensed["question"] if condensed and condensed.get("message") == ctx.query else ctx.query
    messages = answer_messages(guardrails.mask_pii(question), passages, ctx.lang)
    yield extractive.text
    raw, began, first_ms, reasons = [], time.perf_counter(), None, []
    try:
        for delta in stream_text(assistant.llm, messages, timeout=settings.llm_timeout,
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
    reasons = reasons or verify.problems(answer, passages=texts, canary=CANARY, typed=ctx.text)
    result = None if reasons else attribution.attribute(answer, texts, question=ctx.text,
                                                        embed=assistant.embedder.query_many)
    timing = {"llm_ms": round((time.perf_counter() - began) * 1000, 1),
              "first_token_ms": round(first_ms, 1) if first_ms else None}
    if result is None or result.status == "fallback":
        reason = guardrails.mask_pii("; ".join(reasons) if reasons else result.reason)
        log.info("LLM answer: fallback (%s) in %s ms", reason, timing["llm_ms"])
        ctx.finish(extractive.text, "answered", extractive.citations, answer_source="extractive",
                   verification="fallback", verification_reason=reason, **timing)
        return
    text, order = result.text()
    cited = [passages[i] for i in order]
    if ctx.lang == "en" and any(c.lang != "en" for c in cited):
        text += "\n\n" + render("source_in_chinese", "en", file="answer")
    citations = [Citation(n=i, doc=c.doc, title=c.title, section=c.section, source_url=c.source_url,
                          chunk_id=c.id, lang=c.lang) for i, c in enumerate(cited, 1)]
    reason = guardrails.mask_pii(result.reason)
    log.info("LLM answer: %s%s in %s ms", result.status, f" ({reason})" if reason else "", timing["llm_ms"])
    ctx.finish(text, "answered", citations, answer_source="llm", verification=result.status,
               verification_reason=reason, **timing)


def condense(ctx: "TurnContext", *, fallback: str) -> str:
    """The follow-up in `ctx` as a standalone question, written by the LLM; `fallback` when it cannot."""
    topic = ctx.state.get("topic") or {}
    previous = next((m["text"] for m in reversed(ctx.assistant.history(ctx.conversation.id)) if m["role"] == "user"),
                    "")
    messages = [HumanMessage(render("condense", ctx.lang, file="condense", previous=escape(previous),
                                    topic=escape(topic.get("title", "")),
                                    question=escape(guardrails.mask_pii(ctx.query))))]
    try:
        text = complete(ctx.assistant.llm, messages, timeout=ctx.assistant.settings.llm_timeout)
    except LLMError as exc:
        log.warning("follow-up not condensed (%s); using %r", exc, guardrails.mask_pii(fallback))
        return fallback
    question = _clean_question(text)
    if not question:
        log.warning("follow-up not condensed (unusable output); using %r", guardrails.mask_pii(fallback))
        return fallback
    ctx.state["condensed"] = {"message": ctx.query, "question": question}
    return question


def _clean_question(text: str) -> str:
    """The first line of the LLM's output without quotes or a label; "" when it is not a plausible question."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone question|question|rewritten question|独立问题|改写后的问题|问题)\s*[:：]\s*", "",
                  line, flags=re.IGNORECASE)
    line = line.strip(" \"'“”‘’「」")
    if not line or len(line) > MAX_QUESTION_CHARS or "<" in line or verify.leaked_canary(line, CANARY):
        return ""
    return line
