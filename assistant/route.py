"""Turn -> skill, with scores: emergency triage first, then similarity to each skill's examples plus cues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import yaml

from assistant.embed import Embedder
from assistant.guardrails import normalize
from assistant.prompts import PROMPTS_DIR
from assistant.skills import Skill

# Similarity (multilingual-e5-small, query to example utterance) a skill needs to win a turn, and
# the bonus a keyword cue adds; calibrated with bench/routing.py.
SKILL_THRESHOLD = 0.91
CUE_BONUS = 0.06
EXEMPLAR_THRESHOLD = 0.915
SWITCH_MARGIN = 0.02
_SENTENCE = re.compile(r"[^。！？!?；;\n.]+[。！？!?；;\n.]?")


@lru_cache(maxsize=64)
def _embed(embedder: Embedder, texts: tuple[str, ...]) -> np.ndarray:
    """Query embeddings of fixed example texts, once per process and embedder (and kept on disk)."""
    return embedder.queries(texts)


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
    """Scores a message against the emergency lexicon and exemplars, and against every skill."""

    def __init__(self, *, embedder: Embedder, skills: dict[str, Skill]) -> None:
        self.embedder = embedder
        self.skills = {name: s for name, s in skills.items() if s.examples and name not in ("guide_qa", "emergency")}
        data = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))
        self.kinds = data["kinds"]
        self._patterns = [(kind, re.compile("|".join(f"(?:{p})" for p in spec["patterns"]), re.IGNORECASE))
                          for kind, spec in self.kinds.items()]
        self._exemplars = [(kind, text) for kind, texts in data["exemplars"].items() for text in texts]
        self._not_indirect = re.compile(data["not_indirect"], re.IGNORECASE)
        self._cues = {name: re.compile("|".join(s.cues), re.IGNORECASE) for name, s in self.skills.items() if s.cues}

    @cached_property
    def _exemplar_matrix(self) -> np.ndarray:
        return _embed(self.embedder, tuple(text for _, text in self._exemplars))

    @cached_property
    def _example_matrices(self) -> dict[str, np.ndarray]:
        return {name: _embed(self.embedder, tuple(s.examples)) for name, s in self.skills.items()}

    def _emergency(self, kind: str, via: str, matched: str) -> Emergency:
        spec = self.kinds[kind]
        return Emergency(kind=kind, numbers=list(spec["numbers"]), guide=spec["guide"], label=spec["label"],
                         shelters=bool(spec.get("shelters")), hotline=str(spec.get("hotline", "")), via=via,
                         matched=matched)

    def triage(self, text: str, vector: np.ndarray | None = None) -> Emergency | None:
        """An emergency anywhere in the message: lexicon first, then similarity sentence by sentence."""
        clean = normalize(text).lower()
        for kind, pattern in self._patterns:
            m = pattern.search(clean)
            if m:
                return self._emergency(kind, "lexicon", m.group(0))
        if self._not_indirect.search(clean):
            return None
        sentences = [s.strip() for s in _SENTENCE.findall(clean) if len(s.strip()) >= 4] or [clean]
        vectors = [vector] if vector is not None and len(sentences) == 1 else \
            [self.embedder.query(s) for s in sentences[:12]]
        sims = np.stack(vectors) @ self._exemplar_matrix.T
        row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[row, col] >= EXEMPLAR_THRESHOLD:
            return self._emergency(self._exemplars[col][0], "similarity", self._exemplars[col][1])
        return None

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
