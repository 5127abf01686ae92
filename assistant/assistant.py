"""The Python API: one Assistant built from settings, used by the CLI, the web app and the tests."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import time
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from assistant.answer.extractive import Composer
from assistant.core.config import Settings
from assistant.core.types import Hit, Reply, Route
from assistant.dialogue.intake import LONG, Intake
from assistant.dialogue.pipeline import STEPS, continue_or_route, record, run_turn_stream
from assistant.dialogue.route import Router
from assistant.dialogue.scope import Scope
from assistant.knowledge.index import Index, IngestReport
from assistant.knowledge.retrieve import Retriever
from assistant.safety import guardrails
from assistant.safety.triage import Triager
from assistant.search.embed import Embedder, get_embedder
from assistant.search.store import StoreError
from assistant.services.database import make_session_factory
from assistant.services.db import Conversation, Message
from assistant.services import dashboard
from assistant.services.seeds import ensure_slots, load_seeds
from assistant.skills import REGISTRY
from assistant.skills.context import TurnContext

log = logging.getLogger("citydesk")


class Assistant:
    """Ingest the knowledge folder, retrieve passages, and answer citizens turn by turn."""

    def __init__(self, *, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._index: Index | None = None
        self._retriever: Retriever | None = None
        self._router: Router | None = None
        self._composer: Composer | None = None
        self._scope: Scope | None = None
        self._triager: Triager | None = None
        self._intake: Intake | None = None
        self._llm = None
        self._llm_built = False
        self._sessions = None
        self._key: bytes | None = None
        self._lock = threading.RLock()

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
            s = self.settings
            self._retriever = Retriever(index=self.index, threshold=s.min_score, city=s.city, home=s.home)
        return self._retriever

    @property
    def triager(self) -> Triager:
        """Emergency triage: the classifier, the lexicon, homophones."""
        if self._triager is None:
            self._triager = Triager(embedder=self.embedder, home=self.settings.home)
        return self._triager

    @property
    def intake(self) -> Intake:
        """The request classifiers: question or request, type, department, the problem's sentences."""
        if self._intake is None:
            self._intake = Intake(embedder=self.embedder, home=self.settings.home)
        return self._intake

    @property
    def scope(self) -> Scope:
        """The out-of-scope and ellipsis classifiers."""
        if self._scope is None:
            self._scope = Scope(assistant=self)
        return self._scope

    @property
    def composer(self) -> Composer:
        if self._composer is None:
            self._composer = Composer(index=self.index, home=self.settings.home)
        return self._composer

    @property
    def llm(self):
        """The LangChain chat model from CITYDESK_LLM_*; None (extractive answers) when not configured."""
        if not self._llm_built:
            from assistant.answer.llm import build_chat_model

            self._llm = build_chat_model(self.settings)
            self._llm_built = True
        return self._llm

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = Router(embedder=self.embedder, skills=REGISTRY, home=self.settings.home)
        return self._router

    @property
    def sessions(self):
        """The database session factory; tables and seed data are created on first use."""
        with self._lock:
            if self._sessions is None:
                sessions = make_session_factory(self.settings.db_url)
                load_seeds(sessions, phone_digest=self.phone_digest)
                ensure_slots(sessions, self.today())
                dashboard.ensure_indexes(sessions.kw["bind"])
                self._sessions = sessions
            return self._sessions

    def today(self) -> dt.date:
        return self.now().date()

    def now(self) -> dt.datetime:
        """The current time in the city's time zone."""
        return dt.datetime.now(ZoneInfo(self.settings.timezone))

    def phone_digest(self, phone: str) -> str:
        """A keyed hash of a phone number; the key is made once and kept under CITYDESK_HOME."""
        with self._lock:
            if self._key is None:
                path = self.settings.home / "secret.key"
                if not path.exists():
                    self.settings.home.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_text(secrets.token_hex(32))
                    try:
                        os.link(tmp, path)  # fails if another worker made the key first: keep theirs
                    except FileExistsError:
                        pass
                    finally:
                        tmp.unlink()
                self._key = bytes.fromhex(path.read_text().strip())
            return guardrails.phone_digest(phone, self._key)

    # ----- the API -----------------------------------------------------------------------------

    def ingest(self, *, rebuild: bool = False, progress: bool = False) -> IngestReport:
        """Bring the index in line with the knowledge folder; `rebuild` starts over, even from a damaged index."""
        if rebuild:
            try:
                self.index
            except StoreError:
                Index.remove_manifest(self.settings.index_dir)
        report = self.index.ingest(rebuild=rebuild, progress=progress)
        if report.indexed:
            self.composer.scorer.warm()  # the units' vectors, so that no citizen's question waits for them
        return report

    def health(self) -> dict:
        """What /healthz shows: whether the index and the database can serve, with the command that mends the index."""
        try:
            index = self.index
            state, files, chunks = index.status(), index.files(), index.chunk_count()
        except StoreError as exc:
            state, files, chunks = f"unusable: {exc}", [], 0
        try:
            with self.sessions() as db:
                db.execute(text("SELECT 1"))
            database = "ok"
        except SQLAlchemyError as exc:
            database = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        return {"ok": state == "ok" and database == "ok", "index": state,
                "indexed_files": sum(1 for f in files if f["status"] == "indexed"),
                "rejected_files": sum(1 for f in files if f["status"] == "rejected"), "chunks": chunks,
                "database": database}

    def retrieve(self, query: str, k: int = 10, domain: str | list[str] | None = None) -> list[Hit]:
        domains = [domain] if isinstance(domain, str) else domain
        return self.retriever.retrieve(query, k=k, domains=domains)

    def warm(self, question: str = "办护照需要什么材料") -> None:
        """Load every model and open the index before the first citizen waits: the work of a whole
        turn (triage, request intake, routing, retrieval, scope, the answer), with nothing stored."""
        vector = self.embedder.query(question)
        self.triager.triage(question, vector)
        self.intake.classify(question, vector)
        self.route(question)
        self.scope.warm()
        self.retriever.titles.warm(list(self.index.titles_of([f["path"] for f in self.index.files()]).values()))
        hits = self.retriever.retrieve(question, k=5, vector=vector)
        if hits:
            self.composer.compose(question, hits, "zh", vector)

    def route(self, text: str, session_id: str | None = None) -> Route:
        """Which skill would take this message, with its score and the runner-up; nothing is stored.

        Guide questions report the domain of the best passage, and `out_of_scope` when no guide is relevant.
        """
        conversation = self._conversation(session_id, None, create=False)
        ctx = TurnContext(desk=self, conversation=conversation, text=text,
                          lang=conversation.lang or self.settings.language)
        for step in STEPS[:STEPS.index(continue_or_route) + 1]:  # the turn's own steps, up to routing
            step(ctx)
            if ctx.reply is not None:
                return Route(skill="rejected" if ctx.reply.status == "rejected" else ctx.skill or ctx.reply.status,
                             score=1.0)
        route = ctx.route
        if route.skill != "guide_qa":
            return route
        hits = self.retriever.retrieve(ctx.query, k=3, vector=ctx.vector)
        if not self.retriever.relevant(hits, ctx.lang):
            return Route(skill="out_of_scope", score=max((h.dense or 0 for h in hits), default=0.0),
                         runner_up=route.runner_up, runner_up_score=route.runner_up_score, scores=route.scores)
        return Route(skill="guide_qa", score=hits[0].dense or 0.0, runner_up=route.runner_up,
                     runner_up_score=route.runner_up_score, domain=hits[0].chunk.domain, scores=route.scores)

    def ask(self, text: str, session_id: str | None = None, lang: str | None = None) -> Reply:
        """Answer one message in a session (a new session when `session_id` is None or unknown)."""
        reply = None
        for kind, value in self.ask_stream(text, session_id=session_id, lang=lang):
            if kind == "reply":
                reply = value
        return reply

    def ask_stream(self, text: str, session_id: str | None = None, lang: str | None = None):
        """Like `ask`, as events: ("draft", text) when the extractive answer can be shown while an LLM
        writes one, then ("reply", Reply). The reply replaces the draft; no unchecked LLM text is sent.
        """
        conversation = self._conversation(session_id, lang)
        ctx = TurnContext(desk=self, conversation=conversation, text=text,
                          lang=lang or conversation.lang or self.settings.language)
        try:
            yield from run_turn_stream(ctx)
        except StoreError as exc:  # the index is missing or damaged: say so; skills without guides still work
            log.warning("guides unavailable in session %s: %s", conversation.id, exc)
            ctx.reply = None
            ctx.canned("index_missing", "error")
            record(ctx)
            yield "reply", ctx.reply
        except Exception:
            log.exception("turn failed in session %s", conversation.id)
            ctx.reply = None
            ctx.canned("error", "error")
            ctx.reply.latency_ms = (time.perf_counter() - ctx.started) * 1000
            yield "reply", ctx.reply

    def query_vector(self, text: str):
        """A message's embedding; a long message by the sentences that state its problem."""
        return self.intake.vector(text) if len(text) > LONG else self.embedder.query(text)

    def history(self, session_id: str) -> list[dict]:
        with self.sessions() as db:
            rows = db.query(Message).filter_by(session_id=session_id).order_by(Message.id).all()
            return [{"role": m.role, "text": m.text, "status": m.status, "skill": m.skill,
                     "citations": m.citations, "created": m.created} for m in rows]

    # ----- sessions ----------------------------------------------------------------------------

    def _conversation(self, session_id: str | None, lang: str | None, create: bool = True) -> Conversation:
        with self.sessions() as db:
            found = db.get(Conversation, session_id) if session_id else None
            if found is not None:
                found.state = dict(found.state or {})
                return found
            conversation = Conversation(lang=lang or self.settings.language, state={})
            if session_id:
                conversation.id = session_id[:64]
            if create:
                db.add(conversation)
                db.commit()
            return conversation

    def save_turn(self, conversation: Conversation, messages: list[Message]) -> None:
        """Store the session state and the turn's messages in one transaction."""
        with self.sessions.begin() as db:
            db.merge(conversation)
            db.add_all(messages)
