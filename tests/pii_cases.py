"""Synthetic personal data inside Chinese and English sentences, for measuring PII masking.

Every case is a sentence with marked spans: `pii` spans (resident IDs with a right check digit,
mobile and landline numbers, Luhn-valid bank cards, e-mail addresses, written the ways people
type them) that must not survive masking, and `keep` spans (fees, dates, application numbers,
hotlines, postcodes, order numbers) that must survive unchanged. Seeded, so a run is repeatable.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from assistant.safety.guardrails import luhn_valid

AREAS = ["110101", "110105", "310115", "320102", "330106", "440305", "440306", "510104", "420102", "610113",
         "370202", "350203", "210102", "500103", "120101", "450103", "530102", "650102", "230103", "340104"]
MOBILE_PREFIXES = ["130", "131", "133", "135", "136", "138", "139", "150", "152", "157", "158", "166", "176",
                   "177", "180", "181", "186", "187", "189", "191", "198", "199"]
LANDLINE_AREAS = ["010", "021", "022", "023", "0755", "0571", "020", "028", "0512", "0731"]
CARD_PREFIXES = ["622202", "622848", "621700", "622588", "623668", "621483", "436742", "520169", "625965"]
NAMES = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]
EMAIL_USERS = ["zhangwei", "li.na88", "wangfang_2020", "chen.jing", "yl1990", "minzhao"]
EMAIL_HOSTS = ["qq.com", "163.com", "126.com", "example.cn", "mail.chengwan.example", "outlook.com"]

PII_TEMPLATES = {
    "resident_id": ["我的身份证号是{x}，帮我查一下", "身份证{x}，姓名{name}", "请核对证件号码：{x}。",
                    "{name}的身份证号{x}丢了怎么办", "my ID number is {x}, please check", "证件号 {x} 已过期吗？"],
    "mobile": ["我的手机号是{x}，有结果请通知我", "联系电话：{x}", "{name}，电话{x}，预约明天上午",
               "call me back on {x} please", "手机{x}打不通", "号码 {x} 是我本人的"],
    "landline": ["家里座机{x}，白天有人", "单位电话是{x}", "请打{x}找{name}", "our office line is {x}"],
    "bank_card": ["社保卡绑定的银行卡号是{x}", "卡号{x}能不能用来领补贴", "请把钱退到{x}",
                  "my bank card {x} was charged twice", "工资卡 {x} 没收到公积金"],
    "email": ["材料发到{x}就行", "我的邮箱是{x}。", "email me at {x}", "回执请寄{x}，谢谢"],
}
KEEP_TEMPLATES = [
    "办理时限为{n}个工作日", "费用{fee}元", "申请编号{app}", "服务热线12345", "{date}上午九点",
    "邮编{post}", "金额为{money}元", "订单号{order}", "预约码{code}", "第{n}号窗口", "{year}年度个税汇算",
    "急救电话120", "报警110", "公积金缴存比例{pct}%", "统一社会信用代码{uscc}", "快递单号SF{parcel}",
    "客服400-{p3}-{p4}", "上午8:30-12:00办理", "交易流水号{serial}", "{year}-{nextyear}年度",
]


@dataclass(frozen=True)
class Span:
    """A marked piece of a sentence: `kind` of PII, or `keep` for text that must stay readable."""

    kind: str
    text: str


@dataclass(frozen=True)
class Case:
    """One sentence and the spans in it."""

    sentence: str
    spans: tuple[Span, ...]


def resident_id(rng: random.Random) -> str:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(29000))
    body = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    if check == "X" and rng.random() < 0.3:
        check = "x"
    number = body + check
    style = rng.random()
    if style < 0.08:
        return f"{number[:6]} {number[6:14]} {number[14:]}"
    if style < 0.14:
        return " ".join(number[i:i + 4] for i in range(0, 18, 4))
    return number


def mobile(rng: random.Random) -> str:
    digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    style = rng.random()
    if style < 0.15:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style < 0.3:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style < 0.4:
        return f"+86 {digits}"
    if style < 0.45:
        return f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return digits


def landline(rng: random.Random) -> str:
    area = rng.choice(LANDLINE_AREAS)
    number = f"{rng.randrange(2, 9)}{rng.randrange(10**7):07d}" if len(area) == 3 or rng.random() < 0.7 \
        else f"{rng.randrange(2, 9)}{rng.randrange(10**6):06d}"
    style = rng.random()
    if style < 0.2:
        return f"({area}){number}"
    if style < 0.35:
        return f"（{area}）{number}"
    if style < 0.5:
        return f"{area} {number}"
    return f"{area}-{number}"


def bank_card(rng: random.Random) -> str:
    length = rng.choice([16, 16, 19, 19, 17, 18])
    body = rng.choice(CARD_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(length - 7))
    digits = next(body + str(d) for d in range(10) if luhn_valid(body + str(d)))
    if rng.random() < 0.3:
        return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))
    return digits


def email(rng: random.Random) -> str:
    return f"{rng.choice(EMAIL_USERS)}{rng.randrange(100)}@{rng.choice(EMAIL_HOSTS)}"


def keep_values(rng: random.Random) -> dict[str, str]:
    order = "".join(str(rng.randrange(10)) for _ in range(rng.choice([12, 14, 20])))
    return {"n": str(rng.randrange(1, 60)), "fee": str(rng.choice([20, 120, 200, 600, 1500])),
            "app": f"CW2026-{rng.choice(['PP', 'NC', 'BL', 'RP'])}-{rng.randrange(10**7):07d}",
            "date": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", "post": f"5180{rng.randrange(100):02d}",
            "money": f"{rng.randrange(1, 99)},{rng.randrange(1000):03d}.00", "order": order,
            "code": "GH" + "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(6)),
            "year": str(rng.randrange(2019, 2026)), "pct": str(rng.choice([5, 7, 10, 12])),
            "uscc": "9144" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14)),
            "parcel": "".join(str(rng.randrange(10)) for _ in range(13)), "p3": f"{rng.randrange(100, 999)}",
            "p4": f"{rng.randrange(1000, 9999)}", "serial": "".join(str(rng.randrange(10)) for _ in range(16)),
            "nextyear": "2026"}


GENERATORS = {"resident_id": resident_id, "mobile": mobile, "landline": landline, "bank_card": bank_card,
              "email": email}


def make_cases(per_kind: int = 120, seed: int = 7) -> list[Case]:
    """`per_kind` sentences for every PII kind, each with one or two harmless numbers around it."""
    rng = random.Random(seed)
    cases = []
    for kind, generate in GENERATORS.items():
        for _ in range(per_kind):
            value = generate(rng)
            sentence = rng.choice(PII_TEMPLATES[kind]).format(x=value, name=rng.choice(NAMES))
            spans = [Span(kind, value)]
            values = keep_values(rng)
            for template in rng.sample(KEEP_TEMPLATES, rng.choice([1, 2])):
                keep = template.format(**values)
                sentence = f"{keep}，{sentence}" if rng.random() < 0.5 else f"{sentence}；{keep}"
                spans.append(Span("keep", keep))
            cases.append(Case(sentence, tuple(spans)))
    return cases
