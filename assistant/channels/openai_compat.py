"""An OpenAI-compatible chat API (`POST /v1/chat/completions`, `GET /v1/models`) over the assistant.

Any OpenAI client or channel adapter can talk to citydesk. The last user message is the turn; the
session comes from the `X-Session-Id` header, else from the `user` field (hashed), else from the
history in `messages` (a stateless client sends the whole conversation each time: its follow-up
continues a copy of the session that gave the last answer), else a new one, and is returned in `X-Session-Id` and `citydesk.session_id`. Citations are appended to the message
text and given as an extra `citations` field. A stream carries only the final, verified reply
(cut into pieces): a channel cannot take back text an answer check would have replaced.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.core import tokens
from assistant.services.db import Conversation, Message, Thread
from assistant.core.prompts import render
from assistant.core.types import Reply

MODEL = "citydesk"
THREAD_DAYS = 30  # how long a stateless client's history can still find its session
PIECE = 24


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(max_length=32)
    content: str | list[dict] | None = None


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens…: accepted, not used
    model: str = Field(default=MODEL, max_length=128)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    user: str | None = Field(default=None, max_length=256)


def message_text(content) -> str:
    """A message's text, whether a string or a list of content parts."""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content or ""


def session_for(request: Request, body: CompletionRequest) -> str | None:
    header = request.headers.get("x-session-id", "").strip()
    if header:
        return header[:64]
    if body.user:
        return "u" + hashlib.sha256(f"citydesk-v1|{body.user}".encode()).hexdigest()[:40]
    return None


def _dialogue(messages: list[ChatMessage]) -> list[list[str]]:
    return [[m.role, message_text(m.content).strip()] for m in messages if m.role in ("user", "assistant")]


def _digest(dialogue: list[list[str]]) -> str:
    return hashlib.sha256(json.dumps(dialogue, ensure_ascii=False).encode()).hexdigest()


def session_from_history(assistant, messages: list[ChatMessage]) -> str | None:
    """For a client that sends its history instead of a session: a new session holding a copy of the
    one that answered that history (a copy, so two clients with the same history never share one)."""
    earlier = _dialogue(messages[:-1])
    if not any(role == "assistant" for role, _ in earlier):
        return None
    with assistant.sessions.begin() as db:
        thread = db.get(Thread, _digest(earlier))
        old = db.get(Conversation, thread.session_id) if thread else None
        if old is None:
            return None
        new = Conversation(lang=old.lang, state=dict(old.state or {}))
        db.add(new)
        db.flush()
        db.add_all(Message(session_id=new.id, role=m.role, text=m.text, status=m.status, skill=m.skill,
                           citations=m.citations, latency_ms=m.latency_ms, created=m.created, domain=m.domain,
                           kind=m.kind, copied=True)  # the dashboard counts the original turn only
                   for m in db.query(Message).filter_by(session_id=old.id).order_by(Message.id))
        return new.id


def remember_thread(assistant, messages: list[ChatMessage], content: str, session_id: str) -> None:
    """Note which session answered this history with `content`, for the client's next request; notes
    older than THREAD_DAYS are dropped."""
    with assistant.sessions.begin() as db:
        db.query(Thread).filter(Thread.created < time.time() - THREAD_DAYS * 86400).delete()
        db.merge(Thread(digest=_digest(_dialogue(messages) + [["assistant", content.strip()]]), session_id=session_id))


def with_sources(reply: Reply, settings) -> str:
    """The reply text followed by its numbered sources, for channels that show text only."""
    if not reply.citations:
        return reply.text
    lines = [f"[{c.n}] {c.title} · {c.section} — {settings.guide_link(c.doc)}" for c in reply.citations]
    return reply.text + "\n\n" + render("sources_text", reply.lang, file="web") + "\n" + "\n".join(lines)


def extras(reply: Reply, settings) -> dict:
    return {"citations": [c.as_json() | {"link": settings.guide_link(c.doc)} for c in reply.citations],
            "citydesk": {"status": reply.status, "skill": reply.skill, "session_id": reply.session_id,
                         "lang": reply.lang, "data": reply.data}}


def add_openai_routes(app: FastAPI, assistant, limiter) -> None:
    @app.get("/v1/models", tags=["openai"])
    def models():
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "citydesk"}]}

    @app.post("/v1/chat/completions", tags=["openai"])
    def completions(body: CompletionRequest, request: Request):
        """A chat completion (or a stream of chunks) answering the last user message."""
        key = f"user:{body.user}" if body.user else "ip:" + (request.client.host if request.client else "unknown")
        wait = limiter.allow(key)
        if wait:
            raise HTTPException(429, f"too many requests; try again in {wait:.0f} s",
                                headers={"Retry-After": str(max(1, round(wait)))})
        asked = [m for m in body.messages if m.role == "user"]
        if not asked:
            raise HTTPException(400, "messages must include at least one message with role 'user'")
        text = message_text(asked[-1].content)
        reply_id, created = "chatcmpl-" + secrets.token_hex(12), int(time.time())
        session_id = session_for(request, body)
        stateless = session_id is None
        if stateless:
            session_id = session_from_history(assistant, body.messages)
        history = body.messages if stateless else None  # a stateless client's history, to find its session again
        if body.stream:
            headers = {"Cache-Control": "no-cache", **({"X-Session-Id": session_id} if session_id else {})}
            return StreamingResponse(_stream(assistant, text, session_id, reply_id, created, body.model, history),
                                     media_type="text/event-stream", headers=headers)
        reply = assistant.ask(text, session_id=session_id)
        content = with_sources(reply, assistant.settings)
        if history:
            remember_thread(assistant, history, content, reply.session_id)
        prompt_tokens = tokens.count(text)
        completion_tokens = tokens.count(content)
        payload = {"id": reply_id, "object": "chat.completion", "created": created, "model": body.model,
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                             "total_tokens": prompt_tokens + completion_tokens}, **extras(reply, assistant.settings)}
        return JSONResponse(payload, headers={"X-Session-Id": reply.session_id})


def _stream(assistant, text: str, session_id: str | None, reply_id: str, created: int, model: str,
            history: list[ChatMessage] | None = None):
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        data = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    reply = None
    for kind, value in assistant.ask_stream(text, session_id=session_id):
        if kind == "reply":  # drafts are not sent: this door streams only the checked answer
            reply = value
    content = with_sources(reply, assistant.settings)
    for start in range(0, len(content), PIECE):
        yield chunk({"content": content[start:start + PIECE]})
    if history:
        remember_thread(assistant, history, content, reply.session_id)
    yield chunk({}, "stop", **extras(reply, assistant.settings))
    yield "data: [DONE]\n\n"
