"""The plain data that moves through citydesk: chunks, hits, citations, replies, emergencies, routes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("answered", "asking", "booked", "cancelled", "refused", "handoff", "emergency",
            "rejected", "error")


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of a guide: a section, or part of a long section."""

    id: str
    doc: str                 # path relative to the knowledge folder, e.g. "permits/passport.md"
    domain: str              # the guide's folder
    title: str
    section: str             # heading path inside the guide, "所需材料" or "FAQ > 问：…"
    text: str
    lang: str = "zh"
    source_url: str = ""
    updated: str = ""
    ordinal: int = 0         # position of the chunk in its guide
    city: str = ""           # the city the guide is for (front matter `city:`); "" = every city
    title_en: str = ""       # a Chinese guide's English name (front matter `title_en:`), for English questions
    tags_en: str = ""        # and the English words residents search it by (`tags_en:`), comma-separated

    def embedding_text(self) -> str:
        """What the embedder and BM25 see: the text with its guide title (and English name and search
        words: bench/retrieval and the answers suites, README) and section."""
        english = "; ".join(x for x in (self.title_en, self.tags_en) if x)
        title = f"{self.title} ({english})" if english else self.title
        return f"{title} | {self.section}\n{self.text}" if self.section else f"{title}\n{self.text}"

    def display_title(self, lang: str) -> str:
        """The guide's name for a reply in `lang`: a Chinese guide's English name with its own after it."""
        return f"{self.title_en} ({self.title})" if lang == "en" and self.title_en else self.title

    def metadata(self) -> dict[str, Any]:
        meta = asdict(self)
        meta.pop("id")
        meta.pop("text")
        return meta


@dataclass(frozen=True)
class Hit:
    """A chunk retrieved for a query, with its fused score and the parts it came from."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None
    # its place in retrieval's own order, before the learned guide order (assistant/knowledge/guide_model.py)
    # moved guides: whether a guide answers at all is judged on retrieval's own evidence
    own_rank: int | None = None

    @property
    def doc(self) -> str:
        return self.chunk.doc

    @property
    def section(self) -> str:
        return self.chunk.section

    @property
    def text(self) -> str:
        return self.chunk.text

    def as_json(self) -> dict[str, Any]:
        return {"doc": self.chunk.doc, "chunk_id": self.chunk.id, "title": self.chunk.title,
                "section": self.chunk.section, "domain": self.chunk.domain, "lang": self.chunk.lang,
                "score": round(self.score, 4), "text": self.chunk.text}


class Hits(list):
    """What retrieval returns: the hits, best first, and `own_first`, the first hit in retrieval's own order.
    The learned guide order can move that hit out of the first k, and whether a guide answers at all is
    judged on it (assistant/dialogue/scope.py)."""

    def __init__(self, hits=(), own_first: Hit | None = None) -> None:
        super().__init__(hits)
        self.own_first = own_first


@dataclass(frozen=True)
class Citation:
    """A numbered source of a reply: the guide, its section and where the original lives."""

    n: int
    doc: str
    title: str
    section: str
    source_url: str = ""
    chunk_id: str = ""
    lang: str = "zh"

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "doc": self.doc, "title": self.title, "section": self.section,
                "source_url": self.source_url}


@dataclass
class Reply:
    """What the citizen gets back for one turn."""

    text: str
    status: str
    skill: str = ""
    citations: list[Citation] = field(default_factory=list)
    session_id: str = ""
    lang: str = "zh"
    latency_ms: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown reply status {self.status!r}")

    def as_json(self) -> dict[str, Any]:
        return {"reply": self.text, "status": self.status, "skill": self.skill,
                "citations": [c.as_json() for c in self.citations], "session_id": self.session_id,
                "lang": self.lang, "latency_ms": round(self.latency_ms, 1)}


@dataclass(frozen=True)
class Emergency:
    """An emergency recognised in a message: its kind, the numbers to call and the guide with first steps."""

    kind: str
    numbers: list[str]
    guide: dict[str, str]
    label: dict[str, str]
    shelters: bool = False
    hotline: str = ""
    via: str = "lexicon"
    matched: str = ""
    for_someone_else: bool = False


@dataclass(frozen=True)
class Route:
    """The skill chosen for a turn, its score and the runner-up, for evaluation on its own."""

    skill: str
    score: float
    runner_up: str = ""
    runner_up_score: float = 0.0
    domain: str = ""
    emergency: Emergency | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"skill": self.skill, "score": round(self.score, 4), "runner_up": self.runner_up,
                "runner_up_score": round(self.runner_up_score, 4), "domain": self.domain,
                "emergency": self.emergency.kind if self.emergency else None}
