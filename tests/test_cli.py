import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def citydesk(*args, home, knowledge, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env.update({"CITYDESK_HOME": str(home), "CITYDESK_KNOWLEDGE": str(knowledge), **(extra_env or {})})
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_ingest_ask_retrieve_json(tmp_path, small_knowledge):
    first = citydesk("ingest", "--json", home=tmp_path, knowledge=small_knowledge)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert set(summary) >= {"indexed", "unchanged", "removed", "rejected", "chunks", "seconds"}
    assert sorted(summary["indexed"]) == ["civil_affairs/marriage.md", "permits/passport.en.md", "permits/passport.md"]

    second = citydesk("ingest", home=tmp_path, knowledge=small_knowledge)
    assert "Nothing changed" in second.stdout and "nothing embedded" in second.stdout

    ask = json.loads(citydesk("ask", "办护照要多少钱", "--json", home=tmp_path, knowledge=small_knowledge).stdout)
    assert set(ask) >= {"reply", "status", "skill", "citations", "lang", "latency_ms", "data"}
    assert ask["lang"] == "zh" and ask["data"]["answer_source"] == "extractive"
    assert ask["status"] == "answered" and ask["citations"][0] == {
        "n": 1, "doc": "permits/passport.md", "title": "普通护照申领", "section": "收费标准",
        "source_url": "https://www.chengwan.gov.example/permits/passport"}

    # a refusal says why, for an evaluator: here no guide of the three is about the weather
    weather = json.loads(citydesk("ask", "What's the weather like tomorrow?", "--json", home=tmp_path,
                                  knowledge=small_knowledge).stdout)
    assert weather["status"] == "refused" and weather["lang"] == "en"
    assert weather["data"]["refusal"] in {"out_of_scope", "nothing_retrieved"}

    hits = json.loads(citydesk("retrieve", "结婚登记材料", "--k", "2", "--json", home=tmp_path,
                               knowledge=small_knowledge).stdout)
    assert len(hits) == 2 and set(hits[0]) >= {"doc", "chunk_id", "section", "score", "text"}
    assert hits[0]["doc"] == "civil_affairs/marriage.md"
    only = json.loads(citydesk("retrieve", "材料", "--domain", "permits", "--json", home=tmp_path,
                               knowledge=small_knowledge).stdout)
    assert only and all(h["doc"].startswith("permits/") for h in only)

    route = json.loads(citydesk("route", "我要转人工", "--json", home=tmp_path, knowledge=small_knowledge).stdout)
    assert route["skill"] == "handoff" and route["runner_up"] and route["score"] > route["runner_up_score"]
    guide = json.loads(citydesk("route", "结婚登记要带什么", "--json", home=tmp_path, knowledge=small_knowledge).stdout)
    assert guide["skill"] == "guide_qa" and guide["domain"] == "civil_affairs"


def test_unknown_setting_stops_with_one_line(tmp_path, small_knowledge):
    result = citydesk("ingest", home=tmp_path, knowledge=small_knowledge, extra_env={"CITYDESK_EMBEDER": "x"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "CITYDESK_EMBEDER: unknown setting" in result.stderr


def test_chat_in_the_terminal(tmp_path, small_knowledge):
    citydesk("ingest", home=tmp_path, knowledge=small_knowledge)
    env = {**os.environ, "CITYDESK_HOME": str(tmp_path), "CITYDESK_KNOWLEDGE": str(small_knowledge)}
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "chat"], input="护照多少钱\n\n", env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "120元" in result.stdout and "[1] 普通护照申领" in result.stdout
