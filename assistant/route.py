"""Turn -> skill, with scores: similarity of the turn to each skill's examples, plus keyword cues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from assistant.embed import Embedder
from assistant.guardrails import normalize
from assistant.skills import Skill

if TYPE_CHECKING:
    from assistant.triage import Emergency

# Similarity (multilingual-e5-small, query to example utterance) a skill needs to win a turn, and
# the bonus a keyword cue adds; calibrated with bench/routing.py.
SKILL_THRESHOLD = 0.91
CUE_BONUS = 0.06
SWITCH_MARGIN = 0.02


@lru_cache(maxsize=64)
def _embed(embedder: Embedder, texts: tuple[str, ...]) -> np.ndarray:
    """Query embeddings of fixed example texts, once per process and embedder (and kept on disk)."""
    return embedder.queries(texts)


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


class Router:
    """Scores a message against every skill."""

    def __init__(self, *, embedder: Embedder, skills: dict[str, Skill]) -> None:
        self.embedder = embedder
        self.skills = {name: s for name, s in skills.items() if s.examples and name not in ("guide_qa", "emergency")}
        self._cues = {name: re.compile("|".join(s.cues), re.IGNORECASE) for name, s in self.skills.items() if s.cues}

    @cached_property
    def _example_matrices(self) -> dict[str, np.ndarray]:
        return {name: _embed(self.embedder, tuple(s.examples)) for name, s in self.skills.items()}

    def cued(self, name: str, text: str) -> bool:
        """True when one of the skill's keyword cues is in the text."""
        cue = self._cues.get(name)
        return bool(cue and cue.search(normalize(text)))

    def score(self, text: str, vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Every routable skill with its score, best first."""
        vector = self.embedder.query(text) if vector is None else vector
        scores = []
        for name, matrix in self._example_matrices.items():
            value = float(np.max(matrix @ vector))
            scores.append((name, value + (CUE_BONUS if self.cued(name, text) else 0.0)))
        return sorted(scores, key=lambda item: -item[1])
