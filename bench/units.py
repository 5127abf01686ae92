"""Choosing the unit that answers (assistant/answer/unit_model.py), on questions paired with the guide text that answers each.

    python bench/units.py --home INDEXED_HOME [--c 0.1 1 10] [--skip-untouched] [--dialogue]

The rows of seeds/training/units/ are by three authors (one file each); each file is held out in turn
while the weights are learned from the others. Then the weights learned from all of them are scored on
evals/heldout/units.jsonl (a fourth author, who saw neither the other files nor the code; never tuned on).
Printed for the hand-set weights and the learned ones: how often the answering unit ranks first (top1),
in the first three, and the mean reciprocal rank, by kind and language. With --dialogue each question is
also asked through the whole dialogue (retrieval, scope, composer; a new conversation each) and the reply
counts when it quotes the answering text; the file's rows whose text no unit holds are left out (counted).
"""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from collections import defaultdict

import numpy as np
from common import ROOT, write_json

from assistant.answer.unit_model import FEATURES, HAND, data_files, read_rows
from assistant.answer.unit_training import C, HARD, UNTOUCHED, Example, examples, fit_units, ranks, untouched_rows


def table(name: str, model, test: list[Example]) -> dict:
    r = ranks(model, test)
    groups = defaultdict(list)
    for e, rank in zip(test, r):
        groups[f"kind {e.row.get('kind', '?')}"].append(rank)
        groups[f"lang {e.row.get('lang', '?')}"].append(rank)
    print(f"  {name:24s} n={len(r):4d} top1 {np.mean(r == 1):.3f} top3 {np.mean(r <= 3):.3f} mrr {np.mean(1 / r):.3f}")
    return {"top1": float(np.mean(r == 1)), "top3": float(np.mean(r <= 3)), "mrr": float(np.mean(1 / r)),
            "groups": {k: float(np.mean(np.array(v) == 1)) for k, v in sorted(groups.items())}}


def groups_line(figures: dict) -> None:
    print("    top1 by group: " + ", ".join(f"{k} {v:.2f}" for k, v in figures["groups"].items()))


def _flat(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).lower()


def dialogue(assistant, rows: list[dict], model) -> list[bool]:
    """For each row, whether its reply, through the whole dialogue, quotes the answering text."""
    assistant.composer.scorer.model = model
    return [_flat(r["answer"]) in _flat(assistant.ask(r["question"]).text) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--c", type=float, nargs="*", default=[C])
    parser.add_argument("--hard", type=int, nargs="*", default=[HARD],
                        help="learn against the N units the hand-set weights rank highest (0: all)")
    parser.add_argument("--skip-untouched", action="store_true")
    parser.add_argument("--dialogue", action="store_true")
    parser.add_argument("--sample", type=int, default=1, help="with --dialogue, ask every Nth tuned row only")
    args = parser.parse_args()
    os.environ["CITYDESK_HOME"] = args.home
    from assistant import Assistant

    assistant = Assistant.from_settings()
    rows = read_rows(data_files())
    found, lost = examples(rows, assistant.index, assistant.embedder)
    print(f"tuned rows: {len(rows)} in {len(data_files())} files; {len(lost)} without a unit holding the answer")
    out: dict = {"held out by author": {}}
    print("each author's file held out in turn:")
    quoted = {"hand": [], "learned": []}
    for name in sorted({e.row["file"] for e in found}):
        train = [e for e in found if e.row["file"] != name]
        test = [e for e in found if e.row["file"] == name]
        out["held out by author"][name] = {"hand": table(f"{name} hand", HAND, test)}
        for c in args.c:
            for hard in args.hard:
                label = f"C={c} hard={hard or 'all'}"
                out["held out by author"][name][label] = table(f"{name} {label}", fit_units(train, "", c=c, hard=hard), test)
        if args.dialogue:
            rows = [e.row for e in test][::args.sample]
            quoted["hand"] += dialogue(assistant, rows, HAND)
            quoted["learned"] += dialogue(assistant, rows, fit_units(train, "", c=args.c[0]))
    if args.dialogue:
        out["tuned dialogue"] = {k: float(np.mean(v)) for k, v in quoted.items()}
        print(f"  every {args.sample}th row through the dialogue, the answering text quoted: hand "
              f"{out['tuned dialogue']['hand']:.3f}, learned (by author) {out['tuned dialogue']['learned']:.3f}")
    model = fit_units(found, assistant.embedder.name, c=args.c[0])
    print("learned weights: " + ", ".join(f"{f} {w:.2f}" for f, w in zip(FEATURES, model.weights)))
    if not args.skip_untouched and UNTOUCHED.exists():
        held = untouched_rows()
        test, missing = examples(held, assistant.index, assistant.embedder)
        print(f"untouched ({UNTOUCHED.relative_to(ROOT)}): {len(held)} rows (those a tuned row asks word for word left out), "
              f"{len(missing)} without a unit holding the answer")
        out["untouched"] = {"hand": table("untouched hand", HAND, test), "learned": table("untouched learned", model, test)}
        groups_line(out["untouched"]["hand"])
        groups_line(out["untouched"]["learned"])
        if args.dialogue:
            kept = [e.row for e in test]
            out["untouched dialogue"] = {"hand": float(np.mean(dialogue(assistant, kept, HAND))),
                                         "learned": float(np.mean(dialogue(assistant, kept, model)))}
            print(f"  dialogue quotes the answer: hand {out['untouched dialogue']['hand']:.3f}, "
                  f"learned {out['untouched dialogue']['learned']:.3f}")
    write_json("units", out)


if __name__ == "__main__":
    main()
