"""How much each feature of a unit counts when choosing the unit that answers a question.

The features (`FEATURES`, computed by `assistant.answer.scoring`) are the section's dense similarity,
the question's rare words the unit shares, whether the unit sits in the section that keeps the asked
aspect, states what the aspect needs, names the situation asked, decides a stated value, belongs to
a list asked for, the unit's own dense similarity, and its kind and place. Their weights are learned
(`assistant.answer.unit_training`, `citydesk train`) from citizens' questions paired with the guide
text that answers each (seeds/training/units/); without learned weights the hand-set ones below rank.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.search.classifier import digest, versioned

log = logging.getLogger(__name__)

FEATURES = ("dense", "words", "aspect", "answer", "situation", "value", "list",
            "unit", "faq", "row", "item", "first", "length", "rare_words")
# set by hand on the answers_tune suite before the weights were learned; used when none are
HAND_SET = np.array([12.0, 0.8, 0.2, 0.3, 0.8, 1.5, 0.2, 0, 0, 0, 0, 0, 0, 0])
UNIT = FEATURES.index("unit")
DATA = Path(__file__).resolve().parents[2] / "seeds" / "training" / "units"


@dataclass
class UnitModel:
    """Weights for FEATURES; `embedder` and `data` say what they were learned with and from."""

    weights: np.ndarray
    embedder: str = ""
    data: str = ""

    @property
    def uses_units(self) -> bool:
        """Whether the units' own vectors count (they must then be embedded)."""
        return bool(self.weights[UNIT])

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights, features=np.array(FEATURES),
                            embedder=np.array(self.embedder), data=np.array(self.data))

    @classmethod
    def load(cls, path: Path) -> "UnitModel":
        with np.load(path) as z:
            if tuple(str(f) for f in z["features"]) != FEATURES:
                raise ValueError("the weights are for other features")
            return cls(weights=z["weights"], embedder=str(z["embedder"]), data=str(z["data"]))


HAND = UnitModel(weights=HAND_SET)


def data_files(folder: Path = DATA) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


def read_rows(paths: list[Path]) -> list[dict]:
    return [dict(json.loads(line), file=p.name) for p in paths
            for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def data_digest(rows: list[dict] | None = None) -> str:
    rows = read_rows(data_files()) if rows is None else rows
    return digest([f"{r['guide']}\t{r['question']}" for r in rows], [r["answer"] for r in rows])


@lru_cache(maxsize=4)
def unit_model(embedder: str, home: Path | None = None) -> UnitModel:
    """The weights learned from the pairs as they are now with this embedder; else the hand-set ones."""
    model = versioned("units", data_digest(), embedder, UnitModel.load, home)
    if model is None:
        log.warning("no learned unit weights for %s and these pairs: run `citydesk train`; hand-set weights rank",
                    embedder)
        return HAND
    return model
