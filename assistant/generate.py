"""LLM answers: numbered, delimited passages in the prompt, the answer streamed, verified, or the extractive one.

`stream_answer` yields text deltas as tokens arrive and ends the turn with `ctx.finish`: the LLM's
answer when it passes `verify.problems` (citations renumbered in order of first citation, exactly
the text that was streamed), otherwise the extractive answer, with the reason in the reply's data.
`condense` rewrites a follow-up ("那要多少钱？") as a standalone question for retrieval.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import TYPE_CHECKING, Iterator

from langchain_core.messages import HumanMessage, SystemMessage

from assistant import guardrails, verify
from assistant.extractive import Answer
from assistant.llm import LLMError, complete, stream_text
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
    """The system prompt (with the canary) and the question with its passages numbered from 1, as data."""
    numbered = [{"n": i, "title": escape(c.title, attribute=True),
                 "section": escape(c.section, attribute=True), "text": escape(c.text)}
                for i, c in enumerate(passages, 1)]
    return [SystemMessage(render("system", lang, file="system", canary=CANARY)),
            HumanMessage(render("answer", lang, file="answer", passages=numbered, question=escape(question)))]


class Renumbering:
    """Rewrites citation markers while the answer streams, so passages are numbered in order of first citation.

    An unfinished marker ("[1") and trailing white space are held back until the next delta shows
    what they are; so the streamed deltas add up to exactly the final text.
    """

    HOLD = re.compile(r"[\[【][\d\s,，、]{0,12}$|\s+$")

    def __init__(self) -> None:
        self.order: list[int] = []
        self._pending = ""
        self._started = False

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        if not self._started:
            text = text.lstrip()
        hold = self.HOLD.search(text)
        cut = hold.start() if hold else len(text)
        self._pending = text[cut:]
        out = verify.MARKER.sub(self._marker, text[:cut])
        self._started = self._started or bool(out)
        return out

    def flush(self) -> str:
        out = verify.MARKER.sub(self._marker, self._pending.rstrip())
        self._pending = ""
        return out

    def _marker(self, m: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", m.group(1).strip())]
        self.order.extend(n for n in dict.fromkeys(numbers) if n not in self.order)
        return "".join(f"[{self.order.index(n) + 1}]" for n in numbers)


def stream_answer(ctx: "TurnContext", relevant: list[Hit], extractive: Answer) -> Iterator[str]:
    """Yield the LLM's answer as it is generated; finish the turn with it if verified, else with `extractive`."""
    assistant = ctx.assistant
    passages = given_passages(relevant, extractive, assistant.index)
    condensed = ctx.state.pop("condensed", None)
    question = condensed["question"] if condensed and condensed.get("message") == ctx.query else ctx.query
    messages = answer_messages(guardrails.mask_pii(question), passages, ctx.lang)
    numbering, raw, shown = Renumbering(), [], []
    began, first_ms, reasons = time.perf_counter(), None, []
    try:
        for delta in stream_text(assistant.llm, messages, timeout=assistant.settings.llm_timeout):
            raw.append(delta)
            if verify.leaked_canary("".join(raw), CANARY):
                reasons = ["leaked canary"]
                break
            out = numbering.feed(delta)
            if out:
                first_ms = first_ms or (time.perf_counter() - began) * 1000
                shown.append(out)
                yield out
    except LLMError as exc:
        reasons = [str(exc)]
    if not reasons:
        reasons = verify.problems("".join(raw), passages=[c.embedding_text() for c in passages], canary=CANARY,
                                  typed=ctx.text)
    llm_ms = round((time.perf_counter() - began) * 1000, 1)
    if reasons:
        reason = guardrails.mask_pii("; ".join(reasons))
        log.warning("LLM answer replaced by the extractive one: %s", reason)
        ctx.finish(extractive.text, "answered", extractive.citations, llm="fallback", fallback_reason=reason,
                   llm_ms=llm_ms)
        return
    tail = numbering.flush()
    cited = [passages[n - 1] for n in numbering.order]
    if ctx.lang == "en" and any(c.lang != "en" for c in cited):
        tail += "\n\n" + render("source_in_chinese", "en", file="answer")
    if tail:
        shown.append(tail)
        yield tail
    citations = [Citation(n=i, doc=c.doc, title=c.title, section=c.section, source_url=c.source_url,
                          chunk_id=c.id, lang=c.lang) for i, c in enumerate(cited, 1)]
    ctx.finish("".join(shown), "answered", citations, llm="verified", llm_ms=llm_ms,
               first_token_ms=round(first_ms or llm_ms, 1))


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
