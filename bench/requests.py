"""Citizen requests through the whole dialogue: request or question, type, department, the dispatch queue.

    python bench/requests.py --home INDEXED_HOME [--folds 5] [--heldout FILE] [--skip-tuned]

Two sets, reported apart:
- tuned: seeds/training/requests/*.jsonl, the messages the request classifiers learn from, measured
  by k-fold cross-validation: each fold's messages go through an assistant whose classifiers never
  saw them;
- untouched: evals/heldout/requests.jsonl, written separately by another author and never tuned on,
  through the assistant with the versioned classifiers.
Every message is the first turn of a new conversation on a copy of an indexed home (`--home`). A
message counts as taken as a request when the report_issue skill takes it; its type and department
are the ones the work order would be filed with. Printed: request-vs-question accuracy and the share
of questions taken as requests, type macro-F1, department accuracy (the dispatch queue counts as wrong
when an owner exists), queue precision, confusion matrices; and the cost of a long message's turn
against a short question's, in the same process (bench/results/requests.json).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, write_json

# this file's folder must leave the import path, or it would shadow the `requests` library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant.search.classifier import read_jsonl  # noqa: E402
from assistant.core.config import Settings  # noqa: E402
from assistant.services.db import Conversation  # noqa: E402
from assistant.evaluation.metrics import classification_report, format_confusion  # noqa: E402
from assistant.dialogue.intake import Intake, fit_intake, training_rows  # noqa: E402

HELDOUT = ROOT / "evals" / "heldout" / "requests.jsonl"
SHORT = ["办护照要多少钱", "公积金怎么提取", "路灯坏了", "高龄津贴能领多少", "How much is a passport?"]


def through_dialogue(assistant: Assistant, rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        reply = assistant.ask(row["text"], lang=row.get("lang"))
        with assistant.sessions() as db:
            slots = (db.get(Conversation, reply.session_id).state or {}).get("slots", {})
        request = reply.skill == "report_issue" and bool(slots.get("kind"))
        out.append({"row": row, "request": request, "kind": slots.get("kind") if request else "question",
                    "department": slots.get("department", "") if request else ""})
    return out


def report(name: str, results: list[dict]) -> dict:
    truth = ["request" if r["row"]["type"] != "question" else "question" for r in results]
    got = ["request" if r["request"] else "question" for r in results]
    routing = classification_report(truth, got, positive="request")
    questions = [r for r in results if r["row"]["type"] == "question"]
    taken = sum(r["request"] for r in questions) / max(len(questions), 1)
    kinds = classification_report([r["row"]["type"] for r in results], [r["kind"] for r in results], positive="question")
    requests = [r for r in results if r["row"]["type"] != "question"]
    owned = [r for r in requests if r["row"]["dept"] != "dispatch"]
    department = classification_report([r["row"]["dept"] for r in requests],
                                       [r["department"] or "(not filed)" for r in requests], positive="dispatch")
    dept_accuracy = sum(r["department"] == r["row"]["dept"] for r in owned) / max(len(owned), 1)
    queued = [r for r in requests if r["department"] == "dispatch"]
    queue_precision = sum(r["row"]["dept"] == "dispatch" for r in queued) / max(len(queued), 1)
    print(f"\n== {name}: {len(results)} messages ({len(requests)} requests, {len(questions)} questions)")
    print(f"request vs question: accuracy {routing['accuracy']:.3f}; questions taken as requests {taken:.3f}")
    print(format_confusion(routing))
    print(f"type: accuracy {kinds['accuracy']:.3f}, macro-F1 {kinds['macro_f1']:.3f}")
    print(format_confusion(kinds))
    print(f"department (requests whose owner exists): accuracy {dept_accuracy:.3f}; dispatch queue precision "
          f"{queue_precision:.3f} ({len(queued)} queued)")
    print(format_confusion(department))
    return {"n": len(results), "request_accuracy": round(routing["accuracy"], 4), "questions_taken": round(taken, 4),
            "type_macro_f1": round(kinds["macro_f1"], 4), "type_accuracy": round(kinds["accuracy"], 4),
            "department_accuracy": round(dept_accuracy, 4), "queue_precision": round(queue_precision, 4),
            "routing": routing, "type": kinds, "department": department}


def assistant_on(home: Path, tmp: Path) -> Assistant:
    shutil.copytree(home, tmp / "home")
    return Assistant.from_settings(Settings.from_env(environ={}, env_file=None, home=tmp / "home",
                                                     knowledge=ROOT / "knowledge"))


def cross_validate(home: Path, folds: int) -> list[dict]:
    from sklearn.model_selection import StratifiedKFold

    # the labelled messages are split into folds; the questions of scope.jsonl and the departments'
    # example sentences (which have no type) are learned from in every fold
    rows = [r for r in training_rows() if r["dept"] and not r.get("type_unknown")]
    others = [r for r in training_rows() if not (r["dept"] and not r.get("type_unknown"))]
    results = []
    with tempfile.TemporaryDirectory(prefix="citydesk-requests-") as tmp:
        assistant = assistant_on(home, Path(tmp))
        vectors = assistant.embedder.queries([r["text"] for r in rows])
        other_vectors = assistant.embedder.queries([r["text"] for r in others])
        split = StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, [r["type"] for r in rows])
        for train, test in split:
            model = fit_intake([rows[i] for i in train] + others, np.vstack([vectors[train], other_vectors]),
                               assistant.embedder.name)
            assistant._intake = Intake(embedder=assistant.embedder, model=model)
            results += through_dialogue(assistant, [rows[i] for i in test])
    return results


def speed(assistant: Assistant, rows: list[dict], runs: int = 3) -> dict:
    long = [r["text"] for r in rows if len(r["text"]) >= 300][:20] or [r["text"] for r in rows][:20]
    assistant.ask(SHORT[0])
    medians = {}
    for name, texts in (("short", SHORT * 4), ("long", long)):
        per_run = []
        for _ in range(runs):
            times = []
            for text in texts:
                began = time.perf_counter()
                assistant.ask(text)
                times.append((time.perf_counter() - began) * 1000)
            per_run.append(statistics.median(times))
        medians[name] = statistics.median(per_run)
    ratio = medians["long"] / medians["short"]
    print(f"\n== speed: a long message's turn (≥300 characters, median {medians['long']:.0f} ms) against a short "
          f"question's ({medians['short']:.0f} ms): {ratio:.2f}×")
    return {"long_ms": round(medians["long"], 1), "short_ms": round(medians["short"], 1), "ratio": round(ratio, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="an indexed CITYDESK_HOME (copied, never changed)")
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-tuned", action="store_true", help="only the untouched set")
    args = parser.parse_args()
    results = {}
    if not args.skip_tuned:
        results["tuned_cv"] = report(f"tuned set, {args.folds}-fold cross-validation", cross_validate(args.home, args.folds))
    with tempfile.TemporaryDirectory(prefix="citydesk-requests-") as tmp:
        assistant = assistant_on(args.home, Path(tmp))
        if args.heldout.exists():
            held = read_jsonl(args.heldout)
            results["untouched"] = report("untouched set (never tuned on)", through_dialogue(assistant, held))
            results["speed"] = speed(assistant, held)
        else:
            print(f"\n(untouched set not found at {args.heldout})")
    write_json("requests", results)


if __name__ == "__main__":
    main()
