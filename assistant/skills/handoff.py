"""Hand-off: a ticket for a person, with the masked transcript, its number and the hotline."""

from __future__ import annotations

import secrets
import time

from assistant.services.db import Message, Ticket
from assistant.safety.guardrails import mask_pii
from assistant.core.prompts import render
from assistant.skills.registry import skill

TRANSCRIPT_TURNS = 20


def ticket_number() -> str:
    return "T" + time.strftime("%y%m%d") + secrets.token_hex(3).upper()


@skill(name="handoff", title={"zh": "转人工", "en": "Talk to a person"},
       examples=["找人工客服", "我要人工服务", "让真人来回答", "我要投诉你们这个机器人", "你听不懂，换个人",
                 "talk to a person", "I want to speak to a human", "connect me to an agent", "real person please"],
       cues=[r"人工(?!智能)|真人|客服|(找|要|叫|转).{0,4}工作人员|坐席|\bhuman\b|\bagent\b|real person|operator|speak to (someone|a person)"])
def handle(ctx) -> None:
    """Create a ticket from this session's masked transcript; the citizen gets its number and 12345."""
    sessions = ctx.desk.sessions
    with sessions.begin() as db:
        messages = (db.query(Message).filter_by(session_id=ctx.conversation.id).order_by(Message.id.desc())
                    .limit(TRANSCRIPT_TURNS).all())
        transcript = [{"role": m.role, "text": m.text} for m in reversed(messages)]
        transcript.append({"role": "user", "text": mask_pii(ctx.text)})
        number = ticket_number()
        db.add(Ticket(number=number, session_id=ctx.conversation.id, transcript=transcript,
                      reason="repeated_failure" if "repeated_failure" in ctx.flags else "requested"))
    ctx.end_skill()
    ctx.state["refusals"] = 0
    text = render("handoff", ctx.lang, number=number)
    if "repeated_failure" in ctx.flags:
        text = render("handoff_after_failures", ctx.lang) + text
    ctx.finish(text, "handoff", ticket=number)
