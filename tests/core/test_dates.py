"""Dates and times in citizens' words, resolved against a fixed today (Saturday 28 November 2026)."""

import datetime as dt

import pytest

from assistant.core.dates import TimeOfDay, format_day, number, parse_date, parse_time, remove

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 11, 28)  # a Saturday


@pytest.mark.parametrize("text, expected", [
    ("今天", "2026-11-28"), ("明天", "2026-11-29"), ("后天", "2026-11-30"), ("大后天", "2026-12-01"),
    ("周五", "2026-12-04"), ("星期五", "2026-12-04"), ("礼拜五", "2026-12-04"), ("周日", "2026-11-29"),
    ("星期天", "2026-11-29"), ("这周五", "2026-11-27"), ("下周三", "2026-12-02"), ("下个星期三", "2026-12-02"),
    ("下下周一", "2026-12-07"), ("上周三", "2026-11-18"), ("昨天", "2026-11-27"),
    ("11月30日", "2026-11-30"), ("12月1号", "2026-12-01"), ("十二月一日", "2026-12-01"), ("30号", "2026-11-30"),
    ("1号", "2026-12-01"), ("2026-12-01", "2026-12-01"), ("2026年12月3日", "2026-12-03"), ("12/1", "2026-12-01"),
    ("3天后", "2026-12-01"), ("两天后", "2026-11-30"), ("帮我约明天上午第一人民医院心内科", "2026-11-29"),
])
def test_chinese_dates(text, expected):
    assert parse_date(text, TODAY) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize("text, expected", [
    ("today", "2026-11-28"), ("Tomorrow", "2026-11-29"), ("the day after tomorrow", "2026-11-30"),
    ("this Friday", "2026-12-04"), ("Friday", "2026-12-04"), ("on wed", "2026-12-02"), ("next Monday", "2026-11-30"),
    ("next Wednesday", "2026-12-02"), ("Dec 1", "2026-12-01"), ("1 December", "2026-12-01"),
    ("December 1st", "2026-12-01"), ("the 1st of December", "2026-12-01"), ("on the 30th", "2026-11-30"),
    ("in 3 days", "2026-12-01"), ("book cardiology for Thursday morning please", "2026-12-03"),
])
def test_english_dates(text, expected):
    assert parse_date(text, TODAY) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize("text", ["2月30日", "下周八", "13月1日", "whenever", "", "我的手机号13800001234",
                                  "I am free", "month of May", "第一人民医院"])
def test_no_date_or_an_impossible_one_is_none(text):
    assert parse_date(text, TODAY) is None


def test_a_month_and_day_without_year_is_this_year_unless_long_past():
    assert parse_date("11月27日", TODAY) == dt.date(2026, 11, 27)  # yesterday: a past date, not next year
    assert parse_date("1月5日", TODAY) == dt.date(2027, 1, 5)
    assert parse_date("Jan 5", TODAY) == dt.date(2027, 1, 5)
    assert parse_date("12/30", dt.date(2026, 12, 28)) == dt.date(2026, 12, 30)
    assert parse_date("3号", dt.date(2026, 12, 28)) == dt.date(2027, 1, 3)


@pytest.mark.parametrize("text, period, clock", [
    ("上午", "morning", None), ("下午", "afternoon", None), ("晚上", "evening", None),
    ("in the morning", "morning", None), ("afternoon please", "afternoon", None),
    ("9:30", "morning", "09:30"), ("9点", "morning", "09:00"), ("9点半", "morning", "09:30"),
    ("九点一刻", "morning", "09:15"), ("十点半", "morning", "10:30"), ("下午两点", "afternoon", "14:00"),
    ("下午2点30", "afternoon", "14:30"), ("3点", "afternoon", "15:00"), ("2pm", "afternoon", "14:00"),
    ("10 am", "morning", "10:00"), ("2:30 pm", "afternoon", "14:30"), ("8pm", "evening", "20:00"),
    ("at 10", "morning", "10:00"), ("明天上午", "morning", None),
])
def test_times(text, period, clock):
    assert parse_time(text) == TimeOfDay(period, clock)


@pytest.mark.parametrize("text", ["有没有早一点的", "12/1", "I am free", "13800001234", "11010519491231002X",
                                  "下周三", "快一点"])
def test_no_time_is_none(text):
    assert parse_time(text) is None


def test_remove_leaves_nothing_of_a_date_only_message():
    assert remove("换成后天上午9点").strip() == "换成"
    assert remove("周一鸣").strip() == "鸣"
    assert remove("张伟").strip() == "张伟"


def test_format_day_names_the_weekday():
    assert format_day(dt.date(2026, 12, 2), "zh") == "12月2日（周三）"
    assert format_day(dt.date(2026, 12, 2), "en") == "Wednesday 2 December"


@pytest.mark.parametrize("text, value", [("12", 12), ("十", 10), ("十二", 12), ("二十三", 23), ("三十一", 31),
                                         ("两", 2), ("abc", None), ("十十", None), ("", None)])
def test_number(text, value):
    assert number(text) == value
