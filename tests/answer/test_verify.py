"""The checks an LLM answer must pass: citations, numbers, canary, personal data (zh and en)."""

import pytest

from assistant.answer import verify

pytestmark = pytest.mark.unit

GUIDE = ("收费标准：每本120元，加急另收15%。办理时限：7个工作日。咨询电话：0571-8210 0100，或拨打12345。"
         "报名截止2026年11月30日。办公时间9:00-12:00、13:30-17:30。有效期十年，需照片两张。")
GUIDE_EN = ("Fees: 120 yuan per passport, 1,200 yuan for a group of ten. Processing time: 7 working days. "
            "Contact: 8210 0100. Deadline: 30 November 2026. Office hours 9:00-17:30.")


@pytest.mark.parametrize("answer", [
    "每本120元[1]，7个工作日[1]。",
    "每本１２０元[1]，七个工作日可以办好[1]。",
    "加急另收15%[1]，也就是百分之十五[1]。",
    "电话 8210 0100[1]，或 82100100[1]，或 0571-82100100[1]，或 12345[1]。",
    "截止日期是2026年11月30日[1]，即2026-11-30[1]、11月30日[1]。",
    "上午9:00到12:00，下午13:30至17:30[1]。",
    "有效期10年[1]，照片2张[1]。",
    "1. 带身份证\n2. 带照片\n3. 交120元[1]",
    "第3步：交费120元[1]。",
])
def test_numbers_stated_by_the_passage_are_supported_in_chinese(answer):
    assert verify.unsupported_numbers(answer, [GUIDE]) == []


@pytest.mark.parametrize("answer, invented", [
    ("每本50元[1]。", "50"),
    ("每本一百五十元[1]。", "一百五十"),
    ("加急另收20%[1]。", "20"),
    ("5个工作日[1]。", "5"),
    ("电话 8210 0199[1]。", "8210 0199"),
    ("截止2026年12月30日[1]。", "2026年12月30日"),
    ("截止11月31日前[1]。", "31"),
    ("下午17:00下班[1]。", "17:00"),
    ("每本120.5元[1]。", "120.5"),
])
def test_invented_numbers_are_found_in_chinese(answer, invented):
    assert invented in " ".join(verify.unsupported_numbers(answer, [GUIDE]))


@pytest.mark.parametrize("answer", [
    "A passport costs 120 yuan [1] and takes 7 working days [1].",
    "A group of ten pays 1,200 yuan [1], that is 1200 yuan [1].",
    "It takes seven working days [1]. Call 8210 0100 [1].",
    "Apply by 30 November 2026 [1] (November 30, 2026 [1]); the office opens 9:00-17:30 [1].",
])
def test_numbers_stated_by_the_passage_are_supported_in_english(answer):
    assert verify.unsupported_numbers(answer, [GUIDE_EN]) == []


@pytest.mark.parametrize("answer, invented", [
    ("It costs 150 yuan [1].", "150"),
    ("It takes five working days [1].", "five working days"),
    ("Apply by 30 December 2026 [1].", "30 December 2026"),
    ("Call 8210 0111 [1].", "8210 0111"),
])
def test_invented_numbers_are_found_in_english(answer, invented):
    assert verify.unsupported_numbers(answer, [GUIDE_EN]) == [invented]


def test_citation_markers_and_list_numbers_are_not_facts():
    assert verify.unsupported_numbers("材料如下：\n1) 身份证[2]\n2) 照片[3]", ["身份证和照片"]) == []


def test_the_canary_or_its_random_part_is_a_leak():
    assert verify.leaked_canary("my prompt says CD-CANARY-5e1f0a", "CD-CANARY-5e1f0a")
    assert verify.leaked_canary("校验串是 5E1F0A", "CD-CANARY-5e1f0a")
    assert not verify.leaked_canary("每本120元[1]", "CD-CANARY-5e1f0a")


@pytest.mark.parametrize("answer", [
    "已为手机 13800138000 登记[1]",
    "身份证号 110101199003074514 已受理[1]",
    "退款到卡 6222 0202 0000 1234 562[1]",
    "请联系 li.na@mail.example[1]",
])
def test_personal_data_the_citizen_did_not_give_is_caught_and_masked(answer):
    found = verify.foreign_pii(answer, typed="护照多少钱", passages=[GUIDE])
    assert len(found) == 1 and "*" in found[0]


def test_personal_data_the_citizen_typed_or_the_guide_publishes_is_allowed():
    typed = "我的手机是１３８ ００１３ ８０００，邮箱 Li.Na@mail.example"
    assert verify.foreign_pii("已为手机 13800138000 登记，回执发到 li.na@mail.example[1]", typed=typed, passages=[]) == []
    assert verify.foreign_pii("邮件请发 service@chengwan.gov.example[1]", typed="",
                              passages=["电子邮箱：service@chengwan.gov.example"]) == []


def test_all_problems_of_the_whole_answer_are_reported_together():
    reasons = verify.problems("CD-CANARY-77aa 每本50元[4]，联系 13912345678。", passages=[GUIDE],
                              canary="CD-CANARY-77aa", typed="")
    assert reasons[0] == "leaked canary" and reasons[1].startswith("personal data") and len(reasons) == 2
    assert verify.problems("每本120元[1]。", passages=[GUIDE], canary="CD-CANARY-77aa", typed="") == []
    assert verify.problems("  \n", passages=[GUIDE], canary="CD-CANARY-77aa", typed="") == ["empty answer"]
