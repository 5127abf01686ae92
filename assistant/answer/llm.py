"""The LangChain chat model, built from settings (None when no LLM is configured), and calls to it under a deadline.

Any OpenAI-compatible server works: vLLM, Ollama (`http://127.0.0.1:11434/v1`), llama.cpp's server
(`http://127.0.0.1:8080/v1`) or a cloud API. A call that fails in any way (down, an HTTP error, a
response that is not the protocol, no first token within CITYDESK_LLM_FIRST_TOKEN_TIMEOUT seconds,
or no complete answer within CITYDESK_LLM_TIMEOUT seconds, retries included) raises `LLMError`,
whose message says why; callers then answer without the LLM.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Iterable, Iterator

import openai

from assistant.core.config import Settings


class LLMError(Exception):
    """The LLM gave no usable answer in time; the message is the reason, for the record."""


def build_chat_model(settings: Settings):
    """A `ChatOpenAI` for CITYDESK_LLM_BASE_URL / _MODEL / _API_KEY, or None without a base URL."""
    if not settings.llm_base_url:
        return None
    from langchain_openai import ChatOpenAI

    # Chat completions always (never the Responses API, which other servers do not speak).
    return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model or "default",
                      api_key=settings.llm_api_key or "not-needed", timeout=settings.llm_timeout,
                      max_retries=settings.llm_retries, temperature=0.1, use_responses_api=False)


def stream_text(model, messages: list, *, timeout: float, first_timeout: float | None = None) -> Iterator[str]:
    """The model's answer as text deltas, as they arrive; `LLMError` when it fails, sends nothing within
    `first_timeout` s, or runs past `timeout` s in all."""
    return _within(lambda: (_text(chunk) for chunk in model.stream(messages)), timeout, first_timeout)


def complete(model, messages: list, *, timeout: float) -> str:
    """The model's whole answer (one non-streaming request); `LLMError` when it fails or runs past `timeout` s."""
    return "".join(_within(lambda: [_text(model.invoke(messages))], timeout))


def _text(message: Any) -> str:
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    raise LLMError(f"bad response: no text in {type(message).__name__}")


def _within(produce: Callable[[], Iterable[str]], timeout: float, first_timeout: float | None = None) -> Iterator[str]:
    """Run `produce` in a worker thread and pass its pieces on until it ends or the deadline passes.

    The HTTP client's own timeout only bounds each read and multiplies with retries; the deadline
    here bounds the whole answer. An abandoned worker stops at its next piece or its read timeout.
    """
    pieces: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        iterator = iter(())
        try:
            iterator = iter(produce())
            for piece in iterator:
                if stop.is_set():
                    return
                if piece:
                    pieces.put(("piece", piece))
            pieces.put(("end", None))
        except Exception as exc:  # every failure becomes a reason to answer without the LLM
            pieces.put(("error", exc))
        finally:
            getattr(iterator, "close", lambda: None)()

    threading.Thread(target=work, daemon=True, name="citydesk-llm").start()
    began = time.monotonic()
    deadline = began + timeout
    first = began + min(timeout, first_timeout or timeout)
    started = False
    try:
        while True:
            try:
                kind, value = pieces.get(timeout=max(0.0, (deadline if started else first) - time.monotonic()))
            except queue.Empty:
                if not started and first < deadline:
                    raise LLMError(f"timeout: no first token within {first - began:g} s") from None
                raise LLMError(f"timeout: no complete answer within {timeout:g} s") from None
            started = True
            if kind == "end":
                return
            if kind == "error":
                raise LLMError(describe(value)) from value
            yield value
    finally:
        stop.set()


def describe(exc: Exception) -> str:
    """A short, loggable reason for a failed LLM call."""
    if isinstance(exc, LLMError):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code} from the LLM server"
    if isinstance(exc, openai.APIConnectionError):
        return "LLM server unreachable"
    return f"bad response from the LLM server ({type(exc).__name__})"
