"""The turn pipeline: the ordered list of steps every message goes through, sharing one context."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant import guardrails
from assistant.answer import compose_extractive
from assistant.db import Conversation, Message
from assistant.prompts import render
from assistant.skills import REGISTRY
from assistant.types import Citation, Hit, Reply

if TYPE_CHECKING:
    from assistant.assistant import Assistant

log = logging.getLogger("citydesk.dialogue")


@dataclass
class TurnContext:
    """Everything one turn carries from step to step; `finish` ends the turn with a reply."""

    assistant: "Assistant"
    conversation: Conversation
    text: str
    lang: str
    query: str = ""
    skill: str = ""
    hits: list[Hit] = field(default_factory=list)
    reply: Reply | None = None
    flags: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @property
    def state(self) -> dict[str, Any]:
        return self.conversation.state

    def finish(self, text: str, status: str, citations: list[Citation] | None = None, **data) -> None:
        self.reply = Reply(text=text, status=status, skill=self.skill, citations=list(citations or []),
                           session_id=self.conversation.id, lang=self.lang, data=data)

    def canned(self, key: str, status: str, **values) -> None:
        self.finish(render(key, self.lang, **values), status)


def check_input(ctx: TurnContext) -> None:
    """Empty, over-long or binary input gets a clear reply; instructions to the assistant are flagged."""
    problem = guardrails.check_input(ctx.text)
    if problem:
        ctx.canned(problem.reason, "rejected", limit=guardrails.MAX_INPUT_CHARS)
        return
    ctx.query = guardrails.normalize(ctx.text).strip()
    ctx.lang = guardrails.detect_language(ctx.query, ctx.lang)
    if guardrails.looks_like_injection(ctx.query):
        ctx.flags.add("injection")


def route(ctx: TurnContext) -> None:
    """Choose the skill for this turn."""
    ctx.skill = "guide_qa"


def run_skill(ctx: TurnContext) -> None:
    """The chosen skill acts: reads or writes its tables, asks for a slot, or retrieves guides."""
    REGISTRY[ctx.skill].handle(ctx)


def compose_answer(ctx: TurnContext) -> None:
    """Quote the retrieved guide sections with citations, or say that no guide covers the question."""
    relevant = [h for h in ctx.hits if ctx.assistant.retriever.relevant([h])]
    if not relevant:
        ctx.canned("nothing_found", "refused")
        return
    answer = compose_extractive(ctx.query, relevant, ctx.assistant.index, ctx.lang)
    ctx.finish(answer.text, "answered", answer.citations)


def check_output(ctx: TurnContext) -> None:
    """Every [n] in the reply points to a citation; no full resident ID number is shown."""
    reply = ctx.reply
    numbers = {c.n for c in reply.citations}
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)}
    if not cited <= numbers:
        log.warning("reply cites %s but has citations %s; replaced", sorted(cited), sorted(numbers))
        ctx.canned("error", "error")
    reply.text = guardrails.mask_resident_ids(reply.text)


def record(ctx: TurnContext) -> None:
    """Store the turn, masked, with its skill, status, citations and timing."""
    ctx.reply.latency_ms = (time.perf_counter() - ctx.started) * 1000
    ctx.conversation.lang = ctx.lang
    ctx.conversation.updated = time.time()
    ctx.assistant.save_turn(ctx.conversation, [
        Message(session_id=ctx.conversation.id, role="user", text=guardrails.mask_pii(ctx.text or "")[:4000]),
        Message(session_id=ctx.conversation.id, role="assistant", text=guardrails.mask_pii(ctx.reply.text),
                status=ctx.reply.status, skill=ctx.reply.skill,
                citations=[c.as_json() for c in ctx.reply.citations], latency_ms=ctx.reply.latency_ms),
    ])


STEPS = [check_input, route, run_skill, compose_answer]
FINAL_STEPS = [check_output, record]


def run_turn(ctx: TurnContext) -> Reply:
    """Run the steps in order until one finishes the turn, then check and record the reply."""
    for step in STEPS:
        began = time.perf_counter()
        step(ctx)
        ctx.timings[step.__name__] = (time.perf_counter() - began) * 1000
        if ctx.reply is not None:
            break
    for step in FINAL_STEPS:
        step(ctx)
    return ctx.reply
