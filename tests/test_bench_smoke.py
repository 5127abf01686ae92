"""Each bench script runs end to end on a tiny corpus, prints its table and writes its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant import Assistant
from tests.conftest import ROOT, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run(script: str, *args: str, results) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env |= {"BENCH_RESULTS": str(results), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def small_home(tmp_path, small_knowledge):
    home = tmp_path / "home"
    Assistant.from_settings(make_settings(home, small_knowledge)).ingest()
    return home


def test_latency_reports_median_and_p95_per_skill(tmp_path, small_home):
    out = run("latency.py", "--home", str(small_home), "--questions", "12", "--runs", "2", results=tmp_path)
    assert "ask p95 ms" in out and "skill / status" in out
    data = json.loads((tmp_path / "latency.json").read_text())
    assert len(data["p95_ms"]) == 2 and all(p >= m > 0 for m, p in zip(data["median_ms"], data["p95_ms"]))
    assert sum(v["n"] for v in data["by_skill"].values()) == 24


def test_ingest_compares_with_the_bare_embedder_and_re_ingests_one_file(tmp_path):
    out = run("ingest.py", "--files", "2", "--runs", "1", results=tmp_path)
    assert "ratio ingest/raw" in out
    [row] = json.loads((tmp_path / "ingest.json").read_text())
    assert 0.3 < row["ratio"] < 2 and len(row["reingest_files"]) == 1 and row["reingest_embedded"] <= 2


def test_scale_builds_a_synthetic_corpus_and_compares_with_langchain(tmp_path, small_knowledge):
    out = run("scale.py", "--source", str(small_knowledge), "--work", str(tmp_path / "work"), "--sizes", "real", "60",
              "--runs", "1", "--questions", "10", results=tmp_path)
    assert "LC p50" in out
    real, grown = json.loads((tmp_path / "scale.json").read_text())
    assert real["chunks"] < 20 <= 60 <= grown["chunks"] < 90
    assert grown["embedded_for_real"] == 0 and grown["serving_peak_rss_mb"] > 50
    cities = {p.parent.name for p in (tmp_path / "work" / "60" / "knowledge").rglob("cities/*/*.md")}
    variant = (tmp_path / "work" / "60" / "knowledge" / "permits" / "cities" / sorted(cities)[0] / "passport.md")
    assert len(cities) >= 5 and "澄湾" not in variant.read_text(encoding="utf-8")
    assert "\ncity: " in variant.read_text(encoding="utf-8").split("---")[1], "each variant names its city"
    calibration = json.loads((tmp_path / "work" / "calibration.json").read_text())
    assert 0.5 < calibration["quantiles"]["5"] <= calibration["quantiles"]["50"] <= 1.0


def test_serving_times_the_cold_start_of_a_real_server(tmp_path, small_home, small_knowledge):
    out = run("serving.py", "--home", str(small_home), "--knowledge", str(small_knowledge), "--runs", "1",
              "--requests", "3", results=tmp_path)
    assert "cold start to the page" in out
    [row] = json.loads((tmp_path / "serving.json").read_text())["runs"]
    assert 0 < row["page_s"] < row["first_answer_s"] and row["serving_peak_rss_mb"] > 100


def test_llm_path_reports_statuses_draft_times_and_hand_verdicts(tmp_path, small_home):
    from tests.llm_server import Response, ScriptedLLM

    def first_passage(request: dict) -> str:  # a model that copies the first line of passage [1]
        text = request["messages"][-1]["content"].split("[1] ", 1)[1].splitlines()[1]
        return f"{text}[1]"

    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_text(json.dumps({"q": "护照多少钱", "correct": True}, ensure_ascii=False) + "\n"
                        + json.dumps({"q": "结婚登记要带什么", "correct": False}, ensure_ascii=False) + "\n")
    with ScriptedLLM(default=Response(text=first_passage)) as llm:
        out = run("llm_path.py", "--base-url", llm.url, "--home", str(small_home), "--ask", "护照多少钱",
                  "--ask", "结婚登记要带什么", "--ask", "我家着火了", "--verdicts", str(verdicts), results=tmp_path)
    assert "through the LLM 2" in out and "judged by hand 2" in out
    data = json.loads((tmp_path / "llm_path.json").read_text())
    summary, answers = data["summary"], {a["q"]: a for a in data["answers"]}
    assert summary["questions"] == 3 and summary["judged_correct"] == 1 and summary["draft_ms"]["n"] == 2
    assert answers["护照多少钱"]["llm_wrote"].endswith("[1]") and answers["我家着火了"]["status"] == "emergency"
    assert answers["护照多少钱"]["verification"] in ("verified", "repaired", "fallback")
