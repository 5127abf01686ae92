"""The REST API over a real HTTP server (uvicorn on 127.0.0.1), with httpx and gradio_client."""

import re

import httpx
import pytest

from assistant import Assistant
from assistant.channels.api import create_app
from assistant.services.db import Message
from assistant.core.types import Reply
from assistant.channels.chat_views import confirm_labels, status_html
from tests.conftest import make_settings
from tests.live import serve_in_thread

pytestmark = pytest.mark.integration


@pytest.fixture
def server(small_assistant):
    with serve_in_thread(create_app(small_assistant, staff_token="t0ken", rate_limit=1000)) as url:
        yield url


def assert_json_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()["error"]
    assert body["status"] == status and body["message"] and "Traceback" not in response.text
    return body


def test_health_and_chat_over_http(server):
    health = httpx.get(server + "/healthz").json()
    assert health["ok"] and health["indexed_files"] == 3 and health["chunks"] > 0 and health["database"] == "ok"
    reply = httpx.post(server + "/api/chat", json={"message": "办护照要多少钱"}, timeout=60).json()
    assert reply["status"] == "answered" and reply["citations"][0]["doc"] == "permits/passport.md"
    assert "120" in reply["reply"] and reply["skill"]
    follow = httpx.post(server + "/api/chat", json={"message": "结婚登记要什么材料", "session_id": reply["session_id"]},
                        timeout=60).json()
    assert follow["session_id"] == reply["session_id"]
    assert_json_error(httpx.post(server + "/api/chat", json={"message": 5, "lang": "fr"}), 422)


def test_english_question_gets_an_english_cited_answer(server):
    reply = httpx.post(server + "/api/chat", json={"message": "How much does a passport cost?", "lang": "en"},
                       timeout=60).json()
    assert reply["lang"] == "en" and reply["status"] == "answered"
    assert "120" in reply["reply"] and reply["citations"][0]["doc"].startswith("permits/passport")


def test_session_history_is_stored_masked(server):
    reply = httpx.post(server + "/api/chat", json={"message": "我的手机号是13812345678，办护照要多少钱"}, timeout=60).json()
    history = httpx.get(f"{server}/api/sessions/{reply['session_id']}").json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    assert "13812345678" not in str(history) and "138" in history["messages"][0]["text"]
    assert history["messages"][1]["citations"][0]["doc"] == "permits/passport.md"
    assert_json_error(httpx.get(server + "/api/sessions/nobody-has-this"), 404)


def test_feedback_is_stored_and_counted(server):
    reply = httpx.post(server + "/api/chat", json={"message": "办护照要多少钱"}, timeout=60).json()
    made = httpx.post(server + "/api/feedback", json={"session_id": reply["session_id"], "helpful": False,
                                                      "comment": "没说加急，电话13812345678"})
    assert made.status_code == 201 and made.json()["stored"]
    stats = httpx.get(server + "/api/stats").json()
    assert stats["feedback"] == {"up": 0, "down": 1} and stats["replies"] == 1 and stats["sessions"] == 1
    assert stats["by_status"] == {"answered": 1} and stats["index"]["indexed"] == 3
    assert_json_error(httpx.post(server + "/api/feedback", json={"session_id": "nope", "helpful": True}), 404)
    assert_json_error(httpx.post(server + "/api/feedback", json={"session_id": reply["session_id"],
                                                                  "helpful": True, "message_id": 99999}), 404)
    assert_json_error(httpx.post(server + "/api/feedback", json={"helpful": "maybe"}), 422)


def test_guide_pages_show_indexed_text_only(server):
    page = httpx.get(server + "/guides/permits/passport.md")
    assert page.status_code == 200 and "收费标准" in page.text and "每本120元" in page.text
    assert_json_error(httpx.get(server + "/guides/permits/unknown.md"), 404)
    assert_json_error(httpx.get(server + "/guides/..%2F..%2Fetc%2Fpasswd"), 404)


def test_errors_are_json_with_a_status(server, small_assistant, monkeypatch):
    assert_json_error(httpx.get(server + "/api/chat"), 405)
    assert_json_error(httpx.post(server + "/api/chat", content=b"{not json", headers={"content-type": "application/json"}), 422)
    too_big = httpx.post(server + "/api/chat", json={"message": "x" * 100_000})
    assert assert_json_error(too_big, 413)["type"] == "too_large"

    def broken():
        raise RuntimeError("secret internals /home/x.py line 3")

    monkeypatch.setattr(small_assistant.index, "files", broken)
    body = assert_json_error(httpx.get(server + "/healthz"), 500)
    assert "secret internals" not in body["message"]


def test_rate_limit_answers_429(small_assistant):
    with serve_in_thread(create_app(small_assistant, rate_limit=3)) as url:
        codes = [httpx.get(url + "/api/stats").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        limited = httpx.get(url + "/api/stats")
        assert_json_error(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert httpx.get(url + "/healthz").status_code == 200  # health checks are never limited


def test_health_is_503_until_something_is_indexed(tmp_path):
    empty = Assistant.from_settings(make_settings(tmp_path / "home", tmp_path / "knowledge"))
    with serve_in_thread(create_app(empty)) as url:
        response = httpx.get(url + "/healthz")
        assert response.status_code == 503 and response.json()["ok"] is False and response.json()["chunks"] == 0


def test_openapi_docs_list_the_routes(server):
    paths = httpx.get(server + "/openapi.json").json()["paths"]
    for route in ("/api/chat", "/api/sessions/{session_id}", "/api/feedback", "/healthz", "/api/stats",
                  "/v1/chat/completions"):
        assert route in paths
    assert httpx.get(server + "/docs").status_code == 200


def test_gradio_client_chats_through_the_web_app(server):
    from gradio_client import Client

    client = Client(server + "/", verbose=False)
    first = client.predict("办护照要多少钱", "", "zh", api_name="/chat")
    assert first["status"] == "answered" and first["citations"][0]["doc"] == "permits/passport.md"
    second = client.predict("How much does a passport cost?", first["session_id"], "en", api_name="/chat")
    assert second["session_id"] == first["session_id"] and second["lang"] == "en" and "120" in second["reply"]
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/chat"]


@pytest.mark.unit
def test_every_web_text_is_in_both_languages():
    import yaml

    from assistant.core.prompts import PROMPTS_DIR

    texts = yaml.safe_load((PROMPTS_DIR / "web.yaml").read_text(encoding="utf-8"))
    missing = [key for key, entry in texts.items() if set(entry) != {"zh", "en"}
               or not str(entry["en"]).strip() or (not str(entry["zh"]).strip() and key != "source_in_chinese")]
    assert missing == []


@pytest.mark.unit
def test_replies_are_shown_as_written_with_source_cards():
    from assistant.core.types import Citation, Reply
    from assistant.channels.chat_views import format_reply

    reply = Reply(text="身份证：110105****002X <b>粗</b>", status="asking", lang="en",
                  citations=[Citation(n=1, doc="permits/passport.md", title="普通护照申领", section="收费标准")])
    shown = format_reply(reply, "en")
    assert "110105\\*\\*\\*\\*002X" in shown and "&lt;b&gt;" in shown
    assert 'href="/guides/permits/passport.md"' in shown and "(in Chinese)" in shown and "Sources" in shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_web_chat_shares_the_rate_limit_and_says_so_politely(small_assistant, lang):
    from gradio_client import Client

    from assistant.core.prompts import render

    with serve_in_thread(create_app(small_assistant, rate_limit=2)) as url:
        assert httpx.get(url + "/api/stats").status_code == 200  # one token of the same bucket
        client = Client(url + "/", verbose=False)
        first = client.predict("办护照要多少钱", "", lang, api_name="/chat")
        assert first["status"] == "answered"
        limited = client.predict("办护照要多少钱", first["session_id"], lang, api_name="/chat")
        assert limited["status"] == "rejected" and limited["session_id"] == first["session_id"]
        seconds = int(re.search(r"\d+", limited["reply"]).group())
        assert 1 <= seconds <= 30 and limited["reply"] == render("rate_limited", lang, file="web", seconds=seconds)


def test_the_staff_page_opens_with_and_without_the_trailing_slash(server):
    for path in ("/staff", "/staff/", "/staff?lang=en"):
        page = httpx.get(server + path, follow_redirects=True, timeout=60)
        assert page.status_code == 200 and page.url.path == "/staff/" and "gradio" in page.text.lower()
    assert httpx.get(server + "/staff?lang=en").headers["location"] == "/staff/?lang=en"


@pytest.mark.parametrize("lang, confirming, yes, no", [
    ("zh", "cancel_booking", "确认取消这个预约", "保留预约"), ("en", "cancel_booking", "Cancel this appointment",
                                                           "Keep the appointment"),
    ("zh", "booking", "确认预约", "不约了"), ("zh", "work_order", "确认提交", "先不提交"), ("zh", "", "确认", "否")])
def test_the_confirm_buttons_say_what_they_do(lang, confirming, yes, no):
    reply = Reply(text="…", status="asking", data={"asks_for": "confirm", "confirming": confirming} if confirming
                  else {"asks_for": "confirm"})
    assert confirm_labels(reply, lang) == (yes, no)


def test_a_stopped_flow_does_not_say_cancelled():
    stopped = status_html(Reply(text="好的，已停止", status="cancelled"), "zh", 2)
    assert "已取消" not in stopped and "未办理" in stopped
    done = status_html(Reply(text="已取消预约", status="cancelled", data={"code": "BKABC123"}), "zh", 2)
    assert "已取消" in done


def test_warming_up_loads_every_model_before_the_first_citizen(small_assistant):
    small_assistant.warm()
    assert "model" in vars(small_assistant.triager) and "model" in vars(small_assistant.intake)
    assert {"_model", "_ellipsis"} <= set(vars(small_assistant.scope))
    with small_assistant.sessions() as db:
        assert db.query(Message).count() == 0, "warming up stores no conversation"
