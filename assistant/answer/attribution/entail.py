"""Whether a passage states a claim, learned from labelled pairs rather than grown one rule at a time.

seeds/training/attribution/*.jsonl hold (passage, claim, label) pairs written from the city's guides by
authors who saw no code: paraphrases and translations the passage supports, and claims it contradicts
(a negation flipped, a number attached to the wrong thing or changed) or does not state (an invented
fact, what another passage says). A logistic regression (scikit-learn) learns from each pair:
- the embedder's vectors of both, as their product and absolute difference (what they say and where
  they part), with separate weights across languages (an English claim over a Chinese passage);
- the character n-grams found on one side only, for a pair in one language ("不" or "免" only in the
  claim, "另收" only in the passage): this is what tells "加急不另收费" from "加急需另收费" when the
  vectors hardly differ;
- a few measures: word coverage both ways, the vectors' cosine, the polarity families that disagree
  (polarity.forms) and the claim's numbers the passage lacks.
It complements the rules of support.py: a claim they accept is still dropped when the model gives the
passage less than KEEP probability of stating it. Weights are versioned in seeds/models/entail.npz (`citydesk train`).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.safety import guardrails

from assistant.answer import verify
from assistant.answer.attribution.polarity import disagreeing, forms
from assistant.answer.attribution.support import Passages, support
from assistant.answer.attribution.text import MARKER, Text, content, is_chinese
from assistant.search.classifier import TRAINING, digest, read_jsonl, versioned

log = logging.getLogger("citydesk.attribution")
DATA = TRAINING / "attribution"
LABELS = ("contradicted", "supported", "unsupported")
KEEP = 0.3        # a claim the rules accept is dropped when the probability that the passage states it is below this
C = 0.1           # chosen by cross-validation over the authors (bench/entail.py)
MIN_DF = 3        # an n-gram seen on one side only in fewer pairs than this is not learned from


def pair_groups() -> list[list[dict]]:
    """The labelled pairs of each file of seeds/training/attribution (one author each)."""
    return [read_jsonl(path) for path in sorted(DATA.glob("*.jsonl"))]


def pair_rows() -> list[dict]:
    return [r for group in pair_groups() for r in group]


def _clean(text: str) -> str:
    return guardrails.normalize(MARKER.sub("", text)).lower()


def _grams(text: str) -> set[str]:
    text = re.sub(r"\s+", " ", text)
    return {text[k:k + n] for n in (1, 2) for k in range(len(text) - n + 1) if text[k:k + n].strip()}


def one_sided(claim: str, passage: str) -> list[str]:
    """The n-grams of a same-language pair found on one side only: "+x" in the claim, "-x" in the passage."""
    a, b = _grams(_clean(claim)), _grams(_clean(passage))
    return sorted(f"+{g}" for g in a - b) + sorted(f"-{g}" for g in b - a)


# what the rules of support.py said of the pair, by the start of their reason ("" when they accept it)
VERDICTS = ("", "number not in the passage", "not in the passage", "contradicts", "a number attached",
            "numbers from different places", "in another language")


def measures(claim: str, passage: str, u: np.ndarray, v: np.ndarray, rules: tuple[float, str]) -> np.ndarray:
    """Word coverage both ways, cosine, polarity families that disagree, the claim's numbers the passage
    lacks, one language or two, and the rules' verdict (`rules`: support.py's score and reason)."""
    disagree = len(disagreeing(forms(claim), forms(passage)))
    missing = len(verify.unsupported_numbers(MARKER.sub("", claim), [passage]))
    same = _same(claim, passage)
    score, reason = rules
    verdict = [float(reason.startswith(v) if v else not reason) for v in VERDICTS]
    return np.array([Text(passage).coverage(content(claim)) if same else 0.0,
                     Text(claim).coverage(content(passage)) if same else 0.0,
                     float(u @ v), float(disagree), float(min(missing, 3)), float(same), score, *verdict])


@dataclass(frozen=True)
class EntailModel:
    """The fitted pair classifier: coefficients for [vector features, measures, one-sided n-grams]."""

    vocabulary: dict[str, int]
    coef: np.ndarray      # len(LABELS) × (4·dim + measures + vocabulary)
    bias: np.ndarray
    dim: int
    embedder: str
    data: str
    KEEP = KEEP  # support.py sees the model, not this module (which imports support.py to train)

    def proba(self, claim: str, passage: str, u: np.ndarray, v: np.ndarray, rules: tuple[float, str]) -> dict[str, float]:
        """The probability of each label (LABELS) for the pair; `rules` as for `measures`."""
        dense = _dense(claim, passage, u, v, rules)
        grams = [self.vocabulary[g] for g in one_sided(claim, passage) if g in self.vocabulary] if _same(claim, passage) else []
        start = len(dense)
        scores = self.coef[:, :start] @ dense + self.coef[:, [start + g for g in grams]].sum(axis=1) + self.bias
        e = np.exp(scores - scores.max())
        return dict(zip(LABELS, (e / e.sum()).tolist()))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, vocabulary=np.array(json.dumps(self.vocabulary, ensure_ascii=False)),
                            coef=self.coef.astype(np.float32), bias=self.bias, dim=np.array(self.dim),
                            embedder=np.array(self.embedder), data=np.array(self.data))

    @classmethod
    def load(cls, path: Path) -> "EntailModel":
        with np.load(path) as z:
            return cls(vocabulary=json.loads(str(z["vocabulary"])), coef=z["coef"], bias=z["bias"],
                       dim=int(z["dim"]), embedder=str(z["embedder"]), data=str(z["data"]))


def data_digest(rows: list[dict] | None = None) -> str:
    rows = pair_rows() if rows is None else rows
    return digest([f"{r['passage']}\t{r['claim']}" for r in rows], [r["label"] for r in rows])


def fit_entail(rows: list[dict], claims: np.ndarray, passages: np.ndarray, rules: list[tuple[float, str]],
               embedder: str, *, c: float = C) -> EntailModel:
    """The pair classifier fitted on labelled rows, the vectors of their claims and passages and the rules'
    verdicts (`rules_of`)."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    dense = np.stack([_dense(r["claim"], r["passage"], u, v, w) for r, u, v, w in zip(rows, claims, passages, rules)])
    sided = [one_sided(r["claim"], r["passage"]) if _same(r["claim"], r["passage"]) else [] for r in rows]
    seen = Counter(g for grams in sided for g in grams)
    vectorizer = DictVectorizer().fit([dict.fromkeys((g for g, n in seen.items() if n >= MIN_DF), 1)])
    sparse = vectorizer.transform([dict.fromkeys(grams, 1) for grams in sided])  # unknown n-grams are left out
    features = hstack([csr_matrix(dense), sparse]).tocsr()
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(features, [r["label"] for r in rows])
    assert tuple(model.classes_) == LABELS, model.classes_
    return EntailModel(vocabulary={k: int(v) for k, v in vectorizer.vocabulary_.items()}, coef=model.coef_,
                       bias=model.intercept_, dim=claims.shape[1], embedder=embedder, data=data_digest(rows))


def _same(claim: str, passage: str) -> bool:
    return is_chinese(claim) == is_chinese(passage)


def _dense(claim: str, passage: str, u: np.ndarray, v: np.ndarray, rules: tuple[float, str]) -> np.ndarray:
    """The vector features (their weights apart across languages) and the measures."""
    pair = np.r_[u * v, np.abs(u - v)]
    same = _same(claim, passage)
    return np.r_[pair * same, pair * (not same), measures(claim, passage, u, v, rules)]


def rules_of(rows: list[dict], embed) -> list[tuple[float, str]]:
    """What the rules of support.py say of each labelled pair: (score, reason)."""
    return [support(MARKER.sub("", r["claim"]).strip(), Passages([r["passage"]], embed), 0) for r in rows]


def train_entail(embedder, rows: list[dict] | None = None) -> EntailModel:
    rows = pair_rows() if rows is None else rows
    claims = embedder.queries([r["claim"] for r in rows])
    passages = embedder.queries([r["passage"] for r in rows])
    return fit_entail(rows, claims, passages, rules_of(rows, embedder.query_many), embedder.name)


@lru_cache(maxsize=4)
def versioned_model(embedder: str, home: Path | None = None) -> EntailModel | None:
    """The weights built from the pairs as they are now with this embedder (seeds/models, or `home`/models
    after `citydesk train` with another embedder); else None, and the rules of support.py decide alone."""
    model = versioned("entail", data_digest(), embedder, EntailModel.load, home)
    if model is None:
        log.warning("no pair-check weights for %s and these pairs: run `citydesk train`; the rules decide alone", embedder)
    return model
