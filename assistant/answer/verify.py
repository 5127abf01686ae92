"""Checks on an LLM answer as a whole, and the quantities a text states, in comparable form.

- `problems`: the answer is not empty, does not repeat the system prompt's canary, and holds no
  personal data (ID, mobile, bank card, e-mail) that neither the citizen typed nor a passage holds;
- `unsupported_numbers`: the numbers, amounts, percentages, phone numbers, dates and times of a
  text that given passages do not state (十五/15, 1,500/1500/一千五百 compare equal), which
  `attribution` applies claim by claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from assistant.safety import guardrails

# Citation markers of any style a model writes ([1], [n=1], 【1】, (来源1), Source 1): not facts.
MARKER = re.compile(
    r"[\[【［〔]\s*(?:n\s*=\s*[\"']?|(?:passage|source|ref|来源|段落|出处|资料|见)\s*[:：]?\s*)?\d{1,2}"
    r"(?:\s*[,，、]\s*\d{1,2})*[\"']?\s*[\]】］〕]"
    r"|[（(]\s*(?:见|参见|see\s+)?(?:passage|source|来源|段落|出处|资料)\s*[:：]?\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*[)）]"
    r"|\b(?:source|passage)\s+\d{1,2}\b", re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                        "dec"), start=1)}
_MONTH = (r"(january|february|march|april|may|june|july|august|september|october|november|december"
          r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?")
_YEAR = r"((?:19|20)\d{2})"
_DATE_YMD = re.compile(_YEAR + r"\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?")
_DATE_YM = re.compile(_YEAR + r"\s*年\s*(\d{1,2})\s*月")
_DATE_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_DATE_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?(?:\s+" + _YEAR + r")?", re.IGNORECASE)
_DATE_MDY = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+" + _YEAR + r")?", re.IGNORECASE)
_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*:\s*(\d{2})(?!\d)")
_PHONE = re.compile(r"(?<![\d.])\+?\d{2,4}(?:[ -]\d{3,4}){1,3}(?![\d.])|(?<![\d.])\d{7,}(?![\d.])")
_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*]\s*)?(?:\d{1,2}[.、)）](?!\d)|[（(]\d{1,2}[)）])")
_ORDINAL = re.compile(r"第\s*\d{1,2}\s*(?:步|条|项|点)|\b(?:step|item)\s+\d{1,2}\b", re.IGNORECASE)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "[零〇一二两三四五六七八九十百千万]+"
CN_QUANTITY = re.compile(r"百分之(" + CN_NUMERAL + r")|(" + CN_NUMERAL + r")(?=个?(?:工作日|元|块|天|日|月|周|星期|年|小时"
                          r"|分钟|岁|倍|张|份|次|%))")
_EN_WORDS = {w: i for i, w in enumerate(("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                         "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split())}
_EN_WORDS |= {w: 10 * i for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), start=3)}
_EN_UNITS = (r"(?:working\s+|business\s+|calendar\s+)?(?:days?|weeks?|months?|years?|hours?|minutes?|yuan|rmb|percent"
             r"|per\s*cent|times|photos?|copies|pages?)")
_EN_QUANTITY = re.compile(r"\b(" + "|".join(_EN_WORDS) + r")(?:-(" + "|".join(w for w, v in _EN_WORDS.items() if v < 10)
                          + r"))?\s+" + _EN_UNITS + r"\b", re.IGNORECASE)


@dataclass
class Facts:
    """The quantities a set of passages states, in comparable form."""

    numbers: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    times: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)


def _number(raw: str) -> str:
    """One spelling per value: "1,200" and "1200.00" -> "1200", "0100" -> "100"."""
    return format(Decimal(raw.replace(",", "")).normalize(), "f")


def _cn_value(numeral: str) -> int | None:
    """The value of a Chinese numeral: 十五 -> 15, 一百二十 -> 120, 两万 -> 20000, 二〇二六 -> 2026."""
    if not any(ch in _CN_UNITS or ch == "万" for ch in numeral):
        digits = [_CN_DIGITS.get(ch) for ch in numeral]
        return None if None in digits else int("".join(map(str, digits)))
    total, section, digit = 0, 0, None
    for ch in numeral:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
    return total + section + (digit or 0)


def _en_value(m: re.Match) -> int:
    return _EN_WORDS[m.group(1).lower()] + (_EN_WORDS[m.group(2).lower()] if m.group(2) else 0)


def _date(year: str | None, month: str | int, day: str | None) -> str | None:
    month, day = int(month), int(day) if day else None
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    return "-".join(str(p) for p in (year, month, day) if p is not None)


def _blank(text: str, m: re.Match) -> str:
    return text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]


def _dates(text: str) -> list[tuple[re.Match, str]]:
    found = []
    for pattern, parts in ((_DATE_YMD, lambda g: (g[0], g[1], g[2])), (_DATE_YM, lambda g: (g[0], g[1], None)),
                           (_DATE_MD, lambda g: (None, g[0], g[1])),
                           (_DATE_DMY, lambda g: (g[2], _MONTHS[g[1][:3].lower()], g[0])),
                           (_DATE_MDY, lambda g: (g[2], _MONTHS[g[0][:3].lower()], g[1]))):
        for m in pattern.finditer(text):
            value = _date(*parts(m.groups()))
            if value:
                found.append((m, value))
                text = _blank(text, m)
    return found


def facts(passages: list[str]) -> Facts:
    """Everything the passages state that an answer may repeat: numbers, dates, times and phone numbers."""
    out = Facts()
    for passage in passages:
        text = guardrails.normalize(passage)
        for _, value in _dates(text):
            y, _, rest = value.partition("-") if value.count("-") == 2 else ("", "", value)
            out.dates |= {value} | ({f"{y}-{rest.split('-')[0]}", rest} if y else set())
        out.times |= {f"{int(h)}:{mm}" for h, mm in _TIME.findall(text)}
        out.phones |= {re.sub(r"\D", "", m.group(0)) for m in _PHONE.finditer(text)}
        out.numbers |= {_number(n) for n in _NUMBER.findall(text)} | {_number(n) for n in re.findall(r"\d+", text)}
        out.numbers |= {str(v) for n in re.findall(CN_NUMERAL, text) if (v := _cn_value(n)) is not None}
        out.numbers |= {str(_en_value(m)) for m in _EN_QUANTITY.finditer(text)}
    return out


def _supported_phone(digits: str, groups: list[str], known: Facts) -> bool:
    if digits in known.phones or any(len(digits) >= 7 and p.endswith(digits) for p in known.phones):
        return True
    return len(groups) > 1 and all(_number(g) in known.numbers for g in groups)


def unsupported_numbers(answer: str, passages: list[str]) -> list[str]:
    """The numbers, amounts, percentages, phone numbers, dates and times of `answer` that no passage states."""
    known = facts(passages)
    text = _ORDINAL.sub(" ", _LIST_ITEM.sub(" ", MARKER.sub(" ", guardrails.normalize(answer))))
    missing = []
    for m, value in _dates(text):
        if value not in known.dates:
            missing.append(m.group(0).strip())
        text = _blank(text, m)
    for m in list(_TIME.finditer(text)):
        if f"{int(m.group(1))}:{m.group(2)}" not in known.times:
            missing.append(m.group(0))
        text = _blank(text, m)
    for m in list(_PHONE.finditer(text)):
        digits = re.sub(r"\D", "", m.group(0))
        if not _supported_phone(digits, re.findall(r"\d+", m.group(0)), known):
            missing.append(m.group(0))
        text = _blank(text, m)
    missing += [n for n in _NUMBER.findall(text) if _number(n) not in known.numbers]
    for m in CN_QUANTITY.finditer(text):
        numeral = m.group(1) or m.group(2)
        value = _cn_value(numeral)
        if value is not None and numeral != "一" and str(value) not in known.numbers:
            missing.append(m.group(0))
    missing += [m.group(0) for m in _EN_QUANTITY.finditer(text) if _en_value(m) > 1
                and str(_en_value(m)) not in known.numbers]
    return missing


def leaked_canary(answer: str, canary: str) -> bool:
    """True when the answer repeats the system prompt's canary (or its random part)."""
    secret = canary.rsplit("-", 1)[-1].lower()
    return canary.lower() in answer.lower() or secret in answer.lower()


_PII_CANDIDATE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|\+?\d[\d Xx-]{9,}[\dXx]")


def foreign_pii(answer: str, typed: str, passages: list[str]) -> list[str]:
    """Personal data in the answer (masked here) that neither the citizen typed nor a passage holds."""
    allowed_digits = [re.sub(r"\D", "", guardrails.normalize(t)) for t in [typed, *passages]]
    allowed_text = " ".join(guardrails.normalize(t).lower() for t in [typed, *passages])
    found = []
    for m in _PII_CANDIDATE.finditer(guardrails.normalize(answer)):
        candidate = m.group(0).strip()
        masked = guardrails.mask_pii(candidate)
        if masked == candidate:
            continue
        digits = re.sub(r"\D", "", candidate)
        known = candidate.lower() in allowed_text if "@" in candidate else \
            any(len(digits) >= 7 and digits in d for d in allowed_digits)
        if not known:
            found.append(masked)
    return found


def problems(answer: str, *, passages: list[str], canary: str, typed: str) -> list[str]:
    """Every reason the answer may not be shown at all, whatever its claims."""
    if not answer.strip():
        return ["empty answer"]
    reasons = ["leaked canary"] if leaked_canary(answer, canary) else []
    reasons += [f"personal data the citizen did not give: {p}" for p in foreign_pii(answer, typed, passages)]
    return reasons
