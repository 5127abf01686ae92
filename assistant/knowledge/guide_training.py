"""Learning the guide model (`assistant.knowledge.guide_model`) from questions labelled with their guide.

Two steps. The classifier: a logistic regression on the questions' vectors over the guides, learned
from every labelled question. The weights that combine its log-probability with retrieval's figures:
a pairwise logistic regression (the right guide against each other candidate retrieval found for the
question), on log-probabilities from classifiers that never saw the question's author (each file is
one author and is held out in turn), so that the weights learn how far a classifier can be trusted on
a new author's wording, not on questions it has learned.
"""

from __future__ import annotations

import numpy as np

from assistant.knowledge.guide_model import (CANDIDATE_GUIDES, FEATURES, GuideModel, data_digest, features, guide_key,
                                             labelled_rows)
from assistant.search.classifier import LinearModel, fit

# chosen by holding each author out in turn (bench/guides.py): the right guide first on the five authors of
# seeds/training/units and guides 0.857 on average at C=100, 0.857 at 1000 (which sent "How much is the deposit
# for a Chengwan Tong card?" to the senior card, a regression test); before seeds/training/guides, on the
# units authors, 0.818 / 0.770 / 0.864 at 100, 0.819 / 0.767 / 0.862 at 300, 0.824 / 0.762 / 0.868 at 1000
C = 100.0
COMBINE_C = 1.0


def fit_classifier(vectors: np.ndarray, labels: list[str], embedder: str, data: str = "") -> LinearModel:
    classes, coef, intercept = fit(vectors, labels, c=C, balanced=False)
    return LinearModel(classes=classes, coef=coef, intercept=intercept, embedder=embedder, data=data)


def pairs(rows: list[dict], candidates: list[list], log_ps: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """For each question whose guide is among its candidates (and not the only one): the right guide's
    FEATURES minus each other candidate's, both ways round."""
    diffs = []
    for row, found, log_p in zip(rows, candidates, log_ps):
        found = found[:CANDIDATE_GUIDES]
        feats = [features(c, log_p) for c in found]
        right = [i for i, c in enumerate(found) if feats[i] is not None and guide_key(c.doc) == row["guide"]]
        if not right:
            continue
        diffs += [feats[right[0]] - f for i, f in enumerate(feats) if f is not None and i not in right]
    x = np.array(diffs).reshape(-1, len(FEATURES))
    return np.concatenate([x, -x]), np.r_[np.ones(len(x)), np.zeros(len(x))]


def fit_weights(rows: list[dict], candidates: list[list], log_ps: list[dict[str, float]]) -> np.ndarray:
    """The pairwise weights over FEATURES (each feature scaled to its mean size while learning)."""
    from sklearn.linear_model import LogisticRegression

    x, y = pairs(rows, candidates, log_ps)
    scale = np.abs(x).mean(axis=0) + 1e-9
    model = LogisticRegression(C=COMBINE_C, fit_intercept=False, max_iter=5000).fit(x / scale, y)
    return model.coef_[0] / scale


def held_out_log_ps(rows: list[dict], vectors: np.ndarray, held: list[str]) -> list[dict[str, float] | None]:
    """For the rows of each file in `held`, the log-probabilities of a classifier learned without that file."""
    out: list[dict[str, float] | None] = [None] * len(rows)
    for name in held:
        train = [i for i, r in enumerate(rows) if r["file"] != name]
        classifier = fit_classifier(vectors[train], [rows[i]["guide"] for i in train], "")
        model = GuideModel(classifier=classifier, weights=np.zeros(len(FEATURES)))
        for i, r in enumerate(rows):
            if r["file"] == name:
                out[i] = model.log_p(vectors[i])
    return out


def learn(rows: list[dict], vectors: np.ndarray, candidates: list[list], embedder: str, data: str = "") -> GuideModel:
    """The guide model from labelled rows, their vectors and retrieval's candidates for each."""
    log_ps = held_out_log_ps(rows, vectors, sorted({r["file"] for r in rows}))
    weights = fit_weights(rows, candidates, log_ps)
    classifier = fit_classifier(vectors, [r["guide"] for r in rows], embedder, data)
    return GuideModel(classifier=classifier, weights=weights)


def retrieval_candidates(retriever, rows: list[dict], vectors: np.ndarray) -> list[list]:
    return [retriever.guide_candidates(r["text"], vector=v) for r, v in zip(rows, vectors)]


def train_guides(assistant) -> GuideModel:
    from assistant.knowledge.retrieve import Retriever

    rows = list(labelled_rows())
    vectors = assistant.embedder.queries([r["text"] for r in rows])
    plain = Retriever(index=assistant.index, guides=False)
    return learn(rows, vectors, retrieval_candidates(plain, rows, vectors), assistant.embedder.name, data_digest())
