"""Small talk and hand-off, in Chinese and English."""

import pytest

from assistant.services.db import Ticket

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("message, words", [("你好", "澄湾市民助手"), ("hello", "Chengwan citizen assistant"),
                                            ("谢谢", "不客气"), ("thanks a lot", "welcome"),
                                            ("你能做什么", "预约"), ("what can you do", "appointments")])
def test_smalltalk(small_assistant, message, words):
    reply = small_assistant.ask(message)
    assert reply.skill == "smalltalk" and reply.status == "answered" and words in reply.text


@pytest.mark.parametrize("message, lang", [("转人工", "zh"), ("我要找人工客服", "zh"), ("talk to a person", "en")])
def test_handoff_on_request_creates_a_ticket_with_a_masked_transcript(small_assistant, message, lang):
    first = small_assistant.ask("我的手机是13912345678，护照多少钱")
    reply = small_assistant.ask(message, session_id=first.session_id)
    assert reply.status == "handoff" and "12345" in reply.text
    number = reply.data["ticket"]
    assert number in reply.text
    with small_assistant.sessions() as db:
        ticket = db.query(Ticket).filter_by(number=number).one()
    text = " ".join(t["text"] for t in ticket.transcript)
    assert ticket.status == "open" and "139****5678" in text and "13912345678" not in text
    assert ("人工" in reply.text) if lang == "zh" else ("member of staff" in reply.text)


def test_two_refusals_in_a_row_hand_over(small_assistant):
    first = small_assistant.ask("明天天气怎么样")
    assert first.status == "refused"
    second = small_assistant.ask("推荐一家好吃的火锅店", session_id=first.session_id)
    assert second.status == "handoff" and second.data["ticket"] in second.text
    third = small_assistant.ask("股票明天会涨吗", session_id=first.session_id)
    assert third.status == "refused", "the count starts again after a hand-off"


@pytest.mark.parametrize("message, promise", [("转人工", "联系您"), ("talk to a person", "will contact you")])
def test_handoff_promises_no_call_back_it_cannot_make(small_assistant, message, promise):
    # nothing stores a citizen's full phone number, so no one could call back: the reply says how to reach a person
    reply = small_assistant.ask(message)
    assert reply.status == "handoff" and promise not in reply.text and "12345" in reply.text
    assert reply.data["ticket"] in reply.text


def test_the_phone_question_of_a_report_promises_no_call_back(small_assistant):
    first = small_assistant.ask("我们小区路灯坏了一个星期了")
    asked = small_assistant.ask("江北区翠湖小区3栋门口", session_id=first.session_id)
    assert asked.data["asks_for"] == "phone" and "联系您" not in asked.text and "查询" in asked.text
