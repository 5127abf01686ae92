"""Learning the unit weights (`assistant.answer.unit_model`) from questions paired with the guide text that answers them.

Each row of seeds/training/units/*.jsonl is a citizen's question, a guide and the text of that guide
which answers it, copied exactly. The units holding that text are the answer; every other unit of
the guide is not. The weights are a logistic regression on the differences of FEATURES between an
answering unit and each other unit of the same guide (a pairwise ranking, so nothing about one guide
or one question is learned, only what makes a unit the answer), rescaled to the hand-set scores' spread
so that the extractive answer's margins (CLOSE, the list bonus) keep their meaning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from assistant.answer.question import analyze
from assistant.answer.scoring import UnitScorer
from assistant.answer.unit_model import DATA, FEATURES, HAND, UnitModel, data_digest, data_files, read_rows

UNTOUCHED = DATA.parents[2] / "evals" / "heldout" / "units.jsonl"
# chosen by holding each author's file out in turn (bench/units.py): answering unit first 0.597 / 0.561 / 0.626
# at C=1, 0.593 / 0.570 / 0.642 at 10, 0.589 / 0.570 / 0.645 at 100
C = 10.0
# learning against all the units that do not answer; only the hand-set weights' top 3, 5, 10 or 20 ranked no better
HARD: int | None = None


def _flat(text: str) -> str:
    """For finding a copied text in a unit: no markup (HTML tags, table bars, bold marks) nor spaces."""
    return re.sub(r"[\s|*>#]+", "", re.sub(r"<[^>]+>", "", unicodedata.normalize("NFKC", text))).lower()


@dataclass
class Example:
    """One question against its guide: the features of every unit and which units answer it."""

    row: dict
    features: np.ndarray
    gold: np.ndarray


def examples(rows: list[dict], index, embedder) -> tuple[list[Example], list[dict]]:
    """The rows whose answer is found in a unit of their guide, as Examples; and the rows that were not."""
    scorer = UnitScorer(index=index, model=UnitModel(weights=np.ones(len(FEATURES))))
    vectors = embedder.queries([r["question"] for r in rows])
    out, lost = [], []
    for row, vector in zip(rows, vectors):
        doc = row["guide"].removeprefix("knowledge/")
        answer = _flat(row["answer"])
        units, features, _ = scorer.features(analyze(row["question"]), doc, vector) if answer else ([], None, None)
        gold = np.array([answer in _flat(u.text) or (len(_flat(u.text)) >= 6 and _flat(u.text) in answer)
                         or (u.kind == "item" and len(answer) >= 6 and answer in _flat(u.lead)) for u in units], bool)
        if gold.any() and not gold.all():
            out.append(Example(row=row, features=features, gold=gold))
        else:
            lost.append(row)
    return out, lost


def _rivals(e: Example, hard: int | None) -> np.ndarray:
    """The units that do not answer: all of them, or the `hard` ones the hand-set weights rank highest."""
    others = np.flatnonzero(~e.gold)
    if not hard:
        return others
    return others[np.argsort(-(e.features[others] @ HAND.weights), kind="stable")[:hard]]


def fit_units(train: list[Example], embedder: str, data: str = "", *, c: float = C, hard: int | None = HARD) -> UnitModel:
    """Pairwise logistic regression: an answering unit against the units of its guide that do not answer."""
    from sklearn.linear_model import LogisticRegression

    diffs = np.concatenate([(e.features[e.gold][:, None, :] - e.features[_rivals(e, hard)][None, :, :])
                            .reshape(-1, len(FEATURES)) for e in train])
    x = np.concatenate([diffs, -diffs])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    weights = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(x, y).coef_[0]
    spread = np.median([np.std(e.features @ HAND.weights) for e in train])
    learned = np.median([np.std(e.features @ weights) for e in train]) or 1.0
    return UnitModel(weights=weights * spread / learned, embedder=embedder, data=data)


def ranks(model: UnitModel, test: list[Example]) -> np.ndarray:
    """For each example, the rank (1 = first) of its best-placed answering unit under `model`."""
    out = []
    for e in test:
        order = np.argsort(-(e.features @ model.weights), kind="stable")
        out.append(int(np.flatnonzero(e.gold[order])[0]) + 1)
    return np.array(out)


def untouched_rows() -> list[dict]:
    """The untouched rows (evals/heldout/units.jsonl, another author; never learned from), without those whose
    question a tuned row asks word for word (authors who never saw each other's rows both wrote "13价肺炎疫苗多少钱一针")."""
    tuned = {r["question"] for r in read_rows(data_files())}
    return [r for r in read_rows([UNTOUCHED]) if r["question"] not in tuned]


def train_units(assistant) -> UnitModel:
    rows = read_rows(data_files())
    found, _ = examples(rows, assistant.index, assistant.embedder)
    return fit_units(found, assistant.embedder.name, data_digest(rows))
