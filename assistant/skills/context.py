"""What a pipeline step or a skill gets: the turn (`TurnContext`) and the services it may use (`Desk`).

`Desk` lists exactly what of the assistant a step or skill may touch; `assistant.Assistant` is the one
implementation. The dialogue layer's models (router, intake, scope) sit above this layer, so they are
typed loosely here rather than imported.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Protocol

import numpy as np

from assistant.answer.followup import Ask
from assistant.core.prompts import render
from assistant.core.types import Citation, Emergency, Hit, Reply, Route
from assistant.services.db import Conversation, Message
from assistant.skills.registry import REGISTRY

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from assistant.answer.extractive import Composer
    from assistant.core.config import Settings
    from assistant.knowledge.index import Index
    from assistant.knowledge.retrieve import Retriever
    from assistant.safety.triage import Triager
    from assistant.search.embed import Embedder


class Desk(Protocol):
    """The assistant as the pipeline and the skills see it."""

    settings: Settings
    index: Index
    retriever: Retriever
    embedder: Embedder
    triager: Triager
    composer: Composer
    sessions: sessionmaker
    llm: Any     # a LangChain chat model, or None for extractive answers
    router: Any  # dialogue.route.Router: score(text, vector) -> [(skill, probability)]
    intake: Any  # dialogue.intake.Intake: classify(text, vector) -> request type and department
    scope: Any   # dialogue.scope.Scope: answerable(text, vector, hits, lang), follow-up detection

    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date: ...

    def phone_digest(self, phone: str) -> str: ...

    def history(self, session_id: str) -> list[dict]: ...

    def save_turn(self, conversation: Conversation, messages: list[Message]) -> None: ...

    def query_vector(self, text: str) -> np.ndarray: ...


@dataclass
class TurnContext:
    """Everything one turn carries from step to step; `finish` ends the turn with a reply."""

    desk: Desk
    conversation: Conversation
    text: str
    lang: str
    query: str = ""
    skill: str = ""
    route: Route | None = None
    emergency: Emergency | None = None
    hits: list[Hit] = field(default_factory=list)
    asks: list[Ask] = field(default_factory=list)  # the guide questions of the message, with their passages
    reply: Reply | None = None
    answer_stream: Iterator[str] | None = None  # an LLM answer in the making: text deltas, then ctx.reply
    flags: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _vector: np.ndarray | None = None

    @property
    def state(self) -> dict[str, Any]:
        return self.conversation.state

    @property
    def vector(self) -> np.ndarray:
        """The query embedding of this turn, computed once and shared by triage, routing and retrieval."""
        if self._vector is None:
            self._vector = self.desk.query_vector(self.query)
        return self._vector

    @property
    def slots(self) -> dict[str, Any]:
        return self.state.setdefault("slots", {})

    def finish(self, text: str, status: str, citations: list[Citation] | None = None, **data) -> None:
        self.reply = Reply(text=text, status=status, skill=self.skill, citations=list(citations or []),
                           session_id=self.conversation.id, lang=self.lang, data=data)

    def canned(self, key: str, status: str, **values) -> None:
        self.finish(render(key, self.lang, **values), status)

    def ask(self, slot: str, text: str, **data) -> None:
        """Ask the citizen for `slot`; the next turn comes back to this skill."""
        self.state["active"] = self.skill
        self.state["awaiting"] = slot
        self.finish(text, "asking", asks_for=slot, **data)

    def hand_to(self, skill: str) -> None:
        """Give the turn to another skill: the one way a skill or a step passes the turn on."""
        self.skill = skill
        REGISTRY[skill].handle(self)

    def end_skill(self) -> None:
        """The active skill is done: forget its slots."""
        self.state.pop("active", None)
        self.state.pop("awaiting", None)
        self.state["slots"] = {}
