"""The HTTP server: REST routes, an OpenAI-compatible chat API, guide pages, and the Gradio apps.

Every error is JSON, `{"error": {"status", "type", "message"}}`, never a trace. Request bodies of
the citizen routes are capped (BodyLimit) and each client gets a token bucket (per IP, or per
`user` on /v1) that answers 429 when empty; staff routes take a staff account's
`Authorization: Bearer <token>` or the staff page's session cookie (channels/staff_api.py).
"""

from __future__ import annotations

import html
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import Depends, FastAPI, HTTPException, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.routing import APIRoute  # noqa: E402
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from assistant.services import staff  # noqa: E402
from assistant.assistant import Assistant  # noqa: E402
from assistant.channels.openai_compat import add_openai_routes  # noqa: E402
from assistant.core.prompts import render  # noqa: E402
from assistant.channels.ratelimit import BodyLimit, RateLimiter  # noqa: E402
from assistant.channels.staff_api import add_guide_routes, add_order_routes, add_staff_routes, staff_guard  # noqa: E402
from assistant.channels.staff_login import add_login_routes  # noqa: E402
from assistant.channels.staff_web import I18N, STAFF_CSS, build_staff  # noqa: E402
from assistant.channels.web import CHAT_CSS, HEAD, THEME, build_chat  # noqa: E402

log = logging.getLogger("citydesk.api")

MAX_BODY = 64 * 1024
_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "too_large", 422: "invalid_request", 429: "rate_limited", 503: "unavailable"}


class ChatRequest(BaseModel):
    session_id: str | None = Field(default=None, max_length=64)
    message: str = Field(max_length=20000)
    lang: str | None = Field(default=None, pattern="^(zh|en)$")


class FeedbackRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)
    helpful: bool
    comment: str = Field(default="", max_length=1000)
    message_id: int | None = None


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "type": _TYPES.get(status, "error"), "message": message}},
                        status_code=status, headers=headers)


def client_key(request: Request) -> str:
    return "ip:" + (request.client.host if request.client else "unknown")


def create_app(assistant: Assistant, *, staff_token: str | None = None, rate_limit: int | None = None) -> FastAPI:
    """The whole server for one assistant; `staff_token` and `rate_limit` default to the settings."""
    token = assistant.settings.staff_token if staff_token is None else staff_token
    per_minute = rate_limit if rate_limit is not None else assistant.settings.rate_limit
    limiter = RateLimiter(per_minute=per_minute)
    app = FastAPI(title="citydesk", version="0.1.0",
                  description="A city's conversational entry point: answers from the city's service guides "
                              "with citations, skills for bookings and applications, hand-over to a person.")
    upload_limit = int(assistant.settings.max_file_mb * 1e6) + 64 * 1024
    app.add_middleware(BodyLimit, limits={"/api/staff/upload": upload_limit, "/api/": MAX_BODY, "/v1/": MAX_BODY})
    _add_error_handlers(app)
    limited = _rate_limited(limiter)
    _add_public_routes(app, assistant, limited)
    add_openai_routes(app, assistant, limiter)
    _add_staff_routes(app, assistant, token, limited, limiter)
    _add_unknown_api_routes(app)
    return _mount_pages(app, assistant, token, limiter)


def _rate_limited(limiter: RateLimiter):
    """A route dependency that takes a token of the client's bucket, or answers 429 with Retry-After."""
    def limited(request: Request) -> None:
        wait = limiter.allow(client_key(request))
        if wait:
            raise HTTPException(429, f"too many requests; try again in {wait:.0f} s",
                                headers={"Retry-After": str(max(1, round(wait)))})
    return limited


def _add_public_routes(app: FastAPI, assistant: Assistant, limited) -> None:
    """The routes open to everyone: health, a chat turn, a session's turns, feedback, counts, guide pages."""
    @app.get("/healthz", tags=["service"])
    def healthz():
        """Ready (200) when the index can be searched and the database answers; otherwise 503 saying what is wrong."""
        body = assistant.health()
        return JSONResponse(body, status_code=200 if body["ok"] else 503)

    @app.post("/api/chat", tags=["citizen"], dependencies=[Depends(limited)])
    def chat(request: ChatRequest):
        """One turn: the reply with its status, skill, citations and session id."""
        out = assistant.ask(request.message, session_id=request.session_id, lang=request.lang).as_json()
        for citation in out["citations"]:
            citation["link"] = assistant.settings.guide_link(citation["doc"])
        return out

    @app.get("/api/sessions/{session_id}", tags=["citizen"], dependencies=[Depends(limited)])
    def session(session_id: str):
        """A session's turns, as stored (masked)."""
        messages = assistant.history(session_id[:64])
        if not messages:
            raise HTTPException(404, f"no session {session_id[:64]}")
        return {"session_id": session_id, "messages": messages}

    @app.post("/api/feedback", tags=["citizen"], status_code=201, dependencies=[Depends(limited)])
    def feedback(request: FeedbackRequest):
        """A thumbs up or down on a reply (the session's latest one unless `message_id` is given)."""
        try:
            feedback_id = staff.record_feedback(assistant, session_id=request.session_id, helpful=request.helpful,
                                                comment=request.comment, message_id=request.message_id)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        return {"id": feedback_id, "stored": True}

    @app.get("/api/stats", tags=["service"], dependencies=[Depends(limited)])
    def stats():
        """Counts only: sessions, replies by status and skill, latency, tickets, feedback, index."""
        return staff.stats(assistant)

    @app.get("/guides/{doc:path}", response_class=HTMLResponse, tags=["citizen"])
    def guide(doc: str, request: Request):
        """The indexed text of a guide, section by section: where a citation's link leads."""
        chunks = assistant.index.chunks_of(doc)
        lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"
        if not chunks:
            raise HTTPException(404, render("guide_not_found", lang, file="web"))
        return HTMLResponse(guide_page(chunks))


def _add_unknown_api_routes(app: FastAPI) -> None:
    """Catch-alls for /api/ and /v1/, added after every API route so that they only catch what no route serves."""
    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(request: Request):
        """API paths that match no route get a JSON 404 (or 405), not the web app's page."""
        path = request.url.path
        if any(isinstance(r, APIRoute) and r.path_regex.match(path) and "{rest" not in r.path for r in app.routes):
            raise HTTPException(405, f"{request.method} is not allowed on {path}")
        raise HTTPException(404, f"no API route {path}")


def _mount_pages(app: FastAPI, assistant: Assistant, token: str, limiter: RateLimiter) -> FastAPI:
    """The Gradio apps: the staff page at /staff, then the citizen chat at / (last, as it takes every other path)."""
    gr.mount_gradio_app(app, build_staff(assistant, token=token, limiter=limiter), path="/staff", theme=THEME,
                        css=STAFF_CSS, head=HEAD, footer_links=[], ssr_mode=False, i18n=I18N,
                        max_file_size=int(assistant.settings.max_file_mb * 1e6))
    return gr.mount_gradio_app(app, build_chat(assistant, limiter=limiter), path="/", theme=THEME, css=CHAT_CSS, head=HEAD,
                               footer_links=[], ssr_mode=False, max_file_size="1mb")


def guide_page(chunks) -> str:
    """A plain, self-contained HTML page of a guide's sections."""
    first = chunks[0]
    parts, seen = [], set()
    for c in chunks:
        heading = c.section.split(" > ")[0]
        if heading and heading not in seen:
            seen.add(heading)
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(f"<p>{html.escape(c.text).replace(chr(10), '<br>')}</p>")
    source = (f'<p class="src">{html.escape(first.source_url)}</p>' if first.source_url else "")
    return (f'<!doctype html><html lang="{first.lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(first.title)}</title><style>body{{font-family:'Noto Sans CJK SC',sans-serif;"
            "max-width:760px;margin:1rem auto;padding:0 1rem;line-height:1.7;font-size:17px}"
            "h2{font-size:1.1rem;border-bottom:1px solid #ddd;margin-top:1.5rem}.src{color:#666;font-size:.9rem}"
            f"</style></head><body><h1>{html.escape(first.title)}</h1>{source}{''.join(parts)}</body></html>")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        detail = str(exc.detail)
        if exc.status_code == 400 and detail == "There was an error parsing the body":  # FastAPI's words for bad bytes
            detail = "the request body is not JSON text in UTF-8"
        return error(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        problems = [f"the request body is not valid JSON: {e.get('ctx', {}).get('error', e['msg'])} "
                    f"at character {e['loc'][-1]}" if e["type"] == "json_invalid" else
                    f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()]
        return error(422, "; ".join(problems)[:500])

    @app.exception_handler(Exception)
    async def crashed(request, exc):
        log.exception("request %s %s failed", request.method, request.url.path)
        return error(500, "internal error; the request was not completed")


def _add_staff_routes(app: FastAPI, assistant: Assistant, token: str, limited, limiter: RateLimiter) -> None:
    """The staff API (each route checks the caller's role), signing in and out, and /staff without its slash."""
    if token:
        log.warning("CITYDESK_STAFF_TOKEN is deprecated: it signs everyone in as one admin and records no names; "
                    "create accounts with `citydesk staff add` and unset it")
    door = staff_guard(assistant, token, limited)
    add_staff_routes(app, assistant, door)
    add_guide_routes(app, assistant, door)
    add_order_routes(app, assistant, door)
    add_login_routes(app, assistant, limiter)

    @app.get("/staff", include_in_schema=False)
    def staff_page(request: Request):
        """The staff page as documented, without the trailing slash the mounted app needs."""
        query = request.url.query
        return RedirectResponse("/staff/" + (f"?{query}" if query else ""), status_code=307)


SHUTDOWN_GRACE = 5  # seconds


def serve(assistant: Assistant, *, host: str, port: int) -> None:
    """Warm the models, watch knowledge/ for changes, and serve until stopped."""
    import uvicorn

    from assistant.knowledge.watch import KnowledgeWatcher

    try:
        assistant.warm()  # every model and the index, before the port opens and /healthz can say ready
    except Exception as exc:  # an empty or mismatched index is reported by /healthz; serving goes on
        log.warning("warm-up skipped: %s", exc)
    watcher = KnowledgeWatcher(assistant=assistant).start()
    print(f"citydesk: http://{host}:{port}/ (staff page /staff, API docs /docs)", flush=True)
    try:
        # open browser tabs hold event streams (Gradio's heartbeat) that never end by themselves: on
        # SIGTERM the current turns get SHUTDOWN_GRACE seconds to finish, then the streams are closed
        uvicorn.run(create_app(assistant), host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=SHUTDOWN_GRACE)
    finally:
        watcher.stop()
