"""Hospital appointments: suggest a department from symptoms, book after an explicit yes, cancel, list.

Booking fills its slots in order (department, hospital, date, time, name, resident ID, phone), taking
every one a message already gives, and books only after a "yes" to a summary. Cancelling needs the
booking code and the phone it was booked with; listing needs the phone. The state keeps only the
masked ID and the phone's keyed hash. The skill holds the turn: what a message gives is read in
`booking_details`, what to ask next comes from `booking_questions`, the database work is in `booking`.
"""

from __future__ import annotations

from assistant.core import dates
from assistant.core.prompts import render
from assistant.safety import guardrails
from assistant.services import booking, booking_details, booking_questions, clinic_match
from assistant.services import booking_flow as flow, booking_words as words
from assistant.services.booking_questions import Question
from assistant.skills.registry import skill


@skill(name="health_booking", title={"zh": "预约挂号", "en": "Hospital appointments"}, domains=["health"],
       examples=["帮我预约心内科", "帮我约第一人民医院心内科的号", "我要挂中心医院的消化内科",
                 "预约一个眼科的号", "想约个儿科医生", "给孩子挂儿童医院的号", "我要挂金浩然医生的号", "帮我挂一个专家号",
                 "头疼挂什么科", "头疼得厉害挂什么科", "咳嗽好几天了应该看哪个科", "胃痛去医院挂哪个科室", "牙疼挂什么科",
                 "皮肤痒挂什么科", "取消我的预约", "我要取消挂号", "预约的号去不了了，帮我退掉", "查一下我的预约",
                 "我约了哪些号", "看看我挂的号", "book a doctor for Friday", "I'd like to make a hospital appointment",
                 "book cardiology at the First People's Hospital tomorrow morning", "I need to see a dentist next week",
                 "can I get an appointment with a paediatrician", "which department should I see for a headache",
                 "I have a bad cough, what kind of doctor should I see", "cancel my appointment",
                 "I want to cancel my booking", "show my bookings", "what appointments do I have"],
       cues=[r"挂号|预约|挂.{0,3}科|看病|看医生|退号|门诊|appointment|book (a|an) (doctor|appointment)|\bbookings?\b"
             r"|which department|see a doctor|dentist|^\s*(please\s+)?book\b|\b[a-z]+ology\b",
             # short answers to this skill's questions, so that small talk does not take them mid-flow
             r"^\s*(是的?|好的?|对的?|可以|行|嗯|不|不要|不用了?|否|确认|确定|上午|下午|最早的?|yes|no|ok|okay|sure|confirm)"
             r"\s*[。.!！]?\s*$|^\s*(换成|改成|改到|换到)"])
def handle(ctx) -> None:
    """Carry on the flow in progress, or start one: book, cancel, list, or suggest a department."""
    s, awaiting, text = ctx.slots, ctx.state.get("awaiting"), ctx.query
    fresh = ctx.state.get("active") != ctx.skill or not s.get("mode")
    suggested = ctx.state.pop("health_suggested", None) if fresh else None
    if fresh and (flow.yes_or_no(text) == "no" or (flow.yes_or_no(text) == "yes" and not suggested)):
        return ctx.finish(flow.say("idle", ctx.lang), "answered")  # a bare "ok" or "no" with nothing pending
    if not fresh and s["mode"] == "book" and words.CANCEL.search(text) and not words.CODE.search(text):
        return _end(ctx, render("stopped", ctx.lang), "cancelled")
    if flow.for_the_guides(text, fresh):
        return ctx.hand_to("guide_qa")
    mode = flow.mode(text)
    if fresh or (mode != s["mode"] and (mode in ("cancel", "list") or words.BOOK.search(text))):
        ctx.state["slots"] = s = {"mode": mode, **({"codes": suggested} if suggested and mode == "book" else {})}
        awaiting = None
    {"book": _book, "cancel": _cancel, "list": _list, "suggest": _suggest}[s["mode"]](ctx, s, awaiting)


def _end(ctx, text: str, status: str, **data) -> None:
    """The flow is over: forget its slots and reply."""
    ctx.end_skill()
    ctx.finish(text, status, **data)


def _ask(ctx, notes: list[str], question: Question) -> None:
    """Ask the question, after the notes on what could not be used."""
    slot, template, values = question.slot, question.template, dict(question.values)
    if slot == "date":  # the example date in the question is always a few days from today
        values["example"] = dates.example_day(ctx.desk.today(), ctx.lang)
    # what a "yes" would do, so that the page's buttons can say it ("确认取消这个预约" / "保留预约")
    data = {"confirming": "cancel_booking" if template == "cancel_summary" else "booking"} if slot == "confirm" else {}
    ctx.ask(slot, "\n".join(notes + [flow.say(template or f"ask_{slot}", ctx.lang, **values)]), **data)


def _suggest(ctx, s, awaiting) -> None:
    """Departments for the symptoms described; "好的" / "book it" next turn books the first one."""
    found = clinic_match.suggest(ctx.desk.sessions, ctx.query)
    if not found:
        return _end(ctx, flow.say("suggest_none", ctx.lang), "answered")
    ctx.state["health_suggested"] = sorted({c.code for c in found[0][1]})
    ctx.state["offer"] = "health_booking"  # a bare "好的" next turn accepts the offer to book
    groups = flow.suggestion_groups(found, ctx.lang)
    _end(ctx, flow.say("suggest", ctx.lang, groups=groups), "answered", departments=[g["department"] for g in groups])


def _book(ctx, s, awaiting) -> None:
    """Take every detail the message gives; book after a yes to the summary, else ask for what is missing."""
    notes: list[str] = []
    changed = booking_details.absorb(ctx.desk.sessions, s, ctx.query, awaiting=awaiting, today=ctx.desk.today(),
                                     lang=ctx.lang, digest=ctx.desk.phone_digest, notes=notes)
    if awaiting == "confirm" and not changed and "slot" in s:
        answer = flow.yes_or_no(ctx.query)
        if answer == "yes":
            return _commit(ctx, s)
        if answer == "no":
            return _end(ctx, flow.say("declined", ctx.lang), "cancelled")
        notes.append(flow.say("confirm_unclear", ctx.lang))
    _ask(ctx, notes, booking_questions.next_question(ctx.desk.sessions, s, ctx.desk.now(), ctx.lang, notes))
    s.pop("earliest", None)


def _commit(ctx, s) -> None:
    """Book the confirmed slot; a repeated confirmation gets the same booking, a lost race other times."""
    outcome = flow.book_confirmed(ctx.desk.sessions, s, ctx.conversation.id, ctx.desk.now())
    if outcome.status == "taken":
        notes = [flow.say("taken", ctx.lang)]
        return _ask(ctx, notes, booking_questions.next_question(ctx.desk.sessions, s, ctx.desk.now(), ctx.lang, notes))
    if outcome.status in ("duplicate", "limit"):  # the earlier booking is named only to the phone that made it
        code = outcome.appointment.code if outcome.appointment else ""
        return _end(ctx, flow.say(outcome.status, ctx.lang, code=code), "answered")
    shown = flow.shown(outcome.appointment, ctx.lang)
    # this chat made it: cancelling it here needs neither its code nor its phone again
    ctx.state["booked"] = {"code": shown["code"], "phone_hash": s["phone_hash"]}
    _end(ctx, flow.say("booked", ctx.lang, **shown), "booked", code=shown["code"])


def _cancel(ctx, s, awaiting) -> None:
    """Cancel a booking given its code and the phone it was booked with, after a yes to what will go."""
    sessions, notes = ctx.desk.sessions, []
    answer = booking_details.cancel_request(s, ctx.query, awaiting, ctx.state.get("booked"), ctx.lang,
                                            ctx.desk.phone_digest, notes)
    if answer == "no":
        return _end(ctx, flow.say("kept", ctx.lang), "answered")
    if not s.get("code"):
        return _ask(ctx, notes, Question("code"))
    if not s.get("phone_hash"):
        return _ask(ctx, notes, Question("phone", "ask_lookup"))
    if guardrails.lookups_blocked(ctx.state):
        return _end(ctx, render("too_many_lookups", ctx.lang), "refused")
    found = booking.find(sessions, s["code"], s["phone_hash"])
    if found and flow.too_late_to_cancel(found, ctx.desk.now()):
        return _end(ctx, flow.say("too_late", ctx.lang, code=found.code), "answered")
    if found and answer == "yes":
        found = booking.cancel(sessions, s["code"], s["phone_hash"])
        if found:
            if (ctx.state.get("booked") or {}).get("code") == found.code:
                ctx.state.pop("booked")
            return _end(ctx, flow.say("cancelled", ctx.lang, code=found.code), "cancelled", code=found.code)
    if not found:  # the same reply for a wrong code and a wrong phone, so codes cannot be probed
        guardrails.note_failed_lookup(ctx.state)
        return _end(ctx, "\n".join(notes + [flow.say("not_found", ctx.lang)]), "answered")
    _ask(ctx, notes, Question("confirm", "cancel_summary", flow.shown(found, ctx.lang)))


def _list(ctx, s, awaiting) -> None:
    """The active bookings made with the phone the citizen gives, and nobody else's."""
    notes: list[str] = []
    booking_details.identity(s, ctx.query, awaiting, ctx.lang, ctx.desk.phone_digest, notes)
    if not s.get("phone_hash"):
        return _ask(ctx, notes, Question("phone", "ask_lookup"))
    items = booking.bookings_for(ctx.desk.sessions, s["phone_hash"], ctx.desk.today())
    _end(ctx, flow.say("bookings" if items else "no_bookings", ctx.lang, phone=s["phone_masked"],
                       items=[flow.shown(a, ctx.lang) for a in items]), "answered", count=len(items))
