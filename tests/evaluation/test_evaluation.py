"""The evaluation runner on tiny suites over the small knowledge: failures, thresholds, reports, bad files."""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.evaluation.metrics import METRICS
from assistant.evaluation.report import REPORT_KEYS, SCHEMA
from assistant.evaluation.main import run_cli

pytestmark = pytest.mark.integration

SUITE = """\
suite: tiny
description: the small knowledge
thresholds:
  pass_rate: 0.5
cases:
  - id: fee-zh
    smoke: true
    say: 办护照要多少钱
    status: answered
    skill: [guide_qa, permits]
    cites: [permits/passport.md]
    contains_all: [[120元, 120 yuan]]
  - id: follow-up
    tags: [multi_turn]
    turns:
      - say: 护照需要什么材料
        cites: [permits/passport.md]
        contains_all: [身份证]
      - say: 那要多久？
        contains_all: [[7个工作日, 7 working days]]
  - id: must-fail
    say: 护照多少钱
    contains_all: [999元]
  - id: fire
    tags: [emergency]
    say: 我家厨房着火了
    status: emergency
    contains_all: ["119"]
"""


def args_for(*suites, **options) -> argparse.Namespace:
    values = {"suites": [str(s) for s in suites], "report": None, "baseline": None, "llm": False, "smoke": False,
              "retrieval": None, "routing": None, "json": False}
    return argparse.Namespace(**{**values, **options})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_case_that_must_fail_fails_and_the_others_pass(small_assistant, tmp_path, capsys):
    suite = write(tmp_path / "tiny.yaml", SUITE)
    code = run_cli(small_assistant, args_for(suite, report=tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert code == 0, capsys.readouterr()
    outcome = {c["id"]: c["passed"] for c in report["cases"]}
    assert outcome == {"fee-zh": True, "follow-up": True, "must-fail": False, "fire": True}
    failed = next(c for c in report["cases"] if c["id"] == "must-fail")
    assert failed["turns"][0]["failures"] == ["missing fact: 999元"] and "120元" in failed["turns"][0]["reply"]
    metrics = report["overall"]["metrics"]
    assert metrics["pass_rate"] == 0.75 and metrics["emergency_recall"] == 1.0 and metrics["hit_at_1"] == 1.0
    assert metrics["fact_recall"] == 0.8  # 4 of the 5 facts
    assert report["tags"]["multi_turn"] == {"cases": 1, "passed": 1, "pass_rate": 1.0}
    printed = capsys.readouterr().out
    assert "must-fail" in printed and "missing fact: 999元" in printed and "gate: PASSED" in printed


def citydesk_eval(*args, home, knowledge):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env.update({"CITYDESK_HOME": str(home), "CITYDESK_KNOWLEDGE": str(knowledge)})
    return subprocess.run([sys.executable, "-m", "assistant.cli", "eval", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)


def digest(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()


@pytest.mark.slow
def test_a_missed_threshold_exits_non_zero_and_production_is_untouched(small_assistant, tmp_path):
    home, knowledge = small_assistant.settings.home, small_assistant.settings.knowledge
    before = digest(home)
    strict = write(tmp_path / "strict.yaml", SUITE.replace("pass_rate: 0.5", "pass_rate: 1.0"))
    result = citydesk_eval(strict, home=home, knowledge=knowledge)
    assert result.returncode == 1, result.stderr
    assert "gate: FAILED" in result.stdout and "tiny: pass_rate 0.750 (must be ≥ 1.000)" in result.stdout
    assert digest(home) == before  # index and database of the configured home are as they were
    lenient = citydesk_eval(write(tmp_path / "lenient.yaml", SUITE), home=home, knowledge=knowledge)
    assert lenient.returncode == 0 and "gate: PASSED" in lenient.stdout


def test_emergency_recall_below_one_fails_the_gate_whatever_the_suite_says(small_assistant, tmp_path):
    suite = write(tmp_path / "e.yaml", "cases:\n  - id: not-an-emergency\n    say: 护照多少钱\n    status: emergency\n")
    assert run_cli(small_assistant, args_for(suite)) == 1


def test_the_report_schema_is_stable(small_assistant, tmp_path):
    suite = write(tmp_path / "tiny.yaml", SUITE)
    run_cli(small_assistant, args_for(suite, report=tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert tuple(report) == REPORT_KEYS and report["schema"] == SCHEMA
    assert set(report["overall"]["metrics"]) == set(METRICS)
    assert set(report["suites"][0]) == {"name", "file", "description", "cases", "passed", "metrics", "thresholds"}
    assert report["suites"][0]["thresholds"] == [{"metric": "pass_rate", "kind": "min", "limit": 0.5,
                                                  "value": 0.75, "ok": True}]
    assert set(report["cases"][0]) == {"id", "suite", "file", "line", "tags", "passed", "turns"}
    assert set(report["cases"][0]["turns"][0]) == {"say", "line", "expect", "reply", "status", "skill", "citations",
                                                   "lang", "asks_for", "ticket", "latency_ms", "rank", "facts",
                                                   "facts_found", "failures", "passed", "answer_source", "verification",
                                                   "refusal"}
    assert set(report["routing"]) == {"n", "accuracy", "labels", "confusion"}
    assert set(report["gate"]) == {"passed", "missed"} and report["baseline"] is None
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    assert page.count("<svg") == 3  # pass rates, confusion heat-map, latency histogram
    assert "must-fail" in page and "护照多少钱" in page and "missing fact: 999元" in page
    assert "id=\"fee-zh\"" not in page  # only failing cases are shown in full
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## Failing cases" in text and "### must-fail" in text and "| pass_rate | 0.750 |" in text


def test_a_baseline_shows_changes_and_newly_failing_cases(small_assistant, tmp_path):
    suite = write(tmp_path / "tiny.yaml", SUITE)
    run_cli(small_assistant, args_for(suite, report=tmp_path / "before"))
    write(suite, SUITE.replace("[[120元, 120 yuan]]", "[[130元, 130 yuan]]").replace("contains_all: [999元]",
                                                                                     "contains_all: [120元]"))
    run_cli(small_assistant, args_for(suite, report=tmp_path / "after", baseline=tmp_path / "before" / "report.json"))
    baseline = json.loads((tmp_path / "after" / "report.json").read_text())["baseline"]
    assert baseline["newly_failing"] == ["fee-zh"] and baseline["newly_passing"] == ["must-fail"]
    assert baseline["overall"]["pass_rate"] == {"before": 0.75, "after": 0.75, "change": 0.0}
    assert baseline["overall"]["hit_at_1"]["change"] == 0.0
    assert "Newly failing: fee-zh" in (tmp_path / "after" / "report.md").read_text()


BROKEN = {
    "unknown key": ("cases:\n  - id: a\n    say: hi\n    contains: [x]\n", 4, "unknown key 'contains'"),
    "bad yaml": ("cases:\n  - id: a\n    say: [unclosed\n  - id: b\n", 4, "not valid YAML"),
    "bad status": ("cases:\n  - id: a\n    turns:\n      - say: hi\n        status: answerd\n", 5, "unknown status"),
    "no say": ("cases:\n  - id: a\n    turns:\n      - status: answered\n", 4, "needs say"),
    "threshold": ("thresholds:\n  pass_rate: 80\ncases:\n  - id: a\n    say: hi\n", 2, "between 0 and 1"),
    "duplicate key": ("cases:\n  - id: a\n    say: hi\n    say: ho\n", 4, "duplicate key 'say'"),
    "unknown skill": ("cases:\n  - id: a\n    say: hi\n    skill: bookings\n", 4, "unknown skill"),
    "fact type": ("cases:\n  - id: a\n    say: hi\n    contains_all: [[]]\n", 4, "contains_all must be"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_suite_names_the_file_and_line(small_assistant, tmp_path, capsys, name):
    text, line, message = BROKEN[name]
    suite = write(tmp_path / "broken.yaml", text)
    assert run_cli(small_assistant, args_for(suite)) == 2
    err = capsys.readouterr().err
    assert f"{suite}:{line}:" in err and message in err and "Traceback" not in err


def test_cites_must_name_an_indexed_guide_and_ids_must_be_unique(small_assistant, tmp_path, capsys):
    typo = write(tmp_path / "typo.yaml", "cases:\n  - id: a\n    say: 护照多少钱\n    cites: [permits/pasport.md]\n")
    assert run_cli(small_assistant, args_for(typo)) == 2
    assert f"{typo}:2: cites permits/pasport.md" in capsys.readouterr().err
    one = write(tmp_path / "one.yaml", "cases:\n  - id: same\n    say: hi\n")
    two = write(tmp_path / "two.yaml", "cases:\n  - id: x\n    say: hi\n  - id: same\n    say: ho\n")
    assert run_cli(small_assistant, args_for(one, two)) == 2
    assert f"{two}:4: case id 'same' is already used at {one}:2" in capsys.readouterr().err


def test_smoke_runs_only_the_cases_marked_smoke(small_assistant, tmp_path, capsys):
    suite = write(tmp_path / "tiny.yaml", SUITE)
    assert run_cli(small_assistant, args_for(suite, smoke=True, json=True)) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in report["cases"]] == ["fee-zh"] and report["run"]["smoke"] is True


def test_booking_cases_do_not_share_a_database(small_assistant, tmp_path):
    """Two cases booking the same slot both succeed: every case has its own copy of the seeded database."""
    booking = ["帮我挂第一人民医院心血管内科的号", "明天上午", "08:00", "张三", "110101199003074514", "13800001234", "确认"]
    turns = "".join(f"      - say: \"{t}\"\n" for t in booking[:-1])
    turns += f"      - say: {booking[-1]}\n        status: booked\n"
    suite = write(tmp_path / "book.yaml", "clock: 2026-11-30T07:30\ncases:\n"
                  + "".join(f"  - id: book-{n}\n    turns:\n{turns}" for n in (1, 2)))
    assert run_cli(small_assistant, args_for(suite, report=tmp_path / "out")) == 0, \
        (tmp_path / "out" / "report.md").read_text()


def test_external_retrieval_and_routing_sets(small_assistant, tmp_path, capsys):
    corpus = write(tmp_path / "corpus.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"doc_id": "d1", "text": "护照每本120元，7个工作日内制发。", "department": "出入境"},
        {"doc_id": "d2", "text": "结婚登记免费，需要双方户口簿和身份证。"},
        {"doc_id": "d3", "text": "地铁票价按里程分段计价，起步价2元。"}]))
    queries = write(tmp_path / "q.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"question": "办护照多少钱", "gold_doc_id": "d1"}, {"question": "结婚要带什么", "gold_doc_id": "d2"}]))
    routes = write(tmp_path / "routes.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "转人工", "label": "handoff"}, {"text": "我家着火了", "label": "emergency"},
        {"text": "what is the capital of France", "label": "out_of_scope"}, {"text": "你好", "label": "smalltalk"}]))
    assert run_cli(small_assistant, args_for(retrieval=[corpus, queries], routing=routes, json=True)) == 0
    result = json.loads(capsys.readouterr().out)
    default = result["retrieval"]["results"][0]
    assert default["name"] == "citydesk (default fusion)" and default["recall_1"] == 1.0 and default["mrr_10"] == 1.0
    assert result["routing"]["alone"]["accuracy"] == 1.0 and "in_context" not in result["routing"]
    write(routes, '{"text": "hi"}\n')
    assert run_cli(small_assistant, args_for(routing=routes)) == 2
    assert f"{routes}: row 1 has no label" in capsys.readouterr().err


class _Judge(BaseHTTPRequestHandler):
    """A stand-in OpenAI-compatible server: every chat completion is the verdict {"score": 4}."""

    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        content = json.dumps({"score": 4, "reason": "supported"})
        if body.get("stream"):
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                                  "finish_reason": "stop"}]}
            payload, kind = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode(), "text/event-stream"
        else:
            payload, kind = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                        "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                            "role": "assistant", "content": content}}]}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_the_llm_judge_scores_faithfulness_and_relevance(small_assistant):
    from dataclasses import replace

    from assistant.evaluation.judge import build_judge, parse_verdict

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Judge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = replace(small_assistant.settings, llm_base_url=f"http://127.0.0.1:{server.server_port}/v1",
                           llm_model="judge-model")
        judge = build_judge(settings)
        reply = small_assistant.ask("护照多少钱")
        scores = judge.score("护照多少钱", reply, small_assistant.index)
    finally:
        server.shutdown()
    assert scores["faithfulness"] == 0.75 and scores["relevance"] == 0.75
    prompt = json.dumps(_Judge.requests[0], ensure_ascii=False)
    assert "每本120元" in prompt and "忠实度" in prompt and _Judge.requests[0]["model"] == "judge-model"
    assert parse_verdict("no json here")[0] is None and parse_verdict('{"score": 9}')[0] is None
    assert build_judge(small_assistant.settings) is None


@pytest.mark.unit
def test_the_shipped_suites_cover_every_skill_both_languages_and_every_kind_of_case():
    from assistant.evaluation.suite import load_suites, resolve_paths
    from assistant.skills import REGISTRY

    suites = load_suites(resolve_paths([]), set(REGISTRY))
    cases = [c for s in suites for c in s.cases]
    turns = [t for c in cases for t in c.turns]
    assert len(cases) >= 250 and len({c.id for c in cases}) == len(cases)
    assert {s for t in turns for s in ([t.expect["skill"]] if isinstance(t.expect.get("skill"), str)
                                       else t.expect.get("skill", []))} >= set(REGISTRY)
    assert {"answer", "follow_up", "multi_turn", "booking", "cancel", "out_of_scope", "unanswerable", "emergency",
            "emergency_indirect", "handoff", "adversarial", "injection", "privacy", "smalltalk"} <= {
        tag for c in cases for tag in c.tags}
    english = [c for c in cases if "en" in c.tags]
    assert len(english) >= 60 and all(not any("\u4e00" <= ch <= "\u9fff" for ch in c.turns[0].say) for c in english)
    domains = {d.name for d in (Path(__file__).resolve().parents[2] / "knowledge").iterdir() if d.is_dir()}
    cited = {doc.split("/")[0] for t in turns for item in t.expect.get("cites", [])
             for doc in (item if isinstance(item, list) else [item])}
    assert domains <= cited  # every knowledge folder is asked about
    assert all(s.thresholds for s in suites) and 20 <= sum(c.smoke for c in cases) <= 40


@pytest.mark.unit
def test_facts_match_alternatives_and_ignore_spacing_and_width():
    from assistant.evaluation.run import check_turn
    from assistant.evaluation.suite import Turn
    from assistant.core.types import Citation, Reply

    turn = Turn(say="q", line=3, expect={"contains_all": [["15个工作日", "15 working days"], "8210 3100"],
                                         "cites": [["a.md", "b.md"]], "not_contains": ["BK123"]})
    reply = Reply(text="Issued within 15 Working Days; call 82103100.", status="answered",
                  citations=[Citation(n=1, doc="x.md", title="", section=""), Citation(n=2, doc="b.md", title="",
                                                                                      section="")])
    outcome = check_turn(turn, reply, "q", {"code": "BK123"})
    assert outcome["passed"] and outcome["rank"] == 2 and outcome["facts_found"] == 2
    failed = check_turn(Turn(say="q", line=3, expect={"not_contains": ["{code}"], "status": ["refused"]}),
                        Reply(text="预约码BK123", status="answered"), "q", {"code": "BK123"})
    assert failed["failures"] == ["status: expected refused, got answered", "must not contain: BK123"]


@pytest.mark.unit
def test_the_report_counts_how_llm_answers_were_checked():
    from assistant.evaluation.metrics import summarize

    def turn(verification: str) -> dict:
        return {"expect": {}, "status": "answered", "reply": "", "ticket": "", "latency_ms": 10.0, "rank": None,
                "facts": 0, "facts_found": 0, "answer_source": "llm" if verification != "fallback" else "extractive",
                "verification": verification}

    cases = [{"passed": True, "turns": [turn(v)]} for v in ("verified", "verified", "repaired", "fallback", "")]
    metrics = summarize(cases)
    assert (metrics["llm_verified"], metrics["llm_repaired"], metrics["llm_fallback"]) == (2, 1, 1)
    assert summarize([{"passed": True, "turns": [turn("")]}])["llm_verified"] is None  # no LLM in the run
