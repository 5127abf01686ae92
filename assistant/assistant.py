"""The Python API: one Assistant built from settings, used by the CLI, the web app and the tests."""

from __future__ import annotations

import logging
import threading
import time

from assistant.config import Settings
from assistant.db import Conversation, Message, make_session_factory
from assistant.dialogue import TurnContext, run_turn
from assistant.embed import Embedder, get_embedder
from assistant.knowledge.index import Index, IngestReport
from assistant.retrieve import Retriever
from assistant.types import Hit, Reply

log = logging.getLogger("citydesk")


class Assistant:
    """Ingest the knowledge folder, retrieve passages, and answer citizens turn by turn."""

    def __init__(self, *, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._index: Index | None = None
        self._retriever: Retriever | None = None
        self._sessions = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides) -> "Assistant":
        """Build from CITYDESK_* settings (read from the environment when not given)."""
        return cls(settings=settings or Settings.from_env(**overrides))

    # ----- parts, created on first use ---------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder)
        return self._embedder

    @property
    def index(self) -> Index:
        with self._lock:
            if self._index is None:
                s = self.settings
                self._index = Index(directory=s.index_dir, knowledge=s.knowledge, embedder=self.embedder,
                                    chroma_url=s.chroma_url, max_file_bytes=int(s.max_file_mb * 1e6),
                                    chunk_tokens=s.chunk_tokens)
            return self._index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(index=self.index, threshold=self.settings.min_score)
        return self._retriever

    @property
    def sessions(self):
        with self._lock:
            if self._sessions is None:
                self._sessions = make_session_factory(self.settings.db_url)
            return self._sessions

    # ----- the API -----------------------------------------------------------------------------

    def ingest(self, *, rebuild: bool = False, progress: bool = False) -> IngestReport:
        return self.index.ingest(rebuild=rebuild, progress=progress)

    def retrieve(self, query: str, k: int = 10, domain: str | list[str] | None = None) -> list[Hit]:
        domains = [domain] if isinstance(domain, str) else domain
        return self.retriever.retrieve(query, k=k, domains=domains)

    def ask(self, text: str, session_id: str | None = None, lang: str | None = None) -> Reply:
        """Answer one message in a session (a new session when `session_id` is None or unknown)."""
        conversation = self._conversation(session_id, lang)
        ctx = TurnContext(assistant=self, conversation=conversation, text=text,
                          lang=lang or conversation.lang or self.settings.language)
        try:
            return run_turn(ctx)
        except Exception:
            log.exception("turn failed in session %s", conversation.id)
            ctx.reply = None
            ctx.canned("error", "error")
            ctx.reply.latency_ms = (time.perf_counter() - ctx.started) * 1000
            return ctx.reply

    def history(self, session_id: str) -> list[dict]:
        with self.sessions() as db:
            rows = db.query(Message).filter_by(session_id=session_id).order_by(Message.id).all()
            return [{"role": m.role, "text": m.text, "status": m.status, "skill": m.skill,
                     "citations": m.citations, "created": m.created} for m in rows]

    # ----- sessions ----------------------------------------------------------------------------

    def _conversation(self, session_id: str | None, lang: str | None) -> Conversation:
        with self.sessions() as db:
            found = db.get(Conversation, session_id) if session_id else None
            if found is not None:
                return found
            conversation = Conversation(lang=lang or self.settings.language, state={})
            if session_id:
                conversation.id = session_id[:64]
            db.add(conversation)
            db.commit()
            return conversation

    def save_turn(self, conversation: Conversation, messages: list[Message]) -> None:
        """Store the session state and the turn's messages in one transaction."""
        with self.sessions.begin() as db:
            db.merge(conversation)
            db.add_all(messages)
