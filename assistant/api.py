"""FastAPI routes; the Gradio app is mounted on the same server."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI
from pydantic import BaseModel, Field

from assistant.assistant import Assistant
from assistant.web import THEME, build_chat


class ChatRequest(BaseModel):
    session_id: str | None = Field(default=None, max_length=64)
    message: str = Field(max_length=20000)
    lang: str | None = Field(default=None, pattern="^(zh|en)$")


def create_app(assistant: Assistant) -> FastAPI:
    app = FastAPI(title="citydesk", version="0.1.0")

    @app.get("/healthz")
    def healthz():
        files = assistant.index.files()
        return {"ok": True, "indexed_files": sum(1 for f in files if f["status"] == "indexed"),
                "chunks": assistant.index.chunk_count()}

    @app.post("/api/chat")
    def chat(request: ChatRequest):
        return assistant.ask(request.message, session_id=request.session_id, lang=request.lang).as_json()

    return gr.mount_gradio_app(app, build_chat(assistant), path="/", theme=THEME)


def serve(assistant: Assistant, *, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(assistant), host=host, port=port, log_level="warning")
