"""Which guide comes first: retrieval's own order against the learned guide model (assistant/knowledge/guide_model.py).

    python bench/guides.py --home INDEXED_HOME [--c 100 1000] [--skip-untouched]

The questions labelled with their guide (the in-scope questions of seeds/training/scope*.jsonl and the
questions of seeds/training/units/, one author per file) are the tuned data. Each author's file of
seeds/training/units is held out in turn: the model is learned from every other file (its combining
weights from classifiers that never saw that file either) and the held-out questions are ranked.
Then the model learned from all of them is scored on two untouched sets by other authors, never
learned from nor tuned on: the questions of evals/heldout/units.jsonl and the in-scope questions of
evals/heldout/scope.jsonl. Printed: how often the right guide (or its twin in the other language) is
the first guide, in retrieval's order and in the model's, overall and by language; and what the model costs a retrieval.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict

import numpy as np
from common import ROOT, write_json

from assistant.knowledge import guide_training
from assistant.knowledge.guide_model import guide_key, labelled_rows


def first_guides(model, rows: list[dict], vectors: np.ndarray, candidates: list[list]) -> tuple[np.ndarray, np.ndarray]:
    """For each row: whether its guide is first in retrieval's order, and in the model's."""
    plain, learned = [], []
    for row, vector, found in zip(rows, vectors, candidates):
        order = [c.doc for c in found]
        if model is not None and len(order) > 1:
            order = model.order(found, vector)
        plain.append(bool(found) and guide_key(found[0].doc) == row["guide"])
        learned.append(bool(order) and guide_key(order[0]) == row["guide"])
    return np.array(plain), np.array(learned)


def report(name: str, rows: list[dict], plain: np.ndarray, learned: np.ndarray) -> dict:
    by_lang = defaultdict(list)
    for row, a, b in zip(rows, plain, learned):
        by_lang[row.get("lang") or ("zh" if any("\u4e00" <= ch <= "\u9fff" for ch in row["text"]) else "en")].append((a, b))
    langs = ", ".join(f"{k} {np.mean([a for a, _ in v]):.3f} -> {np.mean([b for _, b in v]):.3f} (n={len(v)})"
                      for k, v in sorted(by_lang.items()))
    print(f"  {name:34s} n={len(rows):4d} first guide: retrieval {plain.mean():.3f} -> learned {learned.mean():.3f}; {langs}")
    return {"n": len(rows), "retrieval": float(plain.mean()), "learned": float(learned.mean())}


def speed(learned, plain, rows: list[dict], embedder, runs: int = 5) -> dict:
    """Time to retrieve (the query already embedded) with the learned guide order and in retrieval's own
    order, in the same process: median over runs of the mean per question."""
    vectors = embedder.queries([r["text"] for r in rows])
    timings = {"own order": [], "learned order": []}
    for _ in range(runs):
        for name, retriever in (("own order", plain), ("learned order", learned)):
            began = time.perf_counter()
            for row, vector in zip(rows, vectors):
                retriever.retrieve(row["text"], k=5, vector=vector)
            timings[name].append((time.perf_counter() - began) / len(rows) * 1000)
    median = {name: statistics.median(t) for name, t in timings.items()}
    print(f"  retrieve, {len(rows)} questions x {runs} runs: own order {median['own order']:.1f} ms, learned order "
          f"{median['learned order']:.1f} ms (x{median['learned order'] / median['own order']:.2f})")
    return median


def untouched(path, tuned: set[str], scope: bool) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if scope:
        rows = [{"text": r["text"], "guide": r["topic"], "lang": r.get("lang")} for r in rows
                if r.get("scope") == "in" and r.get("topic")]
    else:
        rows = [{"text": r["question"], "guide": guide_key(r["guide"]), "lang": r.get("lang")} for r in rows]
    return [r for r in rows if r["text"] not in tuned]  # a question a tuned row asks word for word is left out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--c", type=float, nargs="*", default=[guide_training.C])
    parser.add_argument("--skip-untouched", action="store_true")
    args = parser.parse_args()
    os.environ["CITYDESK_HOME"] = args.home
    from assistant import Assistant
    from assistant.knowledge.retrieve import Retriever

    assistant = Assistant.from_settings()
    plain = Retriever(index=assistant.index, guides=False)
    rows = list(labelled_rows())
    vectors = assistant.embedder.queries([r["text"] for r in rows])
    candidates = guide_training.retrieval_candidates(plain, rows, vectors)
    print(f"tuned: {len(rows)} labelled questions in {len({r['file'] for r in rows})} files")
    out: dict = {"held out by author": {}}
    for c in args.c:
        guide_training.C = c
        for name in sorted({r["file"] for r in rows if not r["file"].startswith("scope")}):
            train = [i for i, r in enumerate(rows) if r["file"] != name]
            test = [i for i, r in enumerate(rows) if r["file"] == name]
            model = guide_training.learn([rows[i] for i in train], vectors[train], [candidates[i] for i in train], "")
            found = first_guides(model, [rows[i] for i in test], vectors[test], [candidates[i] for i in test])
            out["held out by author"][f"{name} C={c}"] = report(f"{name} held out, C={c}", [rows[i] for i in test], *found)
    if not args.skip_untouched:
        guide_training.C = args.c[0]
        model = guide_training.learn(rows, vectors, candidates, assistant.embedder.name)
        tuned = {r["text"] for r in rows}
        for label, path, scope in (("units", ROOT / "evals/heldout/units.jsonl", False),
                                   ("scope (in scope)", ROOT / "evals/heldout/scope.jsonl", True)):
            held = untouched(path, tuned, scope)
            held_vectors = assistant.embedder.queries([r["text"] for r in held])
            found = first_guides(model, held, held_vectors, guide_training.retrieval_candidates(plain, held, held_vectors))
            out[f"untouched {label}"] = report(f"untouched {label}", held, *found)
    out["speed"] = speed(assistant.retriever, plain, rows[::25], assistant.embedder)
    write_json("guides", out)


if __name__ == "__main__":
    main()
