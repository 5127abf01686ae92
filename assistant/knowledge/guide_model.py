"""Which guide a question is about, learned from citizens' questions labelled with the guide that answers them.

The retriever ranks guides by their passages (dense similarity, shared words, the title). On questions
written by people who never saw the guides' wording, the right guide came first about four times in
five. Thousands of labelled questions know more: a logistic regression on the embedder's vectors over
the guides (`classifier`, a guide and its twin in the other language are one class) gives each
candidate guide a probability, and a pairwise logistic regression over the candidate's retrieval
figures and that probability (`weights`, over FEATURES) reorders the retriever's first CANDIDATE_GUIDES
guides. A guide the classifier has never seen (one staff added since `citydesk train`) keeps the place
retrieval gave it: nothing learned about other guides may push it down. Learned by
`assistant.knowledge.guide_training` (`citydesk train`); bench/guides.py measures it.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.search.classifier import SCOPE_FILES, TRAINING, LinearModel, digest, read_jsonl, versioned

log = logging.getLogger(__name__)

FEATURES = ("rank", "first", "support", "best", "dense", "lexical", "title", "log_p", "likeliest")
CANDIDATE_GUIDES = 6   # the retriever's first guides that the model may reorder
FLOOR = -20.0          # the log-probability of a guide the classifier finds impossible
UNITS = TRAINING / "units"  # questions paired with the guide text that answers them
GUIDES = TRAINING / "guides"  # questions labelled with their guide, learned from by the guide order only
_SUFFIX = re.compile(r"(?:\.en)?\.[A-Za-z0-9]+$")


def guide_key(doc: str) -> str:
    """A guide's class: its path under knowledge/ without the extension or the ".en" of its English twin."""
    return _SUFFIX.sub("", doc.removeprefix("knowledge/"))


@dataclass(frozen=True)
class Candidate:
    """A guide the retriever found, with what retrieval knows of it."""

    doc: str
    rank: int
    support: float   # the retriever's own ranking score (best chunk, second best, title)
    best: float      # its best chunk's fused score
    dense: float     # its best chunk's dense similarity
    lexical: float   # its best chunk's BM25 score
    title: float     # its title's similarity, normalised over the candidates


def features(c: Candidate, log_p: dict[str, float]) -> np.ndarray | None:
    """The candidate's row of FEATURES, or None when the classifier does not know its guide."""
    key = guide_key(c.doc)
    if key not in log_p:
        return None
    top = max(log_p.values())
    return np.array([-c.rank, c.rank == 0, c.support, c.best, c.dense, c.lexical, c.title,
                     max(log_p[key], FLOOR), log_p[key] >= top], float)


@dataclass(frozen=True)
class GuideModel:
    """The guide classifier and the weights that combine its probability with retrieval's figures."""

    classifier: LinearModel
    weights: np.ndarray

    @property
    def embedder(self) -> str:
        return self.classifier.embedder

    @property
    def data(self) -> str:
        return self.classifier.data

    def log_p(self, vector: np.ndarray) -> dict[str, float]:
        probabilities = self.classifier.proba(vector)[0]
        return dict(zip(self.classifier.classes, np.log(np.maximum(probabilities, 1e-30)).tolist()))

    def order(self, candidates: list[Candidate], vector: np.ndarray) -> list[str]:
        """The candidates' guides, best first: among the first CANDIDATE_GUIDES, the known ones reordered by
        the learned score among the places they hold, the unknown ones where retrieval put them; the rest
        as retrieval ordered them."""
        first = candidates[:CANDIDATE_GUIDES]
        log_p = self.log_p(vector)
        rows = [features(c, log_p) for c in first]
        known = [i for i, row in enumerate(rows) if row is not None]
        ranked = sorted(known, key=lambda i: (-float(rows[i] @ self.weights), i))
        docs = [c.doc for c in candidates]
        for place, i in zip(known, ranked):
            docs[place] = first[i].doc
        return docs

    def save(self, path: Path) -> None:
        c = self.classifier
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, classes=np.array(c.classes), coef=c.coef.astype(np.float32),
                            intercept=c.intercept.astype(np.float32), weights=self.weights,
                            features=np.array(FEATURES), embedder=np.array(c.embedder), data=np.array(c.data))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "GuideModel":
        with np.load(path) as z:
            if tuple(str(f) for f in z["features"]) != FEATURES:
                raise ValueError("the weights are for other features")
            classifier = LinearModel(classes=tuple(str(c) for c in z["classes"]), coef=z["coef"],
                                     intercept=z["intercept"], embedder=str(z["embedder"]), data=str(z["data"]))
            return cls(classifier=classifier, weights=z["weights"])


@lru_cache(maxsize=4)
def guide_model(embedder: str, home: Path | None = None) -> GuideModel | None:
    """The model learned from the labelled questions as they are now with this embedder; None (retrieval's
    own order) when there is none."""
    model = versioned("guides", data_digest(), embedder, GuideModel.load, home)
    if model is None:
        log.warning("no guide model for %s and these questions: run `citydesk train`; guides keep retrieval's order",
                    embedder)
    return model


@lru_cache(maxsize=1)
def labelled_rows() -> tuple[dict, ...]:
    """The questions labelled with their guide: the in-scope questions of the scope files, the questions of
    seeds/training/units and of seeds/training/guides, each with its guide's class and the file (one author
    each) it comes from."""
    rows = [{"text": r["text"], "guide": r["topic"], "file": name}
            for name in SCOPE_FILES for r in read_jsonl(TRAINING / name) if r["scope"] == "in" and r.get("topic")]
    rows += [{"text": r["question"], "guide": guide_key(r["guide"]), "file": path.name}
             for path in sorted(UNITS.glob("*.jsonl")) for r in read_jsonl(path)]
    rows += [{"text": r["text"], "guide": r["topic"], "file": path.name}
             for path in sorted(GUIDES.glob("*.jsonl")) for r in read_jsonl(path)]
    return tuple(rows)


def data_digest() -> str:
    rows = labelled_rows()
    return digest([r["text"] for r in rows], [r["guide"] for r in rows])
