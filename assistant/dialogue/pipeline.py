"""The turn pipeline: the ordered list of steps every message goes through, sharing one context.

    check_input -> triage_emergency -> screen_request -> continue_or_route -> run_skill -> compose_answer
    -> check_output -> record

A step may finish the turn early with `ctx.finish(...)`; the last two steps always run.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Iterator

from assistant.answer import generate
from assistant.answer.extractive import combine
from assistant.answer.followup import Ask
from assistant.core.prompts import render
from assistant.core.types import Reply, Route
from assistant.dialogue.intake import REQUEST
from assistant.dialogue.route import QUESTION, SKILL_THRESHOLD, SWITCH_MARGIN, decide
from assistant.safety import guardrails, injection
from assistant.safety.sensitive import word_list
from assistant.services.booking_words import CODE as BOOKING_CODE
from assistant.services.db import Message
from assistant.services.report_words import speaks_to_the_skill
from assistant.services.workorders import order_number
from assistant.skills import REGISTRY
from assistant.skills.context import TurnContext
from assistant.skills.permits import application_number

log = logging.getLogger("citydesk.dialogue")

SHORT_ANSWER = 12
# a bare yes/no/confirm answers the skill that asked; it never switches to another skill
BARE_ANSWER = re.compile(r"^\s*(是的?|好的?|对的?|可以|行|嗯|不|不是|不要|不用了?|否|确认|确定|提交|yes|no|ok|okay|sure|confirm|submit)"
                         r"\s*[。.!！]?\s*$", re.IGNORECASE)
CANCEL = re.compile(r"^\s*(算了|不约了|不要了|不用了|不办了|取消吧?|退出|停止|不挂了|cancel|never ?mind|stop|forget it|quit)\s*[。.!！]?\s*$",
                    re.IGNORECASE)


def check_input(ctx: TurnContext) -> None:
    """Empty, over-long or binary input gets a clear reply; instructions to the assistant are flagged."""
    problem = guardrails.check_input(ctx.text)
    if problem:
        ctx.canned(problem.reason, "rejected", limit=guardrails.MAX_INPUT_CHARS)
        return
    ctx.query = guardrails.normalize(ctx.text).strip()
    if not re.search(r"[^\W_]", ctx.query):  # only emoji or punctuation: nothing to look up
        ctx.canned("no_words", "answered")
        return
    # a short Latin answer in a conversation ("ok", a name like "Li Lei") keeps the conversation's language
    if not (ctx.state.get("turns") and len(ctx.query) <= SHORT_ANSWER and not guardrails.has_chinese(ctx.query)):
        ctx.lang = guardrails.detect_language(ctx.query, ctx.lang)
    kind = injection.detect(ctx.query)
    if kind:
        # answer the genuine question, if any, without the instruction; else say what the assistant does
        ctx.flags.add("injection")
        log.info("instruction to the assistant (%s) in session %s", kind, ctx.conversation.id)
        ctx.query = injection.strip(ctx.query)
        if len(re.sub(r"\W", "", ctx.query)) < 4:
            ctx.canned("injection", "refused")
            return
    if injection.asks_for_others_data(ctx.query):
        ctx.canned("others_data", "refused")


def screen_request(ctx: TurnContext) -> None:
    """A request that hits the sensitive-word list (forging papers, weapons…) is declined, after emergencies."""
    if ctx.skill != "emergency" and word_list(ctx.desk.settings.sensitive_words).find(ctx.query):
        ctx.flags.add("sensitive")
        ctx.canned("declined", "refused")


def triage_emergency(ctx: TurnContext) -> None:
    """An emergency anywhere in the message wins over everything, including an active skill."""
    found = ctx.desk.triager.triage(ctx.query, ctx.vector)
    ctx.emergency = found.emergency
    if found.fever and not ctx.emergency:
        ctx.flags.add("fever")  # fever with cough: the city's fever clinics, not a plain booking
    if ctx.emergency:
        ctx.skill = "emergency"
        ctx.route = Route(skill="emergency", score=1.0, emergency=ctx.emergency)


def continue_or_route(ctx: TurnContext) -> None:
    """A waiting skill gets the turn unless the citizen cancels or clearly changes topic; else score skills."""
    if ctx.skill:
        return
    active = ctx.state.get("active")
    if active and CANCEL.match(ctx.query):
        ctx.skill = active
        ctx.end_skill()
        ctx.canned("stopped", "cancelled")
        return
    offer = ctx.state.pop("offer", None)
    if offer and not active and BARE_ANSWER.match(ctx.query):  # "好的" to "shall I book it?"
        ctx.skill = offer
        ctx.route = Route(skill=offer, score=1.0)
        return
    if "fever" in ctx.flags and not active:
        ctx.skill = "guide_qa"
        ctx.route = Route(skill="guide_qa", score=1.0)
        return
    scores = ctx.desk.router.score(ctx.query, ctx.vector)
    best, best_score = scores[0]
    runner, runner_score = scores[1]
    named = ("report_issue" if order_number(ctx.query) else "permits" if application_number(ctx.query)
             else "health_booking" if BOOKING_CODE.search(ctx.query) else None)
    if named and not active:  # a work-order, application or booking number names the skill that owns it
        best, best_score = named, 1.0
    if active and active in REGISTRY:
        # a slot answer ("是", "明天", a name) can look like another skill's phrasings: leaving a
        # waiting skill needs that skill's keyword cue as well as a clear probability
        switching = (best not in (active, QUESTION) and best_score >= SKILL_THRESHOLD + SWITCH_MARGIN
                     and ctx.desk.router.cued(best, ctx.query) and not BARE_ANSWER.match(ctx.query))
        if not switching:
            ctx.skill = active
            ctx.route = Route(skill=active, score=1.0, runner_up=best, runner_up_score=best_score)
            return
        ctx.end_skill()
    if best_score < SKILL_THRESHOLD:  # not sure enough to act: a question or a request, whichever is likelier
        best = decide(dict(scores), SKILL_THRESHOLD)
    ctx.skill = best
    if ctx.skill in ("guide_qa", "report_issue") and not (ctx.skill == "report_issue" and speaks_to_the_skill(ctx.query)):
        # a question or a request to the city: the request classifier decides, whatever guide looks similar
        ctx.skill = "report_issue" if _is_request(ctx) else "guide_qa"
    ctx.route = Route(skill=ctx.skill, score=best_score, runner_up=runner if ctx.skill == best else best,
                      runner_up_score=runner_score if ctx.skill == best else best_score,
                      scores=dict(scores))


def _is_request(ctx: TurnContext) -> bool:
    """A complaint, help request or suggestion, in the whole message or in one of its parts ("路灯坏了，
    另外问一下怎么申请公租房" files the street light and answers the question)."""
    intake = ctx.desk.intake
    found = intake.classify(ctx.query, ctx.vector)
    ctx.state["intake"] = {"kind": found.kind, "department": found.department, "confidence": found.confidence}
    if found.request >= REQUEST:
        return True
    piece = intake.part_request(ctx.query)
    if piece:
        ctx.state["intake"] = {"kind": piece.kind, "department": piece.department, "confidence": piece.confidence}
    return piece is not None


def run_skill(ctx: TurnContext) -> None:
    """The chosen skill acts: reads or writes its tables, asks for a slot, or retrieves guides."""
    ctx.hand_to(ctx.skill)


def compose_answer(ctx: TurnContext) -> None:
    """Answer each question of the message from the guide units that answer it, with citations, or say
    that no guide covers it.

    With an LLM configured the answer is generated and streamed (`ctx.answer_stream`), verified
    against the passages, and replaced by the extractive answer when it fails; otherwise extractive.
    """
    asks = ctx.asks or ([Ask(text=ctx.query, vector=ctx.vector, hits=ctx.hits)] if ctx.hits else [])
    answers, used, reasons = [], [], []
    for ask in asks:
        relevant, reason = ask.hits, "nothing_retrieved" if not ask.hits else ""
        if ask.hits and not ask.follow_up and not ctx.desk.scope.answerable(ask.text, ask.vector, ask.hits, ctx.lang):
            relevant, reason = [], "out_of_scope"  # no guide answers it, or it only looks like a guide question
        if ask.antecedent is not None and answers[ask.antecedent] is None:
            relevant, reason = [], "continues_unanswered"  # it continues a question no guide answers
        answer = ctx.desk.composer.compose(ask.text, relevant, ctx.lang, ask.vector) if relevant else None
        answers.append(answer if answer is not None and answer.answerable else None)
        reasons.append(answer.reason if answer is not None and not answer.answerable else reason)
        if answers[-1] is not None:
            used.extend(relevant)
    if not any(answers):
        ctx.state["refusals"] = ctx.state.get("refusals", 0) + 1
        if ctx.state["refusals"] >= 2:
            ctx.flags.add("repeated_failure")
            ctx.hand_to("handoff")
            return
        # why, for evaluators and the log (out_of_scope, no_fees, elsewhere:北京, not_in_guide:5号线…)
        ctx.finish(render("nothing_found", ctx.lang), "refused", refusal=reasons[0] if reasons else "nothing_retrieved")
        return
    last = next(a for a in reversed(answers) if a is not None)
    best = next(h.chunk for h in used if h.doc == last.doc)
    ctx.state["topic"] = {"doc": best.doc, "title": best.title, "domain": best.domain}
    extractive = combine([a.text for a in asks], answers, ctx.lang)
    if ctx.desk.llm is not None:
        question = ctx.query
        if any(a.follow_up for a in asks) and "fever" not in ctx.flags:
            question = _condensed(ctx)  # "what about the fee?" written out whole for the LLM
        ctx.answer_stream = _generated(ctx, question, list({h.chunk.id: h for h in used}.values()), extractive)
        return
    ctx.finish(extractive.text, "answered", extractive.citations, answer_source="extractive")


def _condensed(ctx: TurnContext) -> str:
    """The follow-up as a standalone question, from the citizen's previous message and the topic."""
    previous = next((m["text"] for m in reversed(ctx.desk.history(ctx.conversation.id)) if m["role"] == "user"), "")
    topic = (ctx.state.get("topic") or {}).get("title", "")
    return generate.condense(ctx.desk.llm, ctx.desk.settings, question=ctx.query, previous=previous, topic=topic,
                             lang=ctx.lang)


def _generated(ctx: TurnContext, question: str, relevant: list, extractive) -> Iterator[str]:
    """The LLM answer's drafts, then the turn finished with what the LLM path settled on."""
    outcome = yield from generate.stream_answer(
        ctx.desk.llm, ctx.desk.settings, question=question, typed=ctx.text, lang=ctx.lang, relevant=relevant,
        extractive=extractive, index=ctx.desk.index, embedder=ctx.desk.embedder)
    ctx.finish(outcome.text, "answered", outcome.citations, **outcome.data)


def check_output(ctx: TurnContext) -> None:
    """Every [n] in the reply points to a citation; nothing from the sensitive-word list; no full ID number."""
    reply = ctx.reply
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)}
    if not cited <= {c.n for c in reply.citations}:
        log.warning("reply cites %s but has citations %s; replaced", sorted(cited), [c.n for c in reply.citations])
        ctx.canned("error", "error")
    hit = word_list(ctx.desk.settings.sensitive_words).find(reply.text)
    if hit:
        log.warning("reply in session %s hit the sensitive-word list (%s); replaced", ctx.conversation.id, hit)
        ctx.canned("declined", "refused")
    reply.text = guardrails.mask_resident_ids(reply.text)
    if reply.status != "refused" and reply.status != "handoff":
        ctx.state["refusals"] = 0


def record(ctx: TurnContext) -> None:
    """Store the turn, masked, with its skill, status, citations and timing, and the session state."""
    ctx.reply.latency_ms = (time.perf_counter() - ctx.started) * 1000
    ctx.conversation.lang = ctx.lang
    ctx.conversation.updated = time.time()
    ctx.state["turns"] = ctx.state.get("turns", 0) + 1
    ctx.desk.save_turn(ctx.conversation, [
        Message(session_id=ctx.conversation.id, role="user", text=guardrails.mask_pii(ctx.text or "")[:4000]),
        Message(session_id=ctx.conversation.id, role="assistant", text=guardrails.mask_pii(ctx.reply.text),
                status=ctx.reply.status, skill=ctx.reply.skill,
                citations=[c.as_json() for c in ctx.reply.citations], latency_ms=ctx.reply.latency_ms,
                domain=turn_domain(ctx.reply), kind=ctx.emergency.kind if ctx.emergency else ""),
    ])


def turn_domain(reply) -> str:
    """What a turn was about, for the dashboard: the folder of its first guide, else the skill that answered."""
    doc = reply.citations[0].doc if reply.citations else ""
    return (doc.split("/", 1)[0] if "/" in doc else reply.skill)[:32]


STEPS = [check_input, triage_emergency, screen_request, continue_or_route, run_skill, compose_answer]
FINAL_STEPS = [check_output, record]


def run_turn_stream(ctx: TurnContext) -> Iterator[tuple[str, Any]]:
    """Run the steps in order until one finishes the turn; yield ("draft", text) when an answer is shown
    while the LLM writes a better one, then check and record the reply and yield ("reply", Reply)."""
    for step in STEPS:
        began = time.perf_counter()
        step(ctx)
        ctx.timings[step.__name__] = (time.perf_counter() - began) * 1000
        if ctx.reply is not None or ctx.answer_stream is not None:
            break
    if ctx.answer_stream is not None:
        for draft in ctx.answer_stream:
            yield "draft", guardrails.mask_resident_ids(draft)
    if ctx.reply is None:
        ctx.canned("nothing_found", "refused")
    for step in FINAL_STEPS:
        step(ctx)
    yield "reply", ctx.reply


def run_turn(ctx: TurnContext) -> Reply:
    """The whole turn at once (the stream, drained)."""
    for _ in run_turn_stream(ctx):
        pass
    return ctx.reply
