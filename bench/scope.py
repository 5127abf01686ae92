"""The out-of-scope model (assistant/dialogue/scope.py), cross-validated on seeds/training/scope.jsonl
with and without the share of the question's words that the best guide uses.

    python bench/scope.py --home INDEXED_HOME [--folds 5]

Each question's features are read as `citydesk train` reads them (retrieval on the indexed home, the
nearest examples from the training folds only); trees are then fitted on k-1 folds of the features
and score the k-th. Printed for all questions and for each file of them (seeds/training/scope.jsonl and
scope_guides.jsonl), at the dialogue's threshold (OUT_OF_SCOPE) and around it: how many
out-of-scope questions are refused (recall), how many refusals are right (precision), how many
answerable questions are refused. The answer suites (`citydesk eval`) measure the same model in the
dialogue; this measures it on the thousands of labelled questions it learns from.

It also scores the model `citydesk train` built (seeds/models/scope.npz, as the dialogue loads it) on
evals/heldout/scope.jsonl: half of a second author's questions, never trained or tuned on (the other
half, seeds/training/scope_guides.jsonl, is learned from); that is the figure that counts.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from common import ROOT, write_json

from assistant import Assistant
from assistant.core.config import Settings
from assistant.dialogue.scope import MONOTONE, OUT_OF_SCOPE, scope_data, scope_features
from assistant.safety.guardrails import detect_language
from assistant.search.classifier import SCOPE_FILES, TRAINING, read_jsonl

HELDOUT = ROOT / "evals" / "heldout" / "scope.jsonl"

READINGS = {"without wording": ([0, 1, 2, 3, 4], MONOTONE[:5]), "with wording": ([0, 1, 2, 3, 4, 5], MONOTONE)}


def scored(rows: np.ndarray, out: np.ndarray, columns: list[int], monotone: list[int], folds: int) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros(len(out))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=1).split(rows, out):
        trees = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.15, random_state=0,
                                               monotonic_cst=monotone).fit(rows[train][:, columns], out[train])
        probs[test] = trees.predict_proba(rows[test][:, columns])[:, 1]
    return probs


def origins() -> dict[str, np.ndarray]:
    """For each file of labelled questions, and for all of them, which rows of scope_data() it holds."""
    texts, _ = scope_data()
    out = {"all": np.ones(len(texts), dtype=bool)}
    for name in SCOPE_FILES:
        path = TRAINING / name
        mine = {r["text"] for r in read_jsonl(path)} if path.exists() else set()
        out[name] = np.array([t in mine for t in texts])
    return out


def figures(refused: np.ndarray, out: np.ndarray, held: np.ndarray) -> dict:
    """Among the `held` questions: recall of the out-of-scope ones, precision of the refusals, and how
    many answerable ones were refused (of how many)."""
    right = int((refused & out & held).sum())
    return {"recall": round(right / max((out & held).sum(), 1), 3),
            "precision": round(right / max((refused & held).sum(), 1), 3),
            "answerable_refused": int((refused & ~out & held).sum()), "answerable": int((~out & held).sum())}


def untouched(desk) -> dict:
    """The shipped model on the untouched questions, at the dialogue's threshold, by language."""
    rows = list(read_jsonl(HELDOUT))
    vectors = desk.embedder.queries([r["text"] for r in rows])
    probs = []
    for row, vector in zip(rows, vectors):
        lang = detect_language(row["text"])
        hits = desk.retriever.retrieve(row["text"], k=5, vector=vector)
        probs.append(desk.scope.out_of_scope(row["text"], vector, hits, lang) if hits else 1.0)
    refused, out = np.array(probs) >= OUT_OF_SCOPE, np.array([r["scope"] == "out" for r in rows])
    result = {}
    for lang in ("all", "zh", "en"):
        held = np.array([lang in ("all", r["lang"]) for r in rows])
        f = result[lang] = {**figures(refused, out, held), "out": int((out & held).sum())}
        print(f"  untouched {HELDOUT.name} {lang:3s} at {OUT_OF_SCOPE:.2f}: recall {f['recall']:.3f}  precision "
              f"{f['precision']:.3f}  answerable refused {f['answerable_refused']}/{f['answerable']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a CITYDESK_HOME with the demo index")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citydesk-scope-") as tmp:
        shutil.copytree(args.home, Path(tmp) / "home")
        desk = Assistant.from_settings(Settings.from_env(environ={}, env_file=None, home=Path(tmp) / "home",
                                                         knowledge=ROOT / "knowledge"))
        rows, out, _ = scope_features(desk, args.folds)
        heldout = untouched(desk) if HELDOUT.exists() else {}
    print(f"{len(out)} questions: {int(out.sum())} out of scope, {int((~out).sum())} answerable "
          f"({args.folds}-fold cross-validation)")
    result = {}
    for name, (columns, monotone) in READINGS.items():
        probs = scored(rows, out, columns, monotone, args.folds)
        result[name] = {}
        for file, rows_of in origins().items():
            result[name][file] = {}
            for limit in sorted({0.6, 0.7, OUT_OF_SCOPE, 0.9}):
                f = result[name][file][str(limit)] = figures(probs >= limit, out, rows_of)
                mark = "  <- the dialogue's threshold" if limit == OUT_OF_SCOPE else ""
                print(f"  {name:16s} {file:22s} at {limit:.2f}: recall {f['recall']:.3f}  precision "
                      f"{f['precision']:.3f}  answerable refused {f['answerable_refused']}/{f['answerable']}{mark}")
    result["untouched"] = heldout
    write_json("scope", result)


if __name__ == "__main__":
    main()
