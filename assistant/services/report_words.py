"""What citizens say when they report a problem: the place and since when, yes and no, a correction,
a status question, and the request words the router is cued by.

The words of the report_issue skill, read from plain text and kept apart from its flow so each stays
readable; districts come from seeds/districts.yaml (assistant/services/places.py).
"""

from __future__ import annotations

import re

from assistant.safety.guardrails import mask_pii, phone_digits
from assistant.services import workorders
from assistant.services.places import districts, find_district, without_districts

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
_LEADING = re.compile(r"^[\s,，。.、]*(在|是|in|at)?\s*", re.I)
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


def district_in(text: str) -> str:
    """The Chinese name of the district the text names ("jiangbei" -> "江北区"), or ""."""
    found = find_district(text)
    return found.zh if found else ""


def find_place(text: str) -> str:
    """A street, estate or landmark named in the text ("人民路12号", "翠湖小区"), without the district."""
    for district in districts():
        text = text.replace(district.zh, " ")
    for m in _PLACE.finditer(text):
        place = _NOT_A_NAME.sub("", m.group(1))
        if len(place) >= 3:
            return place
    m = _PLACE_EN.search(text)
    return m.group(0).strip() if m else ""


def find_since(text: str) -> str:
    """Since when, as the text says it ("一个星期了", "昨天", "for two weeks"), or ""."""
    m = _SINCE.search(text) or _SINCE_EN.search(text)
    return m.group(0).strip() if m else ""


def details(text: str) -> dict[str, str]:
    """The district, place and since when that a text mentions, each "" when it mentions none."""
    return {"district": district_in(text), "address": find_place(text), "since": find_since(text)}


def address_answer(text: str) -> str:
    """The address in an answer to "where?": the place named when the answer says more than where
    (since when, a phone), else the answer without its district (masked); "" when nothing is left."""
    place = find_place(text)
    if place and (find_since(text) or phone_digits(text)):
        return place
    rest = _LEADING.sub("", without_districts(text)).strip(" ,，。.、")
    return mask_pii(rest)[:200] if len(rest) >= 2 else ""


def since_answer(text: str) -> str:
    """Since when, from an answer to "since when?": the time named, else the answer itself (masked)."""
    return find_since(text) or mask_pii(text)[:64]


def status_question(text: str) -> bool:
    """"我上次反映的问题处理得怎么样了", "GD2026-… 处理到哪了": a question about a filed order."""
    return bool(_STATUS.search(text) or workorders.order_number(text))


def bare_request(text: str) -> bool:
    """"我要投诉", "I want to report a problem": a request that does not yet say what is wrong."""
    return bool(_BARE.match(text.strip()))


def is_yes(text: str) -> bool:
    """"确认", "好的", "yes": the summary is confirmed."""
    return bool(_YES.match(text.strip()))


def is_no(text: str) -> bool:
    """"先不提交", "no": the summary is declined."""
    return bool(_NO.match(text.strip()))


def anonymous(text: str) -> bool:
    """"匿名", "不留", "rather not": no phone is left with the request."""
    return bool(_ANONYMOUS.search(text))


def speaks_to_the_skill(text: str) -> bool:
    """A status question, a bare "我要投诉" or a repeated "确认" after filing: said to the report_issue skill
    itself, so the skill answers it, not the request classifier."""
    return status_question(text) or is_yes(text) or bare_request(text)


def correction(text: str) -> tuple[str, str] | None:
    """"地址写错了，是人民路12号" -> ("address", "人民路12号"): the detail a correction names and the new value
    ("" when it gives none); None when the text corrects no detail."""
    if not _CORRECTION.search(text):
        return None
    field = next((name for name, pattern in _FIELDS if pattern.search(text)), None)
    if field is None:
        return None
    m = _VALUE_AFTER.search(_CORRECTION.split(text, maxsplit=1)[-1])
    return field, (m.group(1) if m else "").strip(" 。.!！")


def corrected_address(value: str, text: str) -> str:
    """The address a correction gives: the place in its value (else in the whole text), else the value
    itself (masked) when it is more than a character; "" to ask again."""
    return find_place(value or text) or (mask_pii(value)[:200] if len(value) >= 2 else "")
