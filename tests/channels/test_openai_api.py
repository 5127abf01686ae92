"""The OpenAI-compatible API, driven by the official `openai` client against a real server."""

import time
from dataclasses import replace

import httpx
import openai
import pytest

from assistant.channels.api import create_app
from assistant.services import dashboard
from assistant.services.db import Message
from tests.live import serve_in_thread

pytestmark = pytest.mark.integration


@pytest.fixture
def server(small_assistant):
    with serve_in_thread(create_app(small_assistant, rate_limit=1000)) as url:
        yield url


def client(url: str, **headers) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="not-needed", max_retries=0, timeout=60,
                         default_headers=headers or None)


def test_completion_has_the_answer_and_its_citations(server):
    done = client(server).chat.completions.create(
        model="citydesk", user="alice", messages=[{"role": "system", "content": "be brief"},
                                                  {"role": "user", "content": "办护照要多少钱"}])
    text = done.choices[0].message.content
    assert done.object == "chat.completion" and done.choices[0].finish_reason == "stop"
    assert "120" in text and "[1]" in text and "参考来源" in text and "/guides/permits/passport.md" in text
    extra = done.model_extra
    assert extra["citations"][0]["doc"] == "permits/passport.md" and extra["citydesk"]["status"] == "answered"
    assert done.usage.completion_tokens > 0


def test_streaming_in_english(server):
    stream = client(server).chat.completions.create(
        model="citydesk", stream=True,
        messages=[{"role": "user", "content": [{"type": "text", "text": "How much does a passport cost?"}]}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 3 and "120" in text and "Sources:" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["doc"].startswith("permits/passport")
    assert last.model_extra["citydesk"]["lang"] == "en"


def test_the_user_field_or_a_header_keeps_the_session(server):
    api = client(server)
    ask = lambda user, text: api.chat.completions.create(  # noqa: E731
        model="citydesk", user=user, messages=[{"role": "user", "content": text}]).model_extra["citydesk"]
    first, again, other = ask("bob", "我想预约挂号"), ask("bob", "儿科"), ask("carol", "儿科")
    assert first["session_id"] == again["session_id"] != other["session_id"]
    assert first["data"]["asks_for"] == "department" and again["data"]["asks_for"] == "hospital"
    assert "bob" not in first["session_id"]
    by_header = client(server, **{"X-Session-Id": first["session_id"]})
    resumed = by_header.chat.completions.create(model="citydesk", messages=[{"role": "user", "content": "1"}])
    assert resumed.model_extra["citydesk"]["session_id"] == first["session_id"]
    assert resumed.model_extra["citydesk"]["data"]["asks_for"] == "date"


def test_emergency_and_handoff_come_through(server):
    api = client(server)
    fire = api.chat.completions.create(model="citydesk", messages=[{"role": "user", "content": "着火了"}])
    assert "119" in fire.choices[0].message.content and fire.model_extra["citydesk"]["status"] == "emergency"
    person = api.chat.completions.create(model="citydesk", messages=[{"role": "user", "content": "talk to a person"}])
    assert person.model_extra["citydesk"]["status"] == "handoff" and person.model_extra["citydesk"]["data"]["ticket"]


def test_models_and_errors(server):
    api = client(server)
    assert [m.id for m in api.models.list()] == ["citydesk"]
    with pytest.raises(openai.BadRequestError, match="role 'user'"):
        api.chat.completions.create(model="citydesk", messages=[{"role": "system", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError):
        api.chat.completions.create(model="citydesk", messages=[])
    raw = httpx.post(server + "/v1/chat/completions", json={"messages": "nope"})
    assert raw.status_code == 422 and raw.json()["error"]["message"]
    assert httpx.get(server + "/v1/nothing").json()["error"]["status"] == 404


def test_rate_limit_per_user(small_assistant):
    with serve_in_thread(create_app(small_assistant, rate_limit=2)) as url:
        api = client(url)
        ask = lambda user: api.chat.completions.create(  # noqa: E731
            model="citydesk", user=user, messages=[{"role": "user", "content": "你好"}])
        ask("dave")
        ask("dave")
        with pytest.raises(openai.RateLimitError):
            ask("dave")
        assert ask("erin").choices[0].message.content


@pytest.mark.parametrize("stream", [False, True])
def test_a_stateless_client_continues_the_conversation_it_sends(server, small_assistant, stream):
    api = client(server)

    def complete(messages):
        if not stream:
            done = api.chat.completions.create(model="citydesk", messages=messages)
            return done.choices[0].message.content, done.model_extra["citydesk"]
        chunks = list(api.chat.completions.create(model="citydesk", messages=messages, stream=True))
        return "".join(c.choices[0].delta.content or "" for c in chunks), chunks[-1].model_extra["citydesk"]

    first_text, first = complete([{"role": "user", "content": "护照需要什么材料"}])
    history = [{"role": "user", "content": "护照需要什么材料"}, {"role": "assistant", "content": first_text}]
    follow_text, follow = complete(history + [{"role": "user", "content": "那要多少钱？"}])
    assert follow["status"] == "answered" and "120" in follow_text and "passport" in follow_text
    assert follow["session_id"] != first["session_id"], "the history continues in a copy of its session"
    _, again = complete(history + [{"role": "user", "content": "那要多少钱？"}])
    assert again["session_id"] not in (first["session_id"], follow["session_id"]), "no two clients share one"
    # a history this server never answered is not anybody's conversation: the follow-up stands alone
    _, stranger = complete([{"role": "user", "content": "护照需要什么材料"}, {"role": "assistant", "content": "别的回答"},
                            {"role": "user", "content": "那要多少钱？"}])
    assert stranger["status"] != "answered"
    # each continuation copied the first turn into its own session; the dashboard counts the four questions once
    sessions, tz = small_assistant.sessions, small_assistant.settings.timezone
    with sessions() as db:
        assert db.query(Message).filter_by(role="assistant").count() == 6
    period = dashboard.last_days(1, tz, time.time())
    assert dashboard.questions_per_day(sessions, *period, tz)["count"].sum() == 4
    assert dashboard.top_topics(sessions, *period)["count"].sum() == 3


def test_guide_links_are_absolute_with_a_public_url(small_assistant):
    small_assistant.settings = replace(small_assistant.settings, public_url="https://desk.example.gov")
    with serve_in_thread(create_app(small_assistant, rate_limit=1000)) as url:
        done = client(url).chat.completions.create(model="citydesk", messages=[{"role": "user", "content": "办护照要多少钱"}])
        link = "https://desk.example.gov/guides/permits/passport.md"
        assert link in done.choices[0].message.content and done.model_extra["citations"][0]["link"] == link
        rest = httpx.post(url + "/api/chat", json={"message": "办护照要多少钱"}, timeout=60).json()
        assert rest["citations"][0]["link"] == link


def test_guide_links_are_relative_without_one(server):
    rest = httpx.post(server + "/api/chat", json={"message": "办护照要多少钱"}, timeout=60).json()
    assert rest["citations"][0]["link"] == "/guides/permits/passport.md"


def test_a_history_older_than_a_month_no_longer_finds_its_session(server, small_assistant):
    """The notes that let stateless clients continue are pruned: an old one is gone after the next turn."""
    import time

    from assistant.services.db import Thread

    api = client(server)
    first = api.chat.completions.create(model="citydesk", messages=[{"role": "user", "content": "护照需要什么材料"}])
    history = [{"role": "user", "content": "护照需要什么材料"}, {"role": "assistant", "content": first.choices[0].message.content}]
    with small_assistant.sessions.begin() as db:
        db.query(Thread).update({Thread.created: time.time() - 31 * 86400})
    api.chat.completions.create(model="citydesk", messages=[{"role": "user", "content": "你好"}])
    late = api.chat.completions.create(model="citydesk", messages=history + [{"role": "user", "content": "那要多少钱？"}])
    assert late.model_extra["citydesk"]["status"] != "answered", "a month-old history starts afresh"
