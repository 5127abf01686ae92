"""Dates and times in a citizen's words, Chinese or English, resolved against a given `today`.

`parse_date("下周三", today)` and `parse_time("下午两点半")` return None when they find nothing they
understand; `remove` takes every date and time expression out of a text, so that a caller can tell
whether a message was *only* a date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS_ZH = "一二三四五六日"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")

_CN = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"\d{1,2}|[一二两三四五六七八九十]{1,3}"
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
_WEEKDAY_ZH = r"(?:周|星期|礼拜)([一二三四五六日天1-7])"
_WEEKDAY_EN = (r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
               r"\b\.?")
_RELATIVE_ZH = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明儿": 1, "今天": 0, "今日": 0, "今儿": 0,
                "昨天": -1, "前天": -2}
_RELATIVE_EN = {"day after tomorrow": 2, "tomorrow": 1, "today": 0, "tonight": 0, "yesterday": -1}

# (name, pattern) in priority order: the first pattern that matches anywhere decides the date.
_DATE_PATTERNS = [
    ("iso", r"(?<!\d)(20\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?!\d)"),
    ("month_day_zh", rf"(?<![\d一二三四五六七八九十])({_NUM})\s*月\s*({_NUM})\s*[日号]?"),
    ("slash", r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])"),
    ("month_day_en", rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"),
    ("day_month_en", rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"),
    ("in_days_zh", rf"({_NUM})\s*天\s*(?:以后|之后|后)"),
    ("in_days_en", r"\bin\s+(\d{1,2})\s+days?\b"),
    ("relative_zh", "|".join(_RELATIVE_ZH)),
    ("relative_en", r"\b(?:the\s+)?(" + "|".join(_RELATIVE_EN) + r")\b"),
    ("weekday_zh", rf"(下下个?|下个?|这个?|本|上个?)?\s*{_WEEKDAY_ZH}"),
    ("weekday_en", rf"\b(?:(this|next|coming|last)\s+)?{_WEEKDAY_EN}"),
    ("day_zh", rf"(?<![\d一二三四五六七八九十月/])({_NUM})\s*[号日](?![\d楼线])"),
    ("day_en", r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b"),
]
_DATES = [(name, re.compile(p, re.IGNORECASE)) for name, p in _DATE_PATTERNS]

_AFTER_NUMBER = r"(?:(?<=\d)|(?<=\d\s))"
_PERIODS = [("morning", rf"上午|早上|早晨|上半天|\bmorning\b|{_AFTER_NUMBER}(?:am|a\.m\.)(?![a-z])"),
            ("afternoon", rf"下午|午后|下半天|\bafternoon\b|{_AFTER_NUMBER}(?:pm|p\.m\.)(?![a-z])"),
            ("evening", r"晚上|夜里|夜间|傍晚|\bevening\b|\bnight\b|\btonight\b")]
_CLOCKS = [r"(?<![\d/.-])(\d{1,2})\s*[:：]\s*(\d{2})(?!\d)",
           rf"(?<![快早晚多少好慢些])({_NUM})\s*点\s*(半|一刻|三刻|\d{{1,2}}\s*分?|[一二三四五六七八九十]{{1,3}}\s*分?)?",
           r"\b(\d{1,2})\s*(?=(?:am|pm|a\.m\.|p\.m\.)(?![a-z]))",
           r"\bat\s+(\d{1,2})\b(?!\s*[/.:-]?\d)"]
_CLOCK_RES = [re.compile(p, re.IGNORECASE) for p in _CLOCKS]
_PERIOD_RES = [(name, re.compile(p, re.IGNORECASE)) for name, p in _PERIODS]


@dataclass(frozen=True)
class TimeOfDay:
    """A time a citizen asked for: a clinic period ('morning', 'afternoon', 'evening'), a clock time, or both."""

    period: str | None = None
    clock: str | None = None


def number(text: str) -> int | None:
    """An Arabic or Chinese number from 0 to 99 ("12", "十二", "二十三", "两"); None otherwise."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in tens + ones:
        return None
    return (_CN[tens] if tens else 1) * 10 + (_CN[ones] if ones else 0)


def _safe_date(year: int, month: int | None, day: int | None) -> dt.date | None:
    try:
        return dt.date(year, month, day) if month and day else None
    except (TypeError, ValueError):
        return None


def _month_day(month: int | None, day: int | None, today: dt.date) -> dt.date | None:
    """A month and day without a year: this year, unless that was more than half a year ago."""
    found = _safe_date(today.year, month, day)
    if found and (today - found).days > 183:
        found = _safe_date(today.year + 1, month, day)
    return found


def _month_number(word: str) -> int:
    return [m[:3].lower() for m in MONTHS_EN].index(word[:3].lower()) + 1


def _weekday(index: int, which: str, today: dt.date) -> dt.date:
    """Weekday `index` (0 = Monday): 'next' is the one on or after today, else this/last/next calendar week."""
    if which == "upcoming":
        return today + dt.timedelta(days=(index - today.weekday()) % 7)
    monday = today - dt.timedelta(days=today.weekday())
    weeks = {"this": 0, "next": 1, "after_next": 2, "last": -1}[which]
    return monday + dt.timedelta(weeks=weeks, days=index)


def _resolve(name: str, m: re.Match, today: dt.date) -> dt.date | None:
    g = m.groups()
    if name == "iso":
        return _safe_date(int(g[0]), int(g[1]), int(g[2]))
    if name == "month_day_zh":
        return _month_day(number(g[0]), number(g[1]), today)
    if name == "slash":
        return _month_day(int(g[0]), int(g[1]), today)
    if name == "month_day_en":
        return _month_day(_month_number(g[0]), int(g[1]), today)
    if name == "day_month_en":
        return _month_day(_month_number(g[1]), int(g[0]), today)
    if name in ("in_days_zh", "in_days_en"):
        days = number(g[0])
        return today + dt.timedelta(days=days) if days is not None else None
    if name == "relative_zh":
        return today + dt.timedelta(days=_RELATIVE_ZH[m.group(0)])
    if name == "relative_en":
        return today + dt.timedelta(days=_RELATIVE_EN[re.sub(r"\s+", " ", g[0].lower())])
    if name == "weekday_zh":
        prefix = (g[0] or "").replace("个", "")
        which = {"": "upcoming", "这": "this", "本": "this", "下": "next", "下下": "after_next", "上": "last"}[prefix]
        index = 6 if g[1] in "日天" else (WEEKDAYS_ZH.index(g[1]) if g[1] in WEEKDAYS_ZH else int(g[1]) - 1)
        return _weekday(index, which, today)
    if name == "weekday_en":
        which = {None: "upcoming", "this": "upcoming", "coming": "upcoming", "next": "next", "last": "last"}
        index = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(g[1][:3].lower())
        return _weekday(index, which[g[0].lower() if g[0] else None], today)
    day = number(g[0])
    found = _safe_date(today.year, today.month, day)
    if found is None or found < today:
        following = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        found = _safe_date(following.year, following.month, day)
    return found


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The date a text names, relative to `today`; None when it names none or an impossible one (2月30日)."""
    for name, pattern in _DATES:
        m = pattern.search(text)
        if m:
            return _resolve(name, m, today)
    return None


def _minutes(text: str | None) -> int:
    if not text:
        return 0
    text = text.replace("分", "").strip()
    return {"半": 30, "一刻": 15, "三刻": 45}.get(text, number(text) or 0)


def parse_time(text: str) -> TimeOfDay | None:
    """A period of the day and/or a clock time ("上午", "9点半", "2:30 pm", "at 10"); None when there is none."""
    period = next((name for name, pattern in _PERIOD_RES if pattern.search(text)), None)
    clock = None
    for pattern in _CLOCK_RES:
        m = pattern.search(text)
        if not m:
            continue
        hour = number(m.group(1))
        minute = int(m.group(2)) if pattern is _CLOCK_RES[0] else _minutes(m.group(2) if m.lastindex > 1 else None)
        if hour is None or hour > 23 or minute > 59:
            return None
        if (period in ("afternoon", "evening") and hour < 12) or (period is None and 1 <= hour <= 6):
            hour += 12
        clock = f"{hour:02d}:{minute:02d}"
        period = "morning" if clock < "12:00" else ("afternoon" if clock < "18:00" else "evening")
        break
    return TimeOfDay(period, clock) if period or clock else None


def remove(text: str) -> str:
    """The text without any date or time expression in it."""
    for _, pattern in _DATES:
        text = pattern.sub(" ", text)
    for pattern in _CLOCK_RES + [p for _, p in _PERIOD_RES]:
        text = pattern.sub(" ", text)
    return text


def format_day(day: dt.date, lang: str) -> str:
    """A date with its weekday as a citizen reads it: 12月2日（周三） / Wednesday 2 December."""
    if lang == "zh":
        return f"{day.month}月{day.day}日（周{WEEKDAYS_ZH[day.weekday()]}）"
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]}"


def example_day(today: dt.date, lang: str) -> str:
    """A date a few days from today as a citizen would type it (12月5日 / 5 December), for examples in questions."""
    day = today + dt.timedelta(days=3)
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {MONTHS_EN[day.month - 1]}"


def local_minute(stamp: float, timezone: str) -> str:
    """A timestamp as the city reads it (CITYDESK_TIMEZONE), to the minute; "" for none."""
    return dt.datetime.fromtimestamp(stamp, ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if stamp else ""
