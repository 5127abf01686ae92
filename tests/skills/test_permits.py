"""Permits: the status of an application, checked against the phone on it; guide questions."""

import pytest

pytestmark = pytest.mark.integration
NUMBER, PHONE = "CW2026-PP-0001532", "13800001532"


def test_status_with_number_and_phone_in_two_turns(small_assistant):
    first = small_assistant.ask(f"帮我查一下申请{NUMBER}的进度")
    assert first.status == "asking" and first.skill == "permits" and "手机号" in first.text
    second = small_assistant.ask(PHONE, session_id=first.session_id)
    assert second.status == "answered" and "审核中" in second.text and NUMBER in second.text
    assert PHONE not in second.text


def test_status_asks_for_the_number_first(small_assistant):
    first = small_assistant.ask("我的护照办到哪一步了")
    assert first.status == "asking" and "申请编号" in first.text
    second = small_assistant.ask(f"{NUMBER}，手机{PHONE}", session_id=first.session_id)
    assert second.status == "answered" and "审核中" in second.text


def test_english_status(small_assistant):
    reply = small_assistant.ask(f"What is the status of application cw2026-pp-0001532? My phone is {PHONE}")
    assert reply.status == "answered" and "Under review" in reply.text and reply.lang == "en"


@pytest.mark.parametrize("number, phone", [(NUMBER, "13900009999"), ("CW2026-PP-9999999", PHONE)])
def test_wrong_phone_and_unknown_number_look_the_same(small_assistant, number, phone):
    reply = small_assistant.ask(f"查询{number}进度，手机{phone}")
    assert reply.status == "refused" and "没有找到" in reply.text and "审核中" not in reply.text


def test_what_a_permit_needs_is_answered_from_the_guides(small_assistant):
    reply = small_assistant.ask("办护照要带什么材料")
    assert reply.status == "answered" and reply.citations[0].doc == "permits/passport.md"
