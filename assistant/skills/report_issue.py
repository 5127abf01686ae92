"""Citizen requests: a complaint, help request or suggestion becomes a work order for the department
that owns it; a question goes to guide Q&A; a work order's progress is shown by its number."""

from __future__ import annotations

import re

from assistant.services import workorders
from assistant.answer.question import split_questions
from assistant.safety.guardrails import mask_pii, phone_digits
from assistant.core.prompts import render
from assistant.skills.registry import skill

DISTRICTS = {"江北区": ("江北", "jiangbei"), "江南区": ("江南", "jiangnan"), "东湖区": ("东湖", "donghu"),
             "西山区": ("西山", "xishan"), "滨江新区": ("滨江", "binjiang"), "高新区": ("高新", "hi-tech", "high-tech"),
             "青溪县": ("青溪", "qingxi")}
DISTRICT_EN = {"江北区": "Jiangbei District", "江南区": "Jiangnan District", "东湖区": "Donghu District",
               "西山区": "Xishan District", "滨江新区": "Binjiang New Area", "高新区": "Hi-tech Zone",
               "青溪县": "Qingxi County"}
_PLACE = re.compile(r"([\u4e00-\u9fff0-9A-Za-z]{1,12}?(?:路|街|大道|巷|弄|胡同|小区|花园|公寓|家园|新村|苑|广场|公园|市场|"
                    r"菜场|中学|小学|幼儿园|医院|地铁站|车站|公交站|村|大厦|商场|桥|工业园)(?:\d+(?:号楼?|栋|幢|单元))*(?:\d+号)?)")
_PLACE_EN = re.compile(r"(?:\d+\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Park|Square|Station|"
                       r"School|Market|Plaza|Bridge|Estate|Gardens?|Village|Mall|Hospital)\b(?:\s+(?:No\.?\s*)?\d+)?")
_NOT_A_NAME = re.compile(r"^(?:我们|我家|我|咱们|家|在|到|的|这个|那个|这条|那条|这|那|附近|门口|对面|旁边|隔壁|楼下|"
                         r"一个|每个|好几个|有个|的|是|了|改成|改为|应该|写错|地址|位置|路)+")
_SINCE = re.compile(r"((?:\d+|[一二两三四五六七八九十半几好]+)\s*个?多?\s*(?:天|日|周|星期|礼拜|月|年|小时|晚上?)(?:多)?(?:了|以来)?|"
                    r"昨天|昨晚|前天|今天|今早|今晚|刚才|刚刚|上周|上个?星期|上个?月|去年|最近|这几天|这段时间|每天|天天|每晚|"
                    r"一直|长期|经常|很久|\d+月\d+[日号]?)")
_SINCE_EN = re.compile(r"(for (?:about |over |almost )?(?:\d+|a|an|one|two|three|four|five|several|a few|many) "
                       r"(?:days?|weeks?|months?|years?|hours?|nights?)|since [\w ]{2,20}|yesterday|last (?:night|week|month|year)|"
                       r"this (?:morning|week)|today|every (?:day|night)|for ages|for a while|recently|always)", re.I)
_BARE = re.compile(r"^(我要|我想|想|要|帮我)?(投诉|举报|反映|求助|报修|提建议|提个建议|反映问题|反映个?情况)(一下|个问题|一件事|个事)?[。!！]?$|"
                   r"^(i (want|would like|'d like) to )?(make |file |lodge )?(a )?(complain|complaint|report( a problem| an issue)?|"
                   r"suggestion|make a suggestion)\.?$", re.I)
_STATUS = re.compile(r"(上次|之前|以前|前几天|前些天|我)(反映|投诉|举报|报修|提交|提|报)(过)?的.{0,10}(怎么样|进展|进度|处理得?|结果|回复|"
                     r"解决|有消息)|工单.{0,6}(进度|状态|查询|怎么样)|查.{0,4}工单|(status|progress) of (my )?(complaint|report|"
                     r"request|work order)|what happened (to|with) my (complaint|report|request)|my (complaint|report|work order) "
                     r"(status|progress)|(update|news) on my (complaint|report|request)", re.I)
_YES = re.compile(r"^(确认|确定|是的?|对的?|没错|没问题|提交|可以|好的?|嗯|yes|y|yep|yeah|ok(ay)?|confirm(ed)?|submit|"
                  r"correct|sure)(提交|无误|吧|的)?[\s。.!！]*$", re.I)
_NO = re.compile(r"^(不|否|不要|不用|不了|算了|先不提交|不提交|no|nope|don'?t submit)[\s。.!！]*$", re.I)
_ANONYMOUS = re.compile(r"匿名|不留|不想留|不用留|不方便|算了不留|不用|不要|没有|anonym|no(ne| thanks| number)?$|skip|rather not|don'?t",
                        re.I)
_CORRECTION = re.compile(r"写错|不对|错了|有误|改成|改为|应该是|更正|修改|改一下|wrong|mistake|correct(ion)?|should be|change|actually",
                         re.I)
_FIELDS = (("phone", re.compile(r"电话|手机|号码|phone|mobile|number", re.I)),
           ("district", re.compile(r"哪个区|区(写|不对|错)|district", re.I)),
           ("address", re.compile(r"地址|位置|地点|地方|路名|门牌|小区|address|location|place|street", re.I)),
           ("since", re.compile(r"时间|多久|开始|日期|几天|since|date|time|when|started", re.I)),
           ("what", re.compile(r"内容|描述|情况|问题|description|what happened|problem", re.I)))
_VALUE_AFTER = re.compile(r"^[了的\s,，:：]*(?:应该是|改成|改为|是|为|it'?s|it is|should be|to)?\s*(.+)$", re.I)
ORDER = ("what", "district", "address", "since", "phone")
GENERIC_WORDS = {"帮忙", "求助", "天天", "每天", "半夜", "凌晨", "欠", "吼", "不管", "不给", "help", "always", "until", "keeps",
                 "every day", "every night", "refused", "can someone", "why not", "recommend", "能否"}


def routing_examples() -> list[str]:
    """The example requests of seeds/departments.yaml (complaints, help requests, suggestions), for the router."""
    data = workorders.rules()
    specs = [data["types"][k] for k in ("complaint", "help", "suggestion")] + data["departments"]
    return [text for spec in specs for lang in ("zh", "en") for text in spec["examples"][lang]]


def request_cue() -> str:
    """A cue for the router: the complaint, help and suggestion words of seeds/departments.yaml, without
    the few that ordinary questions use as well."""
    types = workorders.rules()["types"]
    words = [w for k in ("complaint", "help", "suggestion") for lang in ("zh", "en") for w in types[k]["cues"][lang]
             if w not in GENERIC_WORDS]
    return "|".join(re.escape(w) if not w.isascii() else r"\b" + re.escape(w) for w in words)


def _t(ctx, key: str, **values) -> str:
    return render(key, ctx.lang, file="report_issue", **values)


def find_district(text: str) -> str:
    low = text.lower()
    return next((zh for zh, names in DISTRICTS.items() if zh in text or any(n in low for n in names)), "")


def find_place(text: str) -> str:
    """A street, estate or landmark named in the text ("人民路12号", "翠湖小区"), without the district."""
    for zh in DISTRICTS:
        text = text.replace(zh, " ")
    for m in _PLACE.finditer(text):
        place = _NOT_A_NAME.sub("", m.group(1))
        if len(place) >= 3:
            return place
    m = _PLACE_EN.search(text)
    return m.group(0).strip() if m else ""


def find_since(text: str) -> str:
    m = _SINCE.search(text) or _SINCE_EN.search(text)
    return m.group(0).strip() if m else ""


def _district_label(ctx, zh: str) -> str:
    return zh if ctx.lang == "zh" else DISTRICT_EN.get(zh, zh)


def keep_phone(ctx, slots: dict, phone: str | None) -> None:
    """A phone is kept only masked and as a keyed hash; none (anonymous) is an empty one."""
    slots["phone"] = mask_pii(phone) if phone else ""
    slots["phone_hash"] = ctx.desk.phone_digest(phone) if phone else ""


def take_details(ctx, text: str, slots: dict) -> None:
    """Fill any empty slot the text mentions: district, place, since when, a phone number."""
    for name, value in (("district", find_district(text)), ("address", find_place(text)), ("since", find_since(text))):
        if value and not slots.get(name):
            slots[name] = value
    if phone_digits(text) and not slots.get("phone"):
        keep_phone(ctx, slots, phone_digits(text))


def status_question(text: str) -> bool:
    """"我上次反映的问题处理得怎么样了", "GD2026-… 处理到哪了": a question about a filed order."""
    return bool(_STATUS.search(text) or workorders.order_number(text))


def speaks_to_the_skill(text: str) -> bool:
    """A status question, a bare "我要投诉" or a repeated "确认" after filing: said to this skill itself,
    so the skill answers it, not the request classifier."""
    return status_question(text) or bool(_YES.match(text.strip()) or _BARE.match(text.strip()))


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
    if _BARE.match(ctx.query.strip()):
        ctx.ask("what", _t(ctx, "ask_what"))
        return
    slots["what"] = mask_pii(ctx.desk.intake.gist(ctx.text))
    take_details(ctx, ctx.query, slots)
    proceed(ctx)
    answer_questions_too(ctx)


def answer_questions_too(ctx) -> None:
    """The question parts of a message that is mostly a request, answered under the request's reply."""
    parts = split_questions(ctx.query)
    if len(parts) < 2 or ctx.reply is None:
        return
    for part in parts:
        if ctx.desk.intake.classify(part).kind != "question":
            continue
        vector = ctx.desk.embedder.query(part)
        hits = ctx.desk.retriever.retrieve(part, k=5, vector=vector)
        if not ctx.desk.scope.answerable(vector, hits, ctx.lang):
            continue
        answer = ctx.desk.composer.compose(part, hits, ctx.lang, vector)
        if answer.answerable:
            reply = ctx.reply
            reply.text += "\n\n" + _t(ctx, "also_answered", question=part) + "\n" + answer.text
            reply.citations = answer.citations
            return


def proceed(ctx) -> None:
    """Ask for the first missing detail, one at a time; with everything known, show the summary."""
    s = ctx.slots
    kind = workorders.rules()["types"][s["kind"]]["label"][ctx.lang]
    missing = next((name for name in ORDER if name not in s or (name != "phone" and not s[name])), None)
    if missing == "what":
        ctx.ask("what", _t(ctx, "ask_what"))
    elif missing in ("district", "address") and not s.get("district") and not s.get("address"):
        ctx.ask("where", _t(ctx, "ask_where", kind=kind, what=s["what"]))
    elif missing in ("district", "address", "since", "phone"):
        ctx.ask(missing, _t(ctx, f"ask_{missing}"))
    else:
        dept = workorders.departments()[s["department"]]
        summary = _t(ctx, "summary", kind=kind, what=s["what"], district=_district_label(ctx, s["district"]),
                     address=s["address"], since=s["since"], department=dept["name"][ctx.lang],
                     hours=dept["hours"], phone=s["phone"] or _t(ctx, "anonymous"))
        ctx.ask("confirm", summary, confirming="work_order")


def answer_slot(ctx, awaiting: str) -> None:
    """The citizen's answer to the detail asked for; other details in it are kept as well."""
    s, text = ctx.slots, ctx.query.strip()
    if awaiting == "what":
        found = ctx.desk.intake.classify(text, ctx.vector)
        s.update(what=mask_pii(ctx.desk.intake.gist(ctx.text)), department=found.department,
                 confidence=found.confidence)
        if found.kind != "question":
            s["kind"] = found.kind
    elif awaiting == "phone":
        phone = phone_digits(text)
        if not phone and not _ANONYMOUS.search(text):
            ctx.ask("phone", _t(ctx, "phone_invalid"))
            return
        keep_phone(ctx, s, phone)
    elif awaiting in ("where", "district", "address"):
        s["district"] = find_district(text) or s.get("district", "")
        rest = text
        for zh, names in DISTRICTS.items():
            for n in (zh, *names):
                rest = re.sub(re.escape(n) + r"(\s*(district|new area|zone|county))?", "", rest, flags=re.I)
        rest = re.sub(r"^[\s,，。.、]*(在|是|in|at)?\s*", "", rest, flags=re.I).strip(" ,，。.、")
        place = find_place(text)
        if place and (find_since(text) or phone_digits(text)):
            s["address"] = place
        elif len(rest) >= 2:
            s["address"] = mask_pii(rest)[:200]
    elif awaiting == "since":
        s["since"] = find_since(text) or mask_pii(text)[:64]
    take_details(ctx, text, s)
    proceed(ctx)


def correct(ctx) -> bool:
    """"地址写错了，是人民路12号": replace that detail (or ask for it again) and show the summary again."""
    text = ctx.query.strip()
    if not _CORRECTION.search(text):
        return False
    field = next((name for name, pattern in _FIELDS if pattern.search(text)), None)
    if field is None:
        return False
    s = ctx.slots
    m = _VALUE_AFTER.search(_CORRECTION.split(text, maxsplit=1)[-1])
    value = (m.group(1) if m else "").strip(" 。.!！")
    if field == "phone":
        s.pop("phone", None)
        if phone_digits(text):
            keep_phone(ctx, s, phone_digits(text))
    elif field in ("district", "address"):
        s["district"] = find_district(text) or s.get("district", "")
        place = find_place(value or text)
        if field == "address":
            s["address"] = place or (mask_pii(value)[:200] if len(value) >= 2 else "")
    elif field == "since":
        s["since"] = find_since(value) or mask_pii(value)[:64]
    elif value:
        found = ctx.desk.intake.classify(value)
        s.update(what=mask_pii(value), department=found.department, confidence=found.confidence)
    else:
        s.pop("what", None)
    proceed(ctx)
    return True


def confirm(ctx) -> None:
    """File the order after an explicit yes; a repeated yes gets the same order."""
    s = ctx.slots
    order, _ = workorders.file_order(
        ctx.desk, session_id=ctx.conversation.id, lang=ctx.lang, kind=s["kind"], department=s["department"],
        confidence=s.get("confidence", 0.0), description=s["what"], district=s["district"], address=s["address"],
        since=s["since"], phone_hash=s["phone_hash"], phone_masked=s["phone"])
    dept = workorders.departments()[order.department]
    ctx.end_skill()
    ctx.state["work_orders"] = [*ctx.state.get("work_orders", []), order.number][-5:]
    ctx.state["offer"] = "report_issue"  # a repeated "确认" next turn is told the order is filed
    ctx.finish(_t(ctx, "filed", number=order.number, department=dept["name"][ctx.lang], hours=dept["hours"],
                  due=workorders.when(ctx.desk, order.due), phone=bool(order.phone_hash)),
               "answered", work_order=order.number)


def describe(ctx, order, full: bool) -> str:
    lang = ctx.lang
    steps = "\n".join(f"- {workorders.when(ctx.desk, e['at'])} "
                      + _t(ctx, "state_" + e["state"], department=workorders.department_name(e["department"], lang))
                      + (f"：{e['note']}" if e["note"] and lang == "zh" else f": {e['note']}" if e["note"] else "")
                      for e in order.history)
    return _t(ctx, "status", number=order.number, kind=workorders.rules()["types"][order.kind]["label"][lang],
              what=order.description if full else "", department=workorders.department_name(order.department, lang),
              state=_t(ctx, "state_now_dispatched" if order.state == "dispatched" else "state_" + order.state),
              overdue=workorders.overdue(order), reply=order.reply, steps=steps)


def look_up(ctx) -> None:
    """Status by number: this session's own orders at once, an anonymous one without its details,
    any other only with the phone left with it (unknown and wrong look the same)."""
    s = ctx.slots
    mine = ctx.state.get("work_orders", [])
    number = workorders.order_number(ctx.query) or s.get("number") or (mine[-1] if mine else None)
    phone = phone_digits(ctx.query)
    if not number and phone:  # a phone without a number: the open orders filed with that phone
        orders = workorders.open_orders_of(ctx.desk, ctx.desk.phone_digest(phone))
        if len(orders) != 1:
            ctx.end_skill()
            listed = "\n".join(f"- {o.number} · {workorders.rules()['types'][o.kind]['label'][ctx.lang]} · "
                               + _t(ctx, "state_" + o.state, department=workorders.department_name(o.department, ctx.lang))
                               + f" · {workorders.when(ctx.desk, o.created)}" for o in orders)
            ctx.finish(_t(ctx, "orders_of_phone", orders=listed) if orders else _t(ctx, "none_of_phone"), "answered")
            return
        number = orders[0].number
    if not number:
        ctx.ask("order_number", _t(ctx, "ask_number"))
        return
    s["number"] = number
    order = workorders.find(ctx.desk, number)
    if order is not None and order.phone_hash and order.session_id != ctx.conversation.id and not phone:
        ctx.ask("order_phone", _t(ctx, "ask_order_phone", number=number))
        return
    own = order is not None and (order.session_id == ctx.conversation.id
                                 or (phone and order.phone_hash == ctx.desk.phone_digest(phone)))
    shown = order is not None and (own or not order.phone_hash)
    ctx.end_skill()
    ctx.finish(describe(ctx, order, full=own) if shown else _t(ctx, "not_found"), "answered" if shown else "refused")


@skill(name="report_issue", title={"zh": "市民诉求", "en": "Report a problem"},
       examples=["我们小区门口的路灯坏了好久了", "楼下饭店油烟太大我要投诉", "小区消防通道被车堵死了", "马路上有个大坑很危险",
                 "建议在菜市场旁边加个公交站", "我要反映一个问题", "我要投诉", "公交车司机态度很差", "半夜工地施工太吵了",
                 "公司拖欠工资三个月了", "我上次反映的问题处理得怎么样了", "查询工单进度",
                 "the street light outside my house is broken", "I want to complain about a rude bus driver",
                 "my neighbours play loud music every night", "I'd like to make a suggestion", "I want to report a problem",
                 "what happened to my complaint", "查询工单GD2026-00012345的进度", "GD2026-00012345处理得怎么样了",
                 "what is the status of work order GD2026-00012345", *routing_examples()],
       cues=[request_cue(), r"投诉|举报|反映|报修|建议|没人管|没人修|扰民|坏了|不亮|堵了|乱停|工单|GD\s*-?\s*\d{4}",
             r"complain|rude|report (a|an|the)|suggest|broken|not working|pothole|too loud|noisy|work order",
             r"^\s*(确认|确定|提交|confirm|submit)\s*[。.!！]?\s*$"])
def handle(ctx) -> None:
    """Route the turn inside the skill: status, a detail asked for, a correction, the confirmation."""
    awaiting = ctx.state.get("awaiting") if ctx.state.get("active") == "report_issue" else None
    if awaiting in ("order_number", "order_phone") or (not awaiting and (_STATUS.search(ctx.query)
                                                                         or workorders.order_number(ctx.query))):
        look_up(ctx)
    elif awaiting not in (None, "what") and ctx.slots.get("kind") and correct(ctx):
        return
    elif awaiting == "confirm":
        if _YES.match(ctx.query.strip()):
            confirm(ctx)
        elif _NO.match(ctx.query.strip()):  # "先不提交": nothing is filed
            ctx.end_skill()
            ctx.finish(render("stopped", ctx.lang), "cancelled")
        else:
            ctx.ask("confirm", _t(ctx, "confirm_unclear"), confirming="work_order")
    elif awaiting:
        answer_slot(ctx, awaiting)
    elif _YES.match(ctx.query.strip()):
        mine = ctx.state.get("work_orders", [])
        ctx.finish(_t(ctx, "already_filed", number=mine[-1]) if mine else _t(ctx, "nothing_pending"), "answered")
    else:
        start_report(ctx)
