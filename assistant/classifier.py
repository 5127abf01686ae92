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

from assistant.embed import Embedder

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
TRAINING = ROOT / "seeds" / "training"
VERSIONED = ROOT / "seeds" / "models"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

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


def load_or_train(name: str, data: Callable[[], tuple[list[str], list[str]]], embedder: Embedder,
                  home: Path | None, **options) -> LinearModel:
    """The versioned weights when they were built from this data with this embedder; else weights
    trained here once and kept under `home`/models (a minute or so for a few thousand texts)."""
    texts, labels = data()
    wanted = digest(texts, labels)
    places = [VERSIONED / f"{name}.npz"] + ([home / "models" / f"{name}.npz"] if home else [])
    for path in places:
        try:
            model = LinearModel.load(path)
        except (OSError, ValueError, KeyError):
            continue
        if model.embedder == embedder.name and model.data == wanted:
            return model
    log.warning("training the %s classifier for %s (data or embedder changed)", name, embedder.name)
    model = train(name, texts, labels, embedder, cache=home / "cache" if home else None, **options)
    if home:
        model.save(home / "models" / f"{name}.npz")
    return model


def retrain(name: str, data: Callable[[], tuple[list[str], list[str]]], embedder: Embedder, **options) -> LinearModel:
    """Train from the data and write the versioned weights (seeds/models/<name>.npz): `citydesk train`."""
    texts, labels = data()
    model = train(name, texts, labels, embedder, **options)
    model.save(VERSIONED / f"{name}.npz")
    return model
