"""Citizen requests, whole conversations: filing, corrections, anonymous reports, status, questions, emergencies."""

import pytest

from assistant.services import workorders
from assistant.services.db import Conversation, WorkOrder

pytestmark = pytest.mark.integration
PHONE = "13800001357"


def talk(assistant, *messages, session=None):
    replies = []
    for message in messages:
        replies.append(assistant.ask(message, session_id=session))
        session = replies[-1].session_id
    return replies


def orders(assistant):
    with assistant.sessions() as db:
        return db.query(WorkOrder).all()


def test_a_streetlight_report_is_filed_after_the_summary_and_confirmation(small_assistant):
    first, where, phone = talk(small_assistant, "我们小区路灯坏了一个星期了", "江北区翠湖小区3栋门口", PHONE)
    assert first.skill == "report_issue" and first.status == "asking" and first.data["asks_for"] == "where"
    assert where.data["asks_for"] == "phone", "since when was already in the first message"
    assert phone.data["asks_for"] == "confirm" and not orders(small_assistant)
    for fact in ("求助", "路灯坏了", "江北区", "翠湖小区3栋", "一个星期", "138****1357", "城市管理局"):
        assert fact in phone.text
    assert PHONE not in phone.text
    with small_assistant.sessions() as db:
        assert PHONE not in str(db.get(Conversation, phone.session_id).state), "the raw phone is never stored"
    done = small_assistant.ask("确认", session_id=phone.session_id)
    number = done.data["work_order"]
    assert done.status == "answered" and number in done.text and "城市管理局" in done.text
    [order] = orders(small_assistant)
    assert order.number == number and order.department == "urban-management" and order.state == "dispatched"
    assert order.phone_masked == "138****1357" and order.phone_hash == small_assistant.phone_digest(PHONE)


def test_repeating_the_confirmation_does_not_file_twice(small_assistant):
    *_, done = talk(small_assistant, "老板拖欠了我三个月工资", "高新区创新路1号的电子厂", "上个月开始", PHONE, "确认")
    again = small_assistant.ask("确认", session_id=done.session_id)
    assert done.data["work_order"] in again.text and len(orders(small_assistant)) == 1
    assert orders(small_assistant)[0].department == "human-resources"


def test_a_correction_changes_that_detail_and_shows_the_summary_again(small_assistant):
    *_, summary = talk(small_assistant, "解放路上的井盖不见了，昨天开始的", "江南区解放路58号", "匿名")
    assert summary.data["asks_for"] == "confirm" and "解放路58号" in summary.text
    fixed = small_assistant.ask("地址写错了，是人民路12号", session_id=summary.session_id)
    assert fixed.data["asks_for"] == "confirm" and "人民路12号" in fixed.text and "解放路58号" not in fixed.text
    when = small_assistant.ask("时间不对，应该是上周", session_id=summary.session_id)
    assert "上周" in when.text and when.data["asks_for"] == "confirm"
    done = small_assistant.ask("确认", session_id=summary.session_id)
    assert orders(small_assistant)[0].address == "人民路12号" and done.data["work_order"]


def test_a_correction_without_the_new_value_asks_for_it(small_assistant):
    *_, summary = talk(small_assistant, "建议在学校门口加个红绿灯", "西山区和平路小学", "一直都没有", "不留")
    asked = small_assistant.ask("地址写错了", session_id=summary.session_id)
    assert asked.data["asks_for"] == "address"
    again = small_assistant.ask("和平路66号旁边的路口", session_id=summary.session_id)
    assert again.data["asks_for"] == "confirm" and "和平路66号旁边的路口" in again.text and "建议" in again.text


def test_an_anonymous_english_report_and_its_status_by_number_only(small_assistant):
    first, *_, done = talk(small_assistant, "the bus driver was rude", "Jiangnan District, the Renmin Road bus stop",
                           "this morning", "anonymous", "yes")
    assert first.lang == "en" and "complaint" in first.text
    assert "anonymous" in _[-1].text and "Transport Bureau" in _[-1].text
    number = done.data["work_order"]
    assert number in done.text and "mobile number" not in done.text
    order = orders(small_assistant)[0]
    assert order.phone_hash == "" and order.kind == "complaint" and order.department == "transport"
    other = small_assistant.ask(f"what is the status of {number}")
    assert other.status == "answered" and "dispatched" in other.text and "rude" not in other.text


def test_status_after_the_department_replies(small_assistant):
    *_, done = talk(small_assistant, "小区的消防通道被私家车堵死了", "东湖区湖滨路201号", "好几天了", PHONE, "确认")
    number = done.data["work_order"]
    workorders.start(small_assistant, number, "消防赵工")
    workorders.reply(small_assistant, number, "已联系物业清理通道并张贴告示", "消防赵工")
    same = small_assistant.ask("我上次反映的问题处理得怎么样了", session_id=done.session_id)
    assert same.status == "answered" and "已办结" in same.text and "已联系物业清理通道" in same.text
    assert "处理中" in same.text and "已受理" in same.text and "消防救援支队" in same.text
    asked = small_assistant.ask(f"查询工单{number}")
    assert asked.data["asks_for"] == "order_phone"
    shown = small_assistant.ask(PHONE, session_id=asked.session_id)
    assert "已联系物业清理通道" in shown.text and "消防通道" in shown.text
    wrong = talk(small_assistant, f"查询工单{number}", "13900009999")[-1]
    assert wrong.status == "refused" and "消防通道" not in wrong.text and "没有找到" in wrong.text


def test_status_without_a_number_asks_for_it(small_assistant):
    asked = small_assistant.ask("我上次投诉的事情处理得怎么样了")
    assert asked.skill == "report_issue" and asked.data["asks_for"] == "order_number"
    unknown = small_assistant.ask("GD2026-00000000", session_id=asked.session_id)
    assert unknown.status == "refused"


def test_a_bare_complaint_asks_what_happened(small_assistant):
    first, second = talk(small_assistant, "我要投诉", "楼下烧烤店每天晚上吵到两点")
    assert first.data["asks_for"] == "what" and "什么问题" in first.text
    assert second.data["asks_for"] == "where" and "烧烤店" in second.text and "投诉" in second.text


def test_a_report_that_is_really_a_question_goes_to_the_guides(small_assistant):
    reply = small_assistant.ask("我要反映个问题：办护照要多少钱？")
    assert reply.skill == "guide_qa" and reply.status == "answered" and "120元" in reply.text
    assert not orders(small_assistant)


def test_cancelling_files_nothing(small_assistant):
    first, stopped = talk(small_assistant, "马路中间有个大坑，车都爆胎了", "取消")
    assert first.skill == "report_issue" and stopped.status == "cancelled" and not orders(small_assistant)


def test_a_phone_that_is_not_a_number_is_asked_again(small_assistant):
    *_, asked = talk(small_assistant, "滨江新区海港大道9号门口的垃圾三天没人清了", "138")
    assert asked.data["asks_for"] == "phone" and "11" in asked.text


@pytest.mark.parametrize("message", ["小区里有很浓的煤气味", "我要投诉，围墙倒了有人被压住"])
def test_danger_inside_a_report_is_an_emergency_first(small_assistant, message):
    assert small_assistant.ask(message).status == "emergency"
    started = small_assistant.ask("单元门口的路灯坏了好几天")
    assert started.skill == "report_issue"
    during = small_assistant.ask(message, session_id=started.session_id)
    assert during.status == "emergency" and not orders(small_assistant)


def test_a_complaint_that_asks_for_a_person_is_handed_over(small_assistant):
    reply = small_assistant.ask("我要投诉你们这个机器人，找你们工作人员")
    assert reply.status == "handoff" and reply.skill == "handoff" and not orders(small_assistant)


def test_a_question_that_a_guide_answers_is_answered_and_nothing_filed(small_assistant):
    reply = small_assistant.ask("投诉一下，办个护照到底收多少钱？")
    assert reply.status == "answered" and "120元" in reply.text and reply.citations
    assert not orders(small_assistant)


def test_a_report_the_router_is_unsure_of_is_taken_when_no_guide_answers_it(small_assistant, monkeypatch):
    """Below the router's threshold, a message that reads like a report and that no guide answers
    starts a report instead of "nothing found"; a guide question in the same position is answered."""
    from assistant.dialogue import pipeline as dialogue

    monkeypatch.setattr(dialogue, "SKILL_THRESHOLD", 0.999)  # the router chooses no skill at all
    report = small_assistant.ask("我们楼下的快递柜坏了好几天了")
    assert report.skill == "report_issue" and report.status == "asking"
    question = small_assistant.ask("护照多少钱")
    assert question.skill == "guide_qa" and question.status == "answered"


def test_declining_the_summary_files_nothing(small_assistant):
    *_, summary = talk(small_assistant, "解放路上的井盖不见了，昨天开始的", "江南区解放路58号", "匿名")
    assert summary.data["asks_for"] == "confirm" and summary.data["confirming"] == "work_order"
    stopped = small_assistant.ask("先不提交", session_id=summary.session_id)
    assert stopped.status == "cancelled" and not orders(small_assistant)


def test_status_in_a_new_chat_with_only_the_phone_lists_that_phones_open_orders(small_assistant):
    *_, first = talk(small_assistant, "老板拖欠了我三个月工资", "高新区创新路1号的电子厂", "上个月开始", PHONE, "确认")
    *_, second = talk(small_assistant, "我们小区路灯坏了一个星期了", "江北区翠湖小区3栋门口", PHONE, "确认")
    *_, other = talk(small_assistant, "解放路上的井盖不见了，昨天开始的", "江南区解放路58号", "13900002222", "确认")
    asked, listed = talk(small_assistant, "我上次投诉的事情处理得怎么样了", PHONE)
    assert asked.data["asks_for"] == "order_number" and "手机号" in asked.text
    assert first.data["work_order"] in listed.text and second.data["work_order"] in listed.text
    assert other.data["work_order"] not in listed.text, "another phone's order is never shown"
    assert "13900002222" not in listed.text and "创新路" not in listed.text
    nobody = talk(small_assistant, "查询工单进度", "13700009999")[-1]
    assert "没有正在处理的工单" in nobody.text and "GD" not in nobody.text
