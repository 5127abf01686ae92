"""A scripted OpenAI chat-completions server on 127.0.0.1 for tests: the test chooses each next response.

    with ScriptedLLM() as server:
        server.script(Response(text="护照每本120元[1]。"), Response(status=500))
        ... settings with llm_base_url=server.url ...
        server.requests   # the JSON bodies received, in order

`POST /v1/chat/completions` answers with one JSON completion, or with server-sent events
(`data: {chunk}` lines and `data: [DONE]`) when the request says `"stream": true`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Response:
    """One scripted response: text (or a function of the request body), a delay, an HTTP status, a raw body."""

    text: str | Callable[[dict], str] = ""
    delay: float = 0.0          # seconds before anything is sent
    status: int = 200           # anything but 200 sends an OpenAI-style error object
    body: str | None = None     # sent as is instead of a well-formed response (malformed JSON, broken SSE)
    chunk_chars: int = 3        # characters per streamed chunk
    chunk_delay: float = 0.0    # seconds between streamed chunks


class ScriptedLLM:
    """The server, on a free port in a background thread; responses not scripted fall back to `default`."""

    def __init__(self, *, default: Response | None = None) -> None:
        self.default = default or Response(status=503)
        self.requests: list[dict] = []
        self._queue: list[Response] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="scripted-llm")
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *responses: Response) -> None:
        """Queue the next responses, in order."""
        with self._lock:
            self._queue.extend(responses)

    def next_response(self, request: dict) -> Response:
        with self._lock:
            self.requests.append(request)
            return self._queue.pop(0) if self._queue else self.default

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ScriptedLLM":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _handler_for(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, "application/json", json.dumps({"object": "list", "data": [
                    {"id": "test", "object": "model", "created": 0, "owned_by": "tests"}]}))
            else:
                self._send(404, "application/json", json.dumps({"error": {"message": "not found"}}))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, "application/json", json.dumps({"error": {"message": "not found"}}))
                return
            request = json.loads(raw or b"{}")
            response = llm.next_response(request)
            try:
                time.sleep(response.delay)
                self._answer(request, response)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing more to say

        def _answer(self, request: dict, response: Response) -> None:
            stream = bool(request.get("stream"))
            kind = "text/event-stream" if stream else "application/json"
            if response.body is not None:
                self._send(response.status, kind, response.body)
                return
            if response.status != 200:
                self._send(response.status, "application/json", json.dumps(
                    {"error": {"message": "scripted failure", "type": "server_error", "code": response.status}}))
                return
            text = response.text(request) if callable(response.text) else response.text
            model = request.get("model", "test")
            if not stream:
                self._send(200, kind, json.dumps({
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}, ensure_ascii=False))
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            pieces = [text[i:i + response.chunk_chars] for i in range(0, len(text), response.chunk_chars)]
            deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
            for i, delta in enumerate(deltas + [{}]):
                finish = "stop" if i == len(deltas) else None
                chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()
                if response.chunk_delay and 0 < i < len(deltas):
                    time.sleep(response.chunk_delay)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _send(self, status: int, kind: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
