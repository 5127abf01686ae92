"""Unit scoring: how well each unit of a guide answers a question, for the extractive answer to choose from.

Every unit of the guide (a sentence, a list item, a table row, an FAQ answer) is scored against the
question: how close its section is to the question (the embedder's similarity to the section's
chunks), how much of the question's own wording it shares (weighted by how rare each word is in
that guide), whether its section is the one the asked aspect lives in, whether it states what the
aspect needs (an amount for a fee, a duration for a time), and whether it is about the situation
asked (lost, renewal…).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from assistant.safety.guardrails import normalize
from assistant.answer.question import Question, needed, vocabulary
from assistant.answer.thresholds import conditions
from assistant.core.units import Unit, units
from assistant.knowledge.wording import terms

# chosen on the answers_tune suite: rank of the unit holding the expected fact (bench: /work notes in README)
WEIGHTS = {"dense": 12.0, "words": 0.8, "aspect": 0.2, "answer": 0.3, "situation": 0.8, "value": 1.5}
FAQ = re.compile(r"(?:^|> )(?:问：|Q: )")
_PARENS = re.compile(r"[（(][^）)]*[）)]")
def heading(path: str) -> str:
    """The heading a section path names: its last part, or its first for an FAQ entry."""
    return path.split(" > ")[-1] if not FAQ.search(path) else path.split(" > ")[0]


def situations_in(text: str) -> set[str]:
    """The situations (lost, renewal…) whose cues the text mentions, in either language."""
    clean = normalize(text).lower()
    return {name for name, cues in vocabulary()["situations"].items()
            if any(c.lower() in clean for lang in ("zh", "en") for c in cues[lang])}


@dataclass
class Scored:
    """A unit of a guide with its score against the question and its section's dense similarity."""

    unit: Unit
    score: float
    dense: float


class UnitScorer:
    """Scores every unit of a guide against a question, caching the guide's vectors and units."""

    def __init__(self, *, index) -> None:
        self.index = index
        self._vectors: dict[tuple, np.ndarray] = {}
        self._guides: dict[tuple, tuple] = {}

    def section_similarity(self, doc: str, vector: np.ndarray) -> dict[str, float]:
        """The embedder's similarity of the question to each section of the guide (best chunk of it)."""
        chunks = self.index.chunks_of(doc)
        key = tuple(c.id for c in chunks)
        if key not in self._vectors:
            found = self.index.store.vectors(list(key))
            if len(self._vectors) > 512:
                self._vectors.clear()
            self._vectors[key] = np.stack([found[c.id] for c in chunks if c.id in found]) if found else np.zeros((0, 1))
        matrix = self._vectors[key]
        if not len(matrix):
            return {}
        sims = matrix @ vector
        out: dict[str, float] = {}
        for chunk, sim in zip((c for c in chunks), sims):
            out[chunk.section] = max(out.get(chunk.section, -1.0), float(sim))
        return out

    def _title(self, doc: str) -> str:
        chunks = self.index.chunks_of(doc)
        return chunks[0].title if chunks else ""

    def _guide(self, doc: str) -> tuple[list[Unit], list[set[str]], Counter, Counter]:
        """The guide's units, each unit's words, how many units use each word, list sizes (cached)."""
        sections = self.index.sections_of(doc)
        key = (doc, hash(tuple(sections)))
        if key not in self._guides:
            all_units = [u for path, text in sections for u in units(path, text)]
            worded = [set(terms(f"{u.section} {u.lead} {u.text}")) for u in all_units]
            if len(self._guides) > 256:
                self._guides.clear()
            self._guides[key] = (all_units, worded, Counter(t for have in worded for t in have),
                                 Counter((u.section, u.block) for u in all_units if u.kind == "item"))
        return self._guides[key]

    def score(self, question: Question, doc: str, vector: np.ndarray) -> list[Scored]:
        """Every unit of the guide with its score, best first."""
        dense = self.section_similarity(doc, vector)
        top = max(dense.values(), default=0.0)
        all_units, worded, df, list_sizes = self._guide(doc)
        n = max(len(all_units), 1)
        asked = Counter(terms(question.text))
        # only the question's words that the guide uses count: "多少" or "交多" say nothing about which unit
        # nor do the guide's own title words ("专项附加扣除" in the deductions guide): they name the guide;
        # a title's parentheses list what it covers ("Adult Vaccines (Flu, HPV, Rabies)"): those count
        title = set(terms(_PARENS.sub(" ", self._title(doc))))
        weight = {t: math.log((n + 1) / (df[t] + 0.5)) for t in asked if df.get(t) and t not in title}
        total = sum(weight.values()) or 1.0
        vocab = vocabulary()
        aspect_sections = [s for a in question.aspects[:2] for lang in ("zh", "en")
                           for s in vocab["aspects"][a]["sections"][lang]]
        need = needed(question)
        deciding = ((question.yesno or "eligibility" in question.aspects)
                    and not {"amount", "fees"} & set(question.aspects))
        out = []
        for u, have in zip(all_units, worded):
            words = sum(w for t, w in weight.items() if t in have) / total
            sim = dense.get(u.section, top - 0.1)
            s = WEIGHTS["dense"] * (sim - top) + WEIGHTS["words"] * words
            head = heading(u.section)
            if aspect_sections and any(name and name in head for name in aspect_sections):
                s += WEIGHTS["aspect"]
            if need:
                s += WEIGHTS["answer"] if any(p.search(u.text) for p in need) else -WEIGHTS["answer"]
            if question.situations:
                named = situations_in(u.section + " " + u.lead + " " + u.text)
                if named & question.situations:
                    s += WEIGHTS["situation"]
                elif named:
                    s -= WEIGHTS["situation"]
            for kind, value in question.values:
                found = conditions(u.text, kind)
                if found and deciding:  # "能申请吗" at 29: "年满30周岁" decides, whichever side they are on
                    s += WEIGHTS["value"]
                elif found:  # "80—89周岁：100元" for a 85-year-old, not "100周岁及以上：800元"
                    s += WEIGHTS["value"] if any(c.holds(value) for c in found) else -WEIGHTS["value"] / 2
            if question.aspect == "list" and list_sizes.get((u.section, u.block), 0) >= 3:
                s += WEIGHTS["aspect"]
            out.append(Scored(unit=u, score=s, dense=sim))
        return sorted(out, key=lambda x: -x.score)
