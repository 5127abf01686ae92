"""Classifiers on the embedder's vectors, learned from labelled phrasings kept in the repo.

Each model is a logistic regression (scikit-learn) over query embeddings of the texts in a data
file under seeds/training/. Its weights are plain arrays: versioned in seeds/models/ for the default
embedder (`citydesk train` writes them), and trained again under CITYDESK_HOME/models/ when the
embedder or the data differ from what the versioned weights were built from. Serving needs only
numpy; scikit-learn is used to train.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.search.embed import Embedder
from assistant.core.config import ROOT

log = logging.getLogger(__name__)
TRAINING = ROOT / "seeds" / "training"
# the labelled questions citizens ask, in and out of the guides' scope (assistant/dialogue/scope.py)
SCOPE_FILES = ("scope.jsonl", "scope_guides.jsonl", "scope_colloquial.jsonl")
VERSIONED = ROOT / "seeds" / "models"
# requests files that only the request classifier learns from (assistant/dialogue/intake.py says why)
INTAKE_ONLY = ("as_asked.jsonl",)


def request_files(*, intake: bool = False) -> list[Path]:
    """The labelled requests, seeds/training/requests/*.jsonl; INTAKE_ONLY's only for the intake."""
    return [p for p in sorted((TRAINING / "requests").glob("*.jsonl")) if intake or p.name not in INTAKE_ONLY]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]



def _probabilities(scores: np.ndarray, classes: int) -> np.ndarray:
    """Logistic (two classes, one score column) or softmax probabilities from linear scores."""
    if classes == 2:
        p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)

@dataclass(frozen=True)
class LinearModel:
    """Class scores from a vector: softmax (or a sigmoid for two classes) of W·x + b."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    embedder: str
    data: str  # digest of the training texts and labels

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        """Probabilities, one row per vector, one column per class."""
        scores = np.atleast_2d(vectors) @ self.coef.T + self.intercept
        return _probabilities(scores, len(self.classes))

    def predict(self, vectors: np.ndarray) -> list[str]:
        return [self.classes[i] for i in np.argmax(self.proba(vectors), axis=1)]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, classes=np.array(self.classes), coef=self.coef.astype(np.float32),
                            intercept=self.intercept.astype(np.float32), embedder=np.array(self.embedder),
                            data=np.array(self.data))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "LinearModel":
        with np.load(path) as z:
            return cls(classes=tuple(str(c) for c in z["classes"]), coef=z["coef"], intercept=z["intercept"],
                       embedder=str(z["embedder"]), data=str(z["data"]))


def digest(texts: list[str], labels: list[str]) -> str:
    return hashlib.sha256("\n".join(f"{label}\t{text}" for text, label in zip(texts, labels)).encode()).hexdigest()[:16]


def fit(vectors: np.ndarray, labels: list[str], *, c: float = 4.0, weights: np.ndarray | None = None,
        balanced: bool = True) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Logistic regression on the vectors: (classes, coef, intercept)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced" if balanced else None)
    model.fit(vectors, labels, sample_weight=weights)
    return tuple(str(x) for x in model.classes_), model.coef_, model.intercept_


def train(name: str, texts: list[str], labels: list[str], embedder: Embedder, cache: Path | None = None,
          **options) -> LinearModel:
    vectors = embedder.queries(texts, cache=cache)
    classes, coef, intercept = fit(vectors, labels, **options)
    return LinearModel(classes=classes, coef=coef, intercept=intercept, embedder=embedder.name,
                       data=digest(texts, labels))


def versioned(name: str, wanted: str, embedder: str, load: Callable[[Path], object], home: Path | None):
    """The versioned weights seeds/models/`name`.npz when they were built from this data (digest
    `wanted`) with this embedder; else those kept under `home`/models; else None."""
    places = [VERSIONED / f"{name}.npz"] + ([home / "models" / f"{name}.npz"] if home else [])
    for path in places:
        try:
            model = load(path)
        except (OSError, ValueError, KeyError):
            continue
        if model.embedder == embedder and model.data == wanted:
            return model
    return None


def versioned_or_trained(name: str, wanted: str, embedder: str, load: Callable[[Path], object],
                         train: Callable[[], object], home: Path | None):
    """The `versioned` weights, else weights trained here once (a minute or so for a few thousand
    texts) and kept under `home`/models."""
    model = versioned(name, wanted, embedder, load, home)
    if model is not None:
        return model
    log.warning("training the %s classifier for %s (data or embedder changed)", name, embedder)
    model = train()
    if home:
        (home / "models").mkdir(parents=True, exist_ok=True)
        model.save(home / "models" / f"{name}.npz")
    return model


def load_or_train(name: str, data: Callable[[], tuple[list[str], list[str]]], embedder: Embedder,
                  home: Path | None, **options) -> LinearModel:
    """A LinearModel for `data`: versioned, kept under `home`, or trained here (`versioned_or_trained`)."""
    texts, labels = data()
    return versioned_or_trained(name, digest(texts, labels), embedder.name, LinearModel.load,
                                lambda: train(name, texts, labels, embedder, **options), home)


@dataclass
class ModelSet:
    """Named TextModels (`PARTS`) saved in one file with the embedder and the data digest they were
    built from."""

    PARTS = ()

    def save(self, path) -> None:
        arrays = {"embedder": np.array(self.embedder), "data": np.array(self.data)}
        for name in self.PARTS:
            arrays |= getattr(self, name).arrays(f"{name}_")
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path):
        with np.load(path) as z:
            return cls(**{name: TextModel.from_arrays(z, f"{name}_") for name in cls.PARTS},
                       embedder=str(z["embedder"]), data=str(z["data"]))


def char_grams(text: str, vocabulary: dict[str, int]) -> dict[int, int]:
    """Counts of the 1–3-character n-grams of each space-separated word (padded with a space), as
    scikit-learn's `char_wb` analyzer makes them, limited to the vocabulary."""
    counts: dict[int, int] = {}
    for word in text.lower().split():
        word = f" {word} "
        for n in (1, 2, 3):
            for start in range(max(len(word) - n + 1, 1)):
                index = vocabulary.get(word[start:start + n])
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
    return counts


@dataclass
class TextModel:
    """A logistic regression on [the embedder's vector × `weight`, character n-gram TF-IDF of the text]:
    what the text means and the words it uses (typos, dialect and names included). Trained with
    scikit-learn (`fit_text_model`), evaluated here with numpy: building scikit-learn's vectorizer for
    one message costs more than the rest of a turn's classification."""

    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray        # classes (1 for two classes) × (dim + vocabulary)
    bias: np.ndarray
    weight: float

    @property
    def dim(self) -> int:
        return self.coef.shape[1] - len(self.idf)

    def _grams(self, text: str) -> np.ndarray:
        counts = char_grams(text, self.vocabulary)
        if not counts:
            return np.zeros(len(self.bias))
        index = np.fromiter(counts, dtype=np.int64)
        tf = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[index]
        return self.coef[:, self.dim + index] @ (tf / np.linalg.norm(tf))

    def proba(self, vectors: np.ndarray | None, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, one column per class (`vectors` None: n-grams only)."""
        scores = np.stack([self._grams(t) for t in texts]) + self.bias
        if vectors is not None and self.dim:
            scores = scores + np.atleast_2d(vectors) @ self.coef[:, :self.dim].T * self.weight
        return _probabilities(scores, len(self.classes))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}classes": np.array(self.classes), f"{prefix}vocabulary": np.array(json.dumps(self.vocabulary, ensure_ascii=False)),
                f"{prefix}idf": self.idf.astype(np.float32), f"{prefix}coef": self.coef.astype(np.float32),
                f"{prefix}bias": self.bias,
                f"{prefix}weight": np.array(self.weight)}

    @classmethod
    def from_arrays(cls, z, prefix: str) -> "TextModel":
        return cls(classes=tuple(str(c) for c in z[f"{prefix}classes"]),
                   vocabulary=json.loads(str(z[f"{prefix}vocabulary"])), idf=z[f"{prefix}idf"],
                   coef=z[f"{prefix}coef"], bias=z[f"{prefix}bias"], weight=float(z[f"{prefix}weight"]))


def fit_text_model(texts: list[str], vectors: np.ndarray | None, labels, *, c: float = 8.0,
                   weight: float = 3.0, sample_weight: np.ndarray | None = None) -> TextModel:
    """Fit a TextModel (texts already normalised; `vectors` None for n-grams only)."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    grams = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True).fit(texts)
    features = grams.transform(texts)
    if vectors is not None:
        features = hstack([csr_matrix(vectors * weight), features]).tocsr()
    model = LogisticRegression(C=c, max_iter=4000, class_weight="balanced").fit(features, labels,
                                                                                sample_weight=sample_weight)
    return TextModel(classes=tuple(str(x) for x in model.classes_), vocabulary={k: int(v) for k, v in grams.vocabulary_.items()},
                     idf=grams.idf_, coef=model.coef_, bias=model.intercept_, weight=weight if vectors is not None else 0.0)
