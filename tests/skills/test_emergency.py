"""Emergency triage and replies, on the demo corpus (its emergency guides give the first steps)."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CASES = [
    ("我们家厨房着火了", "119", "火灾"),
    ("厨房里有一股臭鸡蛋味，是不是漏气了", "119", "燃气"),
    ("我爸突然倒在地上叫不醒", "120", "急症"),
    ("有个小孩掉进河里了", "110", "溺水"),
    ("刚才出车祸了，有人流了很多血", "122", "交通事故"),
    ("有人拿着刀在楼下追人", "110", "人身安全"),
    ("我真的不想活了", "12356", "心理危机"),
    ("There is a fire in my building", "119", "fire"),
    ("My father collapsed and is not breathing", "120", "medical"),
    ("I want to kill myself", "12356", "crisis"),
    ("着伙了，楼道里全是烟", "119", "火灾"),
]


@pytest.mark.parametrize("message, number, label", CASES)
def test_emergency_answers_with_the_number_first(corpus_assistant, message, number, label):
    reply = corpus_assistant.ask(message)
    assert reply.status == "emergency" and reply.skill == "emergency"
    assert number in reply.text.split("\n")[0] + reply.text and label in reply.text


def test_first_steps_come_from_the_emergency_guide_with_a_citation(corpus_assistant):
    reply = corpus_assistant.ask("煤气泄漏了怎么办")
    assert reply.citations and reply.citations[0].doc == "emergency/gas-leak.md"
    assert "[1]" in reply.text
    english = corpus_assistant.ask("I smell gas in my kitchen")
    assert english.citations[0].doc == "emergency/gas-leak.en.md" and english.lang == "en"


def test_shelters_by_district_for_floods_and_earthquakes(corpus_assistant):
    reply = corpus_assistant.ask("西山区发洪水了，水涨得很快")
    assert reply.status == "emergency" and "避难场所" in reply.text and "西山区" in reply.text


def test_emergency_is_not_beaten_by_a_greeting_or_a_long_message(corpus_assistant):
    assert corpus_assistant.ask("你好，我家着火了").status == "emergency"
    long = "我想问一下公积金租房提取的事情，上个月交了房租。" * 5 + "对了，隔壁老人晕倒了叫不醒。" + "另外护照怎么办？" * 3
    assert corpus_assistant.ask(long[:1990]).status == "emergency"


def test_indirect_emergency_by_similarity(corpus_assistant):
    assert corpus_assistant.ask("门外有人一直砸门说要进来，我很害怕").status == "emergency"


@pytest.mark.parametrize("message", ["火车票怎么买", "消防安全检查怎么申请", "老人卡怎么办", "地铁几点停运"])
def test_ordinary_questions_are_not_emergencies(corpus_assistant, message):
    assert corpus_assistant.ask(message).status != "emergency"


@pytest.mark.parametrize("text", ["楼下烧烤店每天晚上吵到两点，窗户关上都没用", "我们楼道里的灯坏了", "the street light outside is broken"])
def test_reports_that_sound_like_an_emergency_are_not_one(small_assistant, text):
    assert small_assistant.triager.triage(text).emergency is None


@pytest.mark.parametrize("text", ["邻居吵架动刀了，快来人", "楼道里烟很大，门口的灯也坏了"])
def test_an_emergency_inside_a_complaint_is_still_one(small_assistant, text):
    assert small_assistant.triager.triage(text).emergency is not None
