"""Permits and licences: what a certificate needs (from the guides), and an application's status."""

from __future__ import annotations

import re

from assistant.services.db import Application
from assistant.answer.followup import resolve
from assistant.safety.guardrails import lookups_blocked, note_failed_lookup, phone_digits
from assistant.core.prompts import render
from assistant.services.seeds import read
from assistant.skills.registry import skill

NUMBER = re.compile(r"CW\s*-?\s*(\d{4})\s*-?\s*([A-Za-z]{2})\s*-?\s*(\d{7})", re.IGNORECASE)
STATUS_ASK = re.compile(r"进度|进展|状态|办到哪|到哪一步|审核|结果出来|批下来|能领了|查询.{0,4}(申请|办件)|办件|status|progress|application",
                        re.IGNORECASE)


def application_number(text: str) -> str | None:
    m = NUMBER.search(text)
    return f"CW{m.group(1)}-{m.group(2).upper()}-{m.group(3)}" if m else None


def describe(app: Application, lang: str) -> str:
    statuses = read("applications")["statuses"]
    steps = "\n".join(f"- {h['at']} {statuses[h['status']][lang]}" for h in app.history)
    return render("application_status", lang, number=app.number, kind=app.type_name[lang],
                  applicant=app.applicant[lang], status=statuses[app.status][lang], updated=app.updated,
                  note=app.note[lang], steps=steps, file="permits")


def look_up(ctx) -> None:
    """Status by number, checked against the phone on the application; unknown and wrong look the same."""
    slots = ctx.slots
    number = application_number(ctx.query) or slots.get("number")
    phone = phone_digits(ctx.query)
    if not number:
        ctx.ask("application_number", render("ask_number", ctx.lang, file="permits"))
        return
    slots["number"] = number
    if not phone:
        ctx.ask("phone", render("ask_phone", ctx.lang, number=number, file="permits"))
        return
    if lookups_blocked(ctx.state):
        ctx.end_skill()
        ctx.finish(render("too_many_lookups", ctx.lang), "refused")
        return
    with ctx.desk.sessions() as db:
        app = db.get(Application, number)
        matches = app is not None and app.phone_hash == ctx.desk.phone_digest(phone)
        text = describe(app, ctx.lang) if matches else render("not_found", ctx.lang, file="permits")
    if not matches:
        note_failed_lookup(ctx.state)
    ctx.end_skill()
    ctx.finish(text, "answered" if matches else "refused")


@skill(name="permits", title={"zh": "证照办理", "en": "Permits and licences"}, domains=["permits", "household"],
       examples=["查一下我的办件进度", "我的护照办到哪一步了", "申请编号CW2026-PP-0001532的进度", "我的营业执照审核通过了吗",
                 "居住证办好了没有", "我的申请状态", "check my application status", "what is the status of my passport application",
                 "has my business licence been approved", "track my application"],
       cues=[r"CW\s*-?\s*\d{4}", r"(办件|申请|受理).{0,6}(进度|状态|结果)|办到哪|application status|track my application"])
def handle(ctx) -> None:
    """A status question (or an application number) is looked up; anything else is a guide question."""
    if ctx.state.get("awaiting") in ("application_number", "phone") or application_number(ctx.query) \
            or STATUS_ASK.search(ctx.query):
        look_up(ctx)
        return
    ctx.asks = resolve(ctx)
