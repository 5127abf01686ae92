"""Plain numeric conditions in a guide's text, and which side of them a stated value is on."""

import pytest

from assistant.answer.thresholds import conditions

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, kind, low, high", [
    ("年满80周岁的本市户籍老年人", "age", 80, None), ("1. 80—89周岁：100元；", "age", 80, 90),
    ("100周岁及以上：800元", "age", 100, None), ("未满16周岁的申请人", "age", None, 16),
    ("累计缴费满15年", "years", 15, None), ("连续缴纳失业保险满12个月", "months", 12, None),
    ("Residents aged 80 or over", "age", 80, None), ("children under 16 years", "age", None, 16),
    ("1. Aged 80–89: 100 yuan;", "age", 80, 90), ("aged 60–64, 50% off buses and the metro", "age", 60, 65)])
def test_conditions(text, kind, low, high):
    [found] = conditions(text, kind)
    assert (found.low, found.high) == (low, high)


def test_which_side_a_value_is_on():
    [eighty] = conditions("年满80周岁", "age")
    assert eighty.holds(85) and eighty.holds(80) and not eighty.holds(65)
    [band] = conditions("80—89周岁：100元", "age")
    assert band.holds(89) and not band.holds(90)


def test_times_of_day_are_not_age_ranges():
    assert conditions("Open 9:00 to 12:00 every day", "age") == []
    assert conditions("People aged 80–89 get 100 yuan", "years") == []  # an age band is not years paid
