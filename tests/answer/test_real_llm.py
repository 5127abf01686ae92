"""The LLM path against a real small open model (Qwen2.5 Coder 1.5B, Q4_K_M) on llama-cpp-python's server.

Run by `make test-llm`, which builds the server and the model once and sets REAL_LLM_PYTHON
and REAL_LLM_GGUF; `make test` deselects these tests (marker `real_llm`) and keeps the
scripted stand-in server of tests/answer/test_llm.py. On a 2-core CPU each answer takes 10-30 s.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant import Assistant
from tests.real_llm import serve
from tests.answer.test_llm import _assistant as small_llm_assistant

pytestmark = [pytest.mark.real_llm, pytest.mark.slow]

OUTPUT = Path(__file__).resolve().parents[1] / "output"
QUESTIONS = [("护照多少钱", "120"), ("办护照要多久", "7"), ("结婚登记要带什么材料", "户口簿"),
             ("How much does a passport cost?", "120"), ("结婚登记收费吗", "免费")]


@pytest.fixture(scope="module")
def real_llm_url():
    python, gguf = os.environ.get("REAL_LLM_PYTHON"), os.environ.get("REAL_LLM_GGUF")
    if not python or not gguf:
        pytest.fail("needs the real model: run `make test-llm` (it sets REAL_LLM_PYTHON and REAL_LLM_GGUF)")
    OUTPUT.mkdir(exist_ok=True)
    with serve(python, gguf, OUTPUT / "real-llm-server.log") as url:
        yield url


def _assistant(tmp_path, template, url: str, **overrides) -> Assistant:
    """The small guides answering through the real model, with deadlines sized for a CPU."""
    return small_llm_assistant(tmp_path, template, url, **({"llm_model": "qwen", "llm_timeout": 240,
                                                           "llm_first_token_timeout": 180} | overrides))


def test_most_answers_of_the_real_model_are_attributed_and_shown(tmp_path, _small_template, real_llm_url):
    assistant = _assistant(tmp_path, _small_template, real_llm_url)
    shown = []
    for question, fact in QUESTIONS:
        reply = assistant.ask(question)
        assert reply.status == "answered" and fact in reply.text, (question, reply.text)
        assert reply.data["verification"] in ("verified", "repaired", "fallback")
        if reply.data["answer_source"] == "llm":
            assert reply.citations and all(f"[{c.n}]" in reply.text for c in reply.citations)
            shown.append(question)
        else:
            assert reply.data["verification"] == "fallback" and reply.data["verification_reason"]
    assert len(shown) >= 4, f"only {shown} went out as the model wrote them"


def test_the_openai_door_streams_only_the_checked_answer(tmp_path, _small_template, real_llm_url):
    from fastapi.testclient import TestClient
    from openai import OpenAI

    from assistant.channels.api import create_app

    assistant = _assistant(tmp_path, _small_template, real_llm_url)
    client = OpenAI(base_url="http://testserver/v1", api_key="unused",
                    http_client=TestClient(create_app(assistant, rate_limit=0)))
    text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="citydesk", messages=[{"role": "user", "content": "护照多少钱"}], stream=True))
    assert "120" in text and "[1]" in text and "<passages>" not in text and "[n=" not in text


def test_a_cpu_model_past_its_first_token_deadline_gives_way_to_the_guide(tmp_path, _small_template,
                                                                          real_llm_url):
    # a question no other test asked, so the server has no cached prompt to start from
    assistant = _assistant(tmp_path, _small_template, real_llm_url, llm_first_token_timeout=0.2)
    reply = assistant.ask("结婚登记要交几张照片")
    assert reply.data["verification"] == "fallback" and "no first token" in reply.data["verification_reason"]
    assert "合影照片2张" in reply.text and reply.data["llm_ms"] < 1500
