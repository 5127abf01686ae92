"""Citizen requests: a complaint, help request or suggestion becomes a work order for the department
that owns it; a question goes to guide Q&A; a work order's progress is shown by its number.

The dialogue only: the citizen's words are read in services/report_words.py, the request's slots kept
in services/report_form.py, an order's status written in services/order_status.py, a question asked
alongside answered by answer/aside.py."""

from __future__ import annotations

from assistant.answer.aside import answer_aside
from assistant.core.prompts import render
from assistant.safety.guardrails import mask_pii
from assistant.services import order_status, report_form as form, report_words as words
from assistant.skills.registry import skill


def _t(ctx, key: str, **values) -> str:
    return render(key, ctx.lang, file="report_issue", **values)


def start_report(ctx) -> None:
    """A new request (the dialogue decided it is one): its type and department, then the details; a
    question asked in the same message is answered with it."""
    if ctx.desk.router.cued("handoff", ctx.query):  # "我要投诉这个机器人，找工作人员": a person, now
        ctx.hand_to("handoff")
        return
    found = ctx.state.pop("intake", None) or vars(ctx.desk.intake.classify(ctx.query, ctx.vector))
    slots = ctx.slots
    slots.update(kind=found["kind"] if found["kind"] != "question" else "help", department=found["department"],
                 confidence=found["confidence"])
    if words.bare_request(ctx.query):
        ctx.ask("what", _t(ctx, "ask_what"))
        return
    slots["what"] = mask_pii(ctx.desk.intake.gist(ctx.text))
    form.take_details(slots, ctx.query, ctx.desk.phone_digest)
    proceed(ctx)
    answer_questions_too(ctx)


def answer_questions_too(ctx) -> None:
    """The question parts of a message that is mostly a request, answered under the request's reply."""
    aside = answer_aside(ctx.desk, ctx.query, ctx.lang) if ctx.reply is not None else None
    if aside:
        question, answer = aside
        ctx.reply.text += "\n\n" + _t(ctx, "also_answered", question=question) + "\n" + answer.text
        ctx.reply.citations = answer.citations


def proceed(ctx) -> None:
    """Ask for the first missing detail, one at a time; with everything known, show the summary."""
    missing = form.missing(ctx.slots)
    if missing:
        ctx.ask(missing, form.question(missing, ctx.slots, ctx.lang))
    else:
        ctx.ask("confirm", form.summary(ctx.slots, ctx.lang), confirming="work_order")


def answer_slot(ctx, awaiting: str) -> None:
    """The citizen's answer to the detail asked for; other details in it are kept as well."""
    s, text = ctx.slots, ctx.query.strip()
    if awaiting == "what":
        found = ctx.desk.intake.classify(text, ctx.vector)
        s.update(what=mask_pii(ctx.desk.intake.gist(ctx.text)), department=found.department,
                 confidence=found.confidence)
        if found.kind != "question":
            s["kind"] = found.kind
        form.take_details(s, text, ctx.desk.phone_digest)
    elif not form.take_answer(s, awaiting, text, ctx.desk.phone_digest):
        ctx.ask("phone", _t(ctx, "phone_invalid"))
        return
    proceed(ctx)


def correct(ctx) -> bool:
    """"地址写错了，是人民路12号": replace that detail (or ask for it again) and show the summary again."""
    found = words.correction(ctx.query.strip())
    if found is None:
        return False
    field, value = found
    if field != "what":
        form.correct(ctx.slots, field, value, ctx.query.strip(), ctx.desk.phone_digest)
    elif value:
        request = ctx.desk.intake.classify(value)
        ctx.slots.update(what=mask_pii(value), department=request.department, confidence=request.confidence)
    else:
        ctx.slots.pop("what", None)
    proceed(ctx)
    return True


def confirm(ctx) -> None:
    """File the order after an explicit yes; a repeated yes gets the same order."""
    order, text = form.file(ctx.desk, ctx.slots, session_id=ctx.conversation.id, lang=ctx.lang)
    ctx.end_skill()
    ctx.state["work_orders"] = [*ctx.state.get("work_orders", []), order.number][-5:]
    ctx.state["offer"] = "report_issue"  # a repeated "确认" next turn is told the order is filed
    ctx.finish(text, "answered", work_order=order.number)


def look_up(ctx) -> None:
    """An order's status (see order_status.look_up); the number, or the phone left with it, is asked
    for when the message does not give it."""
    mine = ctx.state.get("work_orders", [])
    found = order_status.look_up(ctx.desk, ctx.query, ctx.slots.get("number") or (mine[-1] if mine else None),
                                 session_id=ctx.conversation.id, lang=ctx.lang)
    if found.number:
        ctx.slots["number"] = found.number
    if found.asks_for:
        ctx.ask(found.asks_for, found.text)
    else:
        ctx.end_skill()
        ctx.finish(found.text, found.status)


@skill(name="report_issue", title={"zh": "市民诉求", "en": "Report a problem"},
       examples=["我们小区门口的路灯坏了好久了", "楼下饭店油烟太大我要投诉", "小区消防通道被车堵死了", "马路上有个大坑很危险",
                 "建议在菜市场旁边加个公交站", "我要反映一个问题", "我要投诉", "公交车司机态度很差", "半夜工地施工太吵了",
                 "公司拖欠工资三个月了", "我上次反映的问题处理得怎么样了", "查询工单进度",
                 "the street light outside my house is broken", "I want to complain about a rude bus driver",
                 "my neighbours play loud music every night", "I'd like to make a suggestion", "I want to report a problem",
                 "what happened to my complaint", "查询工单GD2026-00012345的进度", "GD2026-00012345处理得怎么样了",
                 "what is the status of work order GD2026-00012345", *words.routing_examples()],
       cues=[words.request_cue(), r"投诉|举报|反映|报修|建议|没人管|没人修|扰民|坏了|不亮|堵了|乱停|工单|GD\s*-?\s*\d{4}",
             r"complain|rude|report (a|an|the)|suggest|broken|not working|pothole|too loud|noisy|work order",
             r"^\s*(确认|确定|提交|confirm|submit)\s*[。.!！]?\s*$"])
def handle(ctx) -> None:
    """Route the turn inside the skill: status, a detail asked for, a correction, the confirmation."""
    awaiting = ctx.state.get("awaiting") if ctx.state.get("active") == "report_issue" else None
    if awaiting in ("order_number", "order_phone") or (not awaiting and words.status_question(ctx.query)):
        look_up(ctx)
    elif awaiting not in (None, "what") and ctx.slots.get("kind") and correct(ctx):
        return
    elif awaiting == "confirm":
        if words.is_yes(ctx.query):
            confirm(ctx)
        elif words.is_no(ctx.query):  # "先不提交": nothing is filed
            ctx.end_skill()
            ctx.finish(render("stopped", ctx.lang), "cancelled")
        else:
            ctx.ask("confirm", _t(ctx, "confirm_unclear"), confirming="work_order")
    elif awaiting:
        answer_slot(ctx, awaiting)
    elif words.is_yes(ctx.query):
        mine = ctx.state.get("work_orders", [])
        ctx.finish(_t(ctx, "already_filed", number=mine[-1]) if mine else _t(ctx, "nothing_pending"), "answered")
    else:
        start_report(ctx)
