"""Unit scoring: how well each unit of a guide answers a question, for the extractive answer to choose from.

Every unit of the guide (a sentence, a list item, a table row, an FAQ answer) is scored against the
question: how close its section is to the question (the embedder's similarity to the section's
chunks), how much of the question's own wording it shares (weighted by how rare each word is in
that guide), whether its section is the one the asked aspect lives in, whether it states what the
aspect needs (an amount for a fee, a duration for a time), whether it is about the situation
asked (lost, renewal…), and how close the unit itself is (its vector, made at ingestion). These are the
FEATURES of `assistant.answer.unit_model`; a unit's score is their sum under its weights, learned from
citizens' questions paired with the text that answers them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.safety.guardrails import normalize
from assistant.answer.question import Question, needed, vocabulary
from assistant.answer.thresholds import conditions
from assistant.answer.unit_model import FEATURES, HAND, UnitModel
from assistant.core.units import Unit, units
from assistant.knowledge.wording import terms
from assistant.search.classifier import SCOPE_FILES, TRAINING, read_jsonl

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


@lru_cache(maxsize=1)
def asked_terms() -> tuple[Counter, int]:
    """How many of the labelled citizens' questions use each term, and how many there are: "哪里", "多少"
    or "where" are in many questions and say little about which unit answers."""
    questions = [r["text"] for name in SCOPE_FILES for r in read_jsonl(TRAINING / name)]
    return Counter(t for q in questions for t in set(terms(q))), len(questions)


def unit_text(u: Unit) -> str:
    """What a unit's vector is made from: its heading, the line introducing it, and its text."""
    return " ".join(p for p in (heading(u.section), u.lead, u.text) if p)


@dataclass
class Scored:
    """A unit of a guide with its score against the question and its section's dense similarity."""

    unit: Unit
    score: float
    dense: float


class UnitScorer:
    """Scores every unit of a guide against a question, caching the guide's vectors and units."""

    def __init__(self, *, index, model: UnitModel = HAND) -> None:
        self.index = index
        self.model = model
        self._vectors: dict[tuple, np.ndarray] = {}
        self._guides: dict[tuple, tuple] = {}
        self._unit_vectors: dict[tuple, np.ndarray] = {}

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

    def _unit_similarity(self, doc: str, all_units: list[Unit], vector: np.ndarray) -> np.ndarray:
        """The embedder's similarity of the question to each unit (with its heading and lead-in). The units'
        vectors are kept beside the index (`warm`, run at ingestion), so a question embeds nothing more."""
        key = (doc, len(all_units), hash(tuple(u.text for u in all_units)))
        if key not in self._unit_vectors:
            if len(self._unit_vectors) > 256:
                self._unit_vectors.clear()
            self._unit_vectors[key] = self.index.embedder.queries([unit_text(u) for u in all_units],
                                                                   cache=self.index.directory)
        return self._unit_vectors[key] @ vector if all_units else np.zeros(0)

    def warm(self) -> None:
        """Embed the units of every guide now (at ingestion) rather than at a citizen's question."""
        if self.model.uses_units:
            for doc in sorted(set(self.index.manifest.chunk_docs().values())):
                self._unit_similarity(doc, self._guide(doc)[0], np.zeros(self.index.embedder.dim))

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

    def features(self, question: Question, doc: str, vector: np.ndarray) -> tuple[list[Unit], np.ndarray, np.ndarray]:
        """The guide's units, a row of FEATURES for each against the question, and each section's dense similarity."""
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
        used, asked_count = asked_terms()
        rare = {t: w * math.log((asked_count + 1) / (used.get(t, 0) + 0.5)) / math.log(asked_count + 1)
                for t, w in weight.items()}
        rare_total = sum(rare.values()) or 1.0
        vocab = vocabulary()
        aspect_sections = [s for a in question.aspects[:2] for lang in ("zh", "en")
                           for s in vocab["aspects"][a]["sections"][lang]]
        need = needed(question)
        deciding = ((question.yesno or "eligibility" in question.aspects)
                    and not {"amount", "fees"} & set(question.aspects))
        near = self._unit_similarity(doc, all_units, vector) if self.model.uses_units else np.zeros(len(all_units))
        rows = np.zeros((len(all_units), len(FEATURES)))  # columns in the order of FEATURES
        sims = np.zeros(len(all_units))
        for i, (u, have) in enumerate(zip(all_units, worded)):
            row = rows[i]
            sims[i] = dense.get(u.section, top - 0.1)
            row[0] = sims[i] - top
            row[1] = sum(w for t, w in weight.items() if t in have) / total
            head = heading(u.section)
            row[2] = bool(aspect_sections and any(name and name in head for name in aspect_sections))
            if need:
                row[3] = 1.0 if any(p.search(u.text) for p in need) else -1.0
            if question.situations:
                named = situations_in(u.section + " " + u.lead + " " + u.text)
                row[4] = 1.0 if named & question.situations else (-1.0 if named else 0.0)
            for kind, value in question.values:
                found = conditions(u.text, kind)
                if found and deciding:  # "能申请吗" at 29: "年满30周岁" decides, whichever side they are on
                    row[5] += 1.0
                elif found:  # "80—89周岁：100元" for a 85-year-old, not "100周岁及以上：800元"
                    row[5] += 1.0 if any(c.holds(value) for c in found) else -0.5
            row[6] = question.aspect == "list" and list_sizes.get((u.section, u.block), 0) >= 3
            row[8] = bool(FAQ.search(u.section))
            row[9] = u.kind == "row"
            row[10] = u.kind == "item"
            row[11] = u.block == 0 and u.index == 0
            row[12] = math.log1p(len(u.text))
            row[13] = sum(w for t, w in rare.items() if t in have) / rare_total
        if len(near):
            rows[:, FEATURES.index("unit")] = near - near.max()  # once per guide, not once per unit
        return all_units, rows, sims

    def score(self, question: Question, doc: str, vector: np.ndarray) -> list[Scored]:
        """Every unit of the guide with its score, best first."""
        all_units, rows, sims = self.features(question, doc, vector)
        scores = rows @ self.model.weights
        out = [Scored(unit=u, score=float(s), dense=float(d)) for u, s, d in zip(all_units, scores, sims)]
        return sorted(out, key=lambda x: -x.score)
