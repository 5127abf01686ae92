"""Plain thresholds in a guide's text (年满80周岁, 累计缴费满15年, under 16) and which side of them a
value the citizen states falls on. Only a condition stated as a number is compared; anything else
is left to the quoted text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.question import to_number

_N = r"(\d+|[一二两三四五六七八九十百]+)"
_UNIT = {"age": r"\s*周?岁", "years": r"\s*(?:个)?年", "months": r"\s*个月"}
_EN_UNIT = {"age": r"(?:\s*years?(?: of age| old)?)?", "years": r"\s*years?", "months": r"\s*months?"}


@dataclass(frozen=True)
class Condition:
    """A numeric condition in a text: `low` <= value < `high` (None: open), and the words that state it."""

    kind: str
    low: float | None
    high: float | None
    text: str

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


def _patterns(kind: str) -> list[tuple[re.Pattern, str]]:
    u, e = _UNIT[kind], _EN_UNIT[kind]
    return [
        (re.compile(_N + r"\s*(?:—|-|–|~|至|到)\s*" + _N + u), "range"),
        (re.compile(r"(?:未满|不满|低于|不到|小于)\s*" + _N + u), "below"),
        (re.compile(_N + u + r"\s*(?:以下|以内|之内)"), "below_or_at"),
        (re.compile(r"(?:不超过|最多|最长)\s*" + _N + u), "below_or_at"),
        (re.compile(r"(?:年满|已满|满|不少于|不低于|超过|达到|累计|连续)[^，。；、\d一二两三四五六七八九十百]{0,8}?" + _N + u), "at_least"),
        (re.compile(_N + u + r"\s*(?:及以上|以上|或以上|及其以上)"), "at_least"),
        (re.compile(r"(?:aged|age)\s+(\d+)\s*(?:or over|or older|and over|and above|\+)", re.I), "at_least"),
        (re.compile(r"(?:at least|over|more than|a minimum of)\s+(\d+)" + e, re.I), "at_least"),
        (re.compile(r"(\d+)" + e + r"\s*(?:or over|or older|or more|and over|and above)", re.I), "at_least"),
        (re.compile(r"(?:under|younger than|below|less than)\s+(?:the age of\s+)?(\d+)" + e, re.I), "below"),
        (re.compile(r"(\d+)\s*(?:–|-|to)\s*(\d+)\s*" + {"age": "(?:years|years old)", "years": "years",
                                                            "months": "months"}[kind], re.I), "range"),
    ] + ([(re.compile(r"(?:aged|ages?)\s+(\d+)\s*(?:–|—|-|to)\s*(\d+)\b", re.I), "range")] if kind == "age" else [])


def conditions(text: str, kind: str) -> list[Condition]:
    """The numeric conditions of `kind` (age, years, months) stated in a text."""
    out, taken = [], []
    for pattern, shape in _patterns(kind):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            numbers = [to_number(g) for g in m.groups() if g]
            if None in numbers or not numbers:
                continue
            if shape == "range":
                low, high = numbers[0], numbers[1] + 1
            elif shape == "below":
                low, high = None, numbers[0]
            elif shape == "below_or_at":
                low, high = None, numbers[0] + 1
            else:
                low, high = numbers[0], None
            taken.append((m.start(), m.end()))
            out.append(Condition(kind=kind, low=low, high=high, text=m.group(0).strip()))
    return out
