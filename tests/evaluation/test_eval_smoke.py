"""`citydesk eval --smoke` on the real knowledge base: the fast subset `make test` runs must pass the gate."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_the_smoke_subset_passes_on_the_real_knowledge(corpus_assistant, tmp_path):
    settings = corpus_assistant.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env.update({"CITYDESK_HOME": str(settings.home), "CITYDESK_KNOWLEDGE": str(settings.knowledge)})
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "eval", "--smoke", "--report", str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["smoke"] and report["gate"]["passed"] and report["overall"]["cases"] >= 20
    assert report["overall"]["metrics"]["emergency_recall"] == 1.0
    assert {s["name"] for s in report["suites"]} >= {"permits", "health_booking", "emergency", "adversarial"}
