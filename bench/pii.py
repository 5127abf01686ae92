"""PII masking recall and precision on synthetic IDs, phones, cards and e-mails inside sentences.

    python bench/pii.py [--per-kind 120] [--seeds 3]

Recall: share of personal numbers that no longer appear in full after `mask_pii`. Precision: of all
spans the masking changed, the share that were personal data (a changed fee, date, application
number or hotline is a false positive). Cases come from tests/pii_cases.py (seeded; every seed is a
new set of sentences). Writes bench/results/pii.json.
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import write_json

from assistant.safety.guardrails import mask_pii
from tests.pii_cases import GENERATORS, make_cases


def measure(per_kind: int, seed: int) -> dict:
    cases = make_cases(per_kind=per_kind, seed=seed)
    found = {kind: [0, 0] for kind in GENERATORS}
    false_positives, kept = 0, 0
    missed = []
    began = time.perf_counter()
    for case in cases:
        masked = mask_pii(case.sentence)
        for span in case.spans:
            survived = span.text in masked
            if span.kind == "keep":
                kept += 1
                false_positives += not survived
            else:
                found[span.kind][0] += not survived
                found[span.kind][1] += 1
                if survived:
                    missed.append(span.text)
    seconds = time.perf_counter() - began
    caught = sum(c for c, _ in found.values())
    return {"seed": seed, "sentences": len(cases), "pii": sum(n for _, n in found.values()), "keep_spans": kept,
            "recall": caught / sum(n for _, n in found.values()),
            "precision": caught / (caught + false_positives) if caught + false_positives else 1.0,
            "recall_by_kind": {k: c / n for k, (c, n) in found.items()}, "false_positives": false_positives,
            "missed_examples": missed[:10], "ms_per_sentence": seconds * 1000 / len(cases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=120)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    runs = [measure(args.per_kind, seed) for seed in range(1, args.seeds + 1)]
    print(f"{'seed':>4} {'sentences':>9} {'pii':>5} {'recall':>7} {'precision':>9}  "
          + " ".join(f"{k:>11}" for k in GENERATORS))
    for run in runs:
        print(f"{run['seed']:>4} {run['sentences']:>9} {run['pii']:>5} {run['recall']:>7.3f} {run['precision']:>9.3f}  "
              + " ".join(f"{run['recall_by_kind'][k]:>11.3f}" for k in GENERATORS))
    recall = statistics.median(r["recall"] for r in runs)
    precision = statistics.median(r["precision"] for r in runs)
    print(f"median recall {recall:.3f}, precision {precision:.3f} over {len(runs)} seeds "
          f"({runs[0]['ms_per_sentence']:.3f} ms per sentence)")
    for run in runs:
        if run["missed_examples"]:
            print(f"seed {run['seed']} missed: {', '.join(run['missed_examples'][:5])}")
    print("wrote", write_json("pii", {"median_recall": recall, "median_precision": precision, "runs": runs}))


if __name__ == "__main__":
    main()
