"""What citizens say in a booking conversation: yes and no, names, ordinals, IDs, requests and questions.

The words of the health_booking skill, kept apart from its flow so each stays readable.
"""

from __future__ import annotations

import re

from assistant.core import dates

CODE = re.compile(r"(?<![A-Za-z0-9])BK[A-Za-z0-9]{6}(?![A-Za-z0-9])", re.I)
ID = re.compile(r"(?<![0-9A-Za-z])\d{14,17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}")
YES = re.compile(r"(是的?|确认|确定|对的?|没错|好的?|可以|行|嗯|yes|yeah|yep|y|confirm(ed)?|ok(ay)?|sure|correct)"
                  r"(预约|取消|挂号|吧|啊|please|it)*", re.I)
NO = re.compile(r"(不|不是|不要|不用|不约|不对|否|别|先不|no|nope|n|don'?t|donot|notnow)(了|吧|谢谢|thanks|thankyou)*", re.I)
CANCEL = re.compile(r"取消|退号|退掉|不去了|\bcancel", re.I)
LIST = re.compile(r"我的预约|我约的|预约记录|名下的?(预约|号)|(查|看).{0,8}约的(号|预约)|(查|看)(一下|询|看)?我?(的|约的)?(预约|挂的号)|约了(哪些|什么|几个)"
                   r"|my (bookings|appointments)|(list|show|check).{0,12}(bookings|appointments)", re.I)
QUESTION = re.compile(r"(挂|看|去)(什么|哪个|哪一个|哪)科|什么科|哪个科|which (department|specialist|clinic)"
                       r"|what (department|kind of doctor|specialist)|who should i see", re.I)
# a question about the rules ("最多能提前几天约？", "挂号费多少钱", "how many days ahead can I book?") is
# answered from the guides; a request to book ("帮我约明天的心内科") is not a question about rules
RULES_QUESTION = re.compile(r"多久|几天|多少钱|多少元|费用|收费|挂号费|报销|能不能|可不可以|是否|规定|规则|认定|怎么(取消|收费|退)"
                            r"|最晚|最多|最早.{0,4}提前|提前多久|几点|哪家医院.{0,12}(开|有|能)|24小时"
                            r"|how (many|much|long|far|early|late)|is there a fee|what (is|are) the (rules?|fees?)", re.I)
BOOK_NOW = re.compile(r"帮我|给我|我(想|要)(预约|挂|约|看)|预约一?个|挂一?个|please book|\bbook me\b|can you book|i('d| would) like to|i want to|i need to (book|see)",
                       re.I)
# a guide question in the middle of a booking ("对了，办护照要多少钱？") is answered; the booking waits
ASIDE = re.compile(r"^(对了|顺便|另外|还有|by the way|btw|also|oh)[,，\s]*.{3,}[?？吗呢]\s*$", re.I)
BOOK = re.compile(r"预约|挂号|挂个|帮我挂|帮我约|约一?个|\bbook|appointment", re.I)
CHANGE = re.compile(r"换|改|不是|instead|change|rather|make it", re.I)
EARLIEST = re.compile(r"最早|第一个|随便|都行|都可以|任意|earliest|first (one|available)|\bany\b", re.I)
OTHER_TIME = re.compile(r"换个?(时间|医生|时段)|其他时间|other (time|doctor)|different (time|doctor)", re.I)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
ORDINAL = re.compile(rf"^(?:第|no\.?|number|the)?([1-9一二三四五六]|{'|'.join(ORDINALS)})(?:个|家|one)?$", re.I)
NAME = re.compile(r"^(?:[\u4e00-\u9fff·]{2,6}|[A-Za-z][A-Za-z .'-]{1,58})$")
NAME_PREFIX = re.compile(r"^(?:我叫|我是|姓名是?|名字叫?是?|(?:患者|就诊人|病人)(?:是|叫)?|(?:my name is|name is|name"
                          r"|the patient is|patient|i'm|it's)\b)\s*[:：]?\s*", re.I)
NAME_IN = re.compile(r"(?:就诊人|患者|病人|姓名|名字)(?:是|叫|为)?[:：]?\s*([\u4e00-\u9fff·]{2,5}?)(?=[\s,，。;；、]|身份|手机|电话|$)"
                      r"|(?:patient|name)(?: is|:)?\s+([A-Z][a-z]+(?: [A-Z][a-z]+){1,3})")
FILLER = re.compile(r"[\s,，。.!！?？:：;；、]|换成|改成|改到|换到|那就|就|吧|呢|的|了|please|instead", re.I)


def short(text: str) -> str:
    """The text without spaces and punctuation, lower-cased: how short answers are compared."""
    return re.sub(r"[\s,，。.!！~～?？、]+", "", text).lower()


def patient_name(text: str) -> str | None:
    """The patient's name in a reply to "what is the name?", or None when it does not look like one."""
    name = " ".join(NAME_PREFIX.sub("", re.sub(r"[,，。.!！?？;；]+", " ", text).strip()).split())
    plausible = NAME.match(name) and not re.match(r"我|你|他|她|本人|自己", name)
    return name if plausible and not YES.fullmatch(short(name)) and not NO.fullmatch(short(name)) else None


def pick(text: str, options: list):
    """The option a reply such as "2", "第二家" or "the first one" points at."""
    m = ORDINAL.match(short(text))
    n = (ORDINALS.index(m.group(1)) + 1 if m.group(1) in ORDINALS else dates.number(m.group(1))) if m else None
    return options[n - 1] if n and n <= len(options) else None
