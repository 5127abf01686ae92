"""Turn -> skill: a classifier learned from thousands of labelled phrasings, not a list of examples.

The model (assistant/search/classifier.py TextModel: the embedder's vector and character n-grams) is learned
from seeds/training/skills/*.jsonl (booking, application status, small talk, asking for a person, and
questions that use those skills' words but ask for information), the request and question data of
seeds/training/requests/, the questions of scope.jsonl and the follow-ups, and each skill's own
examples. A skill's keyword cues no longer score anything: they only decide whether a skill that is
waiting for an answer may be left mid-flow (a slot answer like "是" or a name can look like anything).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from assistant.search.classifier import TRAINING, ModelSet, TextModel, digest, fit_text_model, read_jsonl, request_files, versioned_or_trained
from assistant.search.embed import Embedder
from assistant.safety.guardrails import name_numbers, normalize
from assistant.skills.registry import Skill

QUESTION = "guide_qa"      # the class of questions for the guides
SKILL_THRESHOLD = 0.5      # P(skill) from which a skill other than the guides acts (5-fold CV: 0.5–0.7 within 0.003)
SWITCH_MARGIN = 0.2        # and the more a waiting skill's turn needs before another skill takes it
EMBEDDING_WEIGHT = 3.0     # the embedding's weight against the n-grams, and the inverse regularisation:
C = 8.0                    # with the threshold, the best of a 5-fold CV sweep on the training rows


def decide(scores: dict[str, float], threshold: float = SKILL_THRESHOLD) -> str:
    """The skill for these probabilities: the likeliest, unless it is a skill other than a question or
    a request and below the threshold; then the likelier of a question and a request."""
    best = max(scores, key=scores.get)
    if scores[best] < threshold and best not in (QUESTION, "report_issue"):
        return QUESTION if scores.get(QUESTION, 0.0) >= scores.get("report_issue", 0.0) else "report_issue"
    return best


@lru_cache(maxsize=4)
def training_rows(examples: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """(text, skill) pairs: the skill data files, requests and questions, follow-ups, asking for a person,
    and the skills' own `examples`."""
    rows = [(r["text"], r["skill"]) for path in sorted((TRAINING / "skills").glob("*.jsonl")) for r in read_jsonl(path)]
    for path in request_files():
        rows += [(r["text"], QUESTION if r["type"] == "question" else "report_issue") for r in read_jsonl(path)]
    for name in ("scope", "followups", "calm_followups"):
        rows += [(r["text"], QUESTION) for r in read_jsonl(TRAINING / f"{name}.jsonl")]
    rows += [(r["text"], "handoff") for r in read_jsonl(TRAINING / "calm_handoff.jsonl")]
    rows += list(examples)
    seen, unique = set(), []
    for text, label in rows:  # one label per text: the first source that names it
        if normalize(text).lower() not in seen:
            seen.add(normalize(text).lower())
            unique.append((text, label))
    return tuple(unique)


def router_digest(examples: tuple[tuple[str, str], ...]) -> str:
    """The digest of the training rows, which versioned weights must have been built from."""
    rows = training_rows(examples)
    return digest([t for t, _ in rows], [label for _, label in rows])


@dataclass
class SkillModel(ModelSet):
    skill: TextModel
    embedder: str
    data: str

    PARTS = ("skill",)


def train_router(embedder: Embedder, examples: tuple[tuple[str, str], ...], cache=None) -> SkillModel:
    rows = training_rows(examples)
    texts, labels = [t for t, _ in rows], [label for _, label in rows]
    model = fit_text_model([normalize(t).lower() for t in texts], embedder.queries(texts, cache=cache),
                           np.array(labels), c=C, weight=EMBEDDING_WEIGHT)
    return SkillModel(skill=model, embedder=embedder.name, data=digest(texts, labels))


def skill_examples(skills: dict[str, Skill]) -> tuple[tuple[str, str], ...]:
    return tuple((text, name) for name, s in skills.items() if name != "emergency" for text in s.examples)


class Router:
    """Scores a message against every skill; the model loads (or is trained once) on first use."""

    def __init__(self, *, embedder: Embedder, skills: dict[str, Skill], home=None) -> None:
        self.embedder = embedder
        self.home = home
        self.examples = skill_examples(skills)
        self._cues = {name: re.compile("|".join(s.cues), re.IGNORECASE) for name, s in skills.items() if s.cues}
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> SkillModel:
        with self._lock:
            return versioned_or_trained("skills", router_digest(self.examples), self.embedder.name, SkillModel.load,
                                        lambda: train_router(self.embedder, self.examples), self.home)

    def cued(self, name: str, text: str) -> bool:
        """True when one of the skill's keyword cues is in the text."""
        cue = self._cues.get(name)
        return bool(cue and cue.search(normalize(text)))

    def score(self, text: str, vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Every skill (and `guide_qa`) with its probability, best first."""
        plain = name_numbers(text)
        if plain != text or vector is None:  # "身份证110101…名下的预约" is read as "身份证号名下的预约"
            vector = self.embedder.query(plain)
        model = self.model.skill
        p = model.proba(vector, [normalize(plain).lower()])[0]
        return sorted(zip(model.classes, p.tolist()), key=lambda item: -item[1])
