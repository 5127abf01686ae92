"""Whole conversations through the pipeline: sessions, language, follow-ups, topic changes."""

import pytest

from assistant import Assistant

pytestmark = pytest.mark.integration


def test_follow_up_is_answered_about_the_last_topic(small_assistant):
    first = small_assistant.ask("护照需要什么材料")
    assert first.citations[0].doc == "permits/passport.md"
    follow = small_assistant.ask("那要多少钱？", session_id=first.session_id)
    assert follow.status == "answered" and "120元" in follow.text and follow.citations[0].section == "收费标准"
    english = small_assistant.ask("What do I need for a passport?")
    fee = small_assistant.ask("what about the fee?", session_id=english.session_id)
    assert "120 yuan" in fee.text


def test_language_follows_the_citizen(small_assistant):
    zh = small_assistant.ask("你好")
    en = small_assistant.ask("How much does a passport cost?", session_id=zh.session_id)
    assert (zh.lang, en.lang) == ("zh", "en") and en.text.startswith("From")
    short = small_assistant.ask("ok", session_id=en.session_id)
    assert short.lang == "en"


def test_a_restart_loses_no_conversation(small_assistant):
    first = small_assistant.ask("护照需要什么材料")
    again = Assistant.from_settings(small_assistant.settings)
    follow = again.ask("那要多久？", session_id=first.session_id)
    assert "7个工作日" in follow.text


def test_cancel_words_stop_a_waiting_skill(small_assistant):
    asking = small_assistant.ask("帮我查一下我的办件进度")
    assert asking.status == "asking"
    stopped = small_assistant.ask("算了", session_id=asking.session_id)
    assert stopped.status == "cancelled" and "没有为您办理" in stopped.text
    after = small_assistant.ask("护照多少钱", session_id=asking.session_id)
    assert after.skill == "permits" or after.skill == "guide_qa"
    assert after.status == "answered"


def test_a_clear_topic_change_leaves_the_waiting_skill(small_assistant):
    asking = small_assistant.ask("帮我查一下我的办件进度")
    reply = small_assistant.ask("转人工", session_id=asking.session_id)
    assert reply.status == "handoff"


def test_route_api_reports_skill_score_and_runner_up(small_assistant):
    route = small_assistant.route("转人工")
    assert route.skill == "handoff" and route.runner_up and route.score > route.runner_up_score
    assert small_assistant.route("我家着火了").skill == "emergency"
    assert small_assistant.route("what is the capital of France").skill == "out_of_scope"
    guide = small_assistant.route("结婚登记需要什么材料")
    assert guide.skill in ("guide_qa", "permits") and (guide.domain == "civil_affairs" or guide.skill == "permits")


def test_an_emergency_wins_while_a_skill_waits_for_a_slot(small_assistant):
    asking = small_assistant.ask("帮我约明天第一人民医院心内科")
    assert asking.status == "asking"
    alarm = small_assistant.ask("等一下，我妈现在突然昏过去了叫不醒", session_id=asking.session_id)
    assert alarm.status == "emergency" and "120" in alarm.data["numbers"]


def test_a_crisis_reported_for_a_friend_puts_the_crisis_line_first_and_speaks_to_the_helper(small_assistant):
    reply = small_assistant.ask("我朋友刚才说他不想活了")
    assert reply.status == "emergency" and reply.data["numbers"][0] == "12356" and reply.data["for_someone_else"]
    assert "陪在他/她身边" in reply.text
    own = small_assistant.ask("我真的不想活了")
    assert own.data["numbers"][0] != "12356" and not own.data["for_someone_else"] and "12356" in own.text


def test_fever_with_cough_is_not_a_plain_booking(small_assistant):
    reply = small_assistant.ask("发烧38度5还咳嗽，去哪看")
    assert reply.status != "emergency" and reply.skill != "health_booking"


def test_a_request_becomes_one_and_a_question_in_it_is_answered_too(small_assistant):
    reply = small_assistant.ask("小区路灯坏了一个星期了，另外问一下办护照要多少钱")
    assert reply.skill == "report_issue" and reply.status == "asking" and "120元" in reply.text


def test_a_long_complaint_is_summarised_in_the_citizens_own_words(small_assistant):
    text = ("我家楼下那家烧烤店从去年开始每天晚上营业到凌晨两三点，油烟直接往我们楼上飘，窗户都不敢开，"
            "老人孩子被呛得咳嗽，跟老板说了好多次也不听，物业说管不了，实在忍无可忍了，希望有关部门尽快来查一查")
    reply = small_assistant.ask(text)
    assert reply.skill == "report_issue" and "烧烤店" in reply.text and text not in reply.text


def test_an_elliptical_question_after_an_unanswerable_one_is_not_answered_from_a_guide(small_assistant):
    """"护照明年会涨价吗？涨多少": the second part asks about the first, which no guide answers, so the
    passport fee is not quoted as if it answered it; "多少钱？几天能拿" still answers both."""
    refused = small_assistant.ask("护照明年会涨价吗？涨多少")
    assert refused.status == "refused" and "120" not in refused.text
    english = small_assistant.ask("Will the passport fee go up next year? By how much?")
    assert english.status == "refused" and "120" not in english.text
    both = small_assistant.ask("护照多少钱？几天能拿")
    assert both.status == "answered" and "120元" in both.text
