"""Routing quality on public dialogue data: accuracy, macro-F1, out-of-scope precision/recall, confusion.

    python bench/routing.py [--evaldata DIR]

crosswoz_zh: metro and taxi turns must reach the transport guides, greetings and thanks small talk,
hotels, restaurants and attractions are out of scope. clinc_oos: almost everything is out of scope
for a city; greetings are small talk; traffic, directions, visas, vaccines and taxes are city topics.
Each CrossWOZ turn is routed alone and again after its context (the previous user turn) in one session.
skills_heldout: evals/heldout/skills.jsonl, messages labelled with the skill a dispatcher would choose
(guide_qa, health_booking, permits, report_issue, handoff, smalltalk), written by a helper who saw
neither the router's training data nor its code; never tuned on. With --cv, the tuned figure beside
it: the router's classifier alone, 5-fold cross-validated on its own training rows, deciding as the
dialogue does (a skill acts from SKILL_THRESHOLD, else the likelier of a question and a request).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import ROOT, temporary_home, write_json

from assistant import Assistant
from assistant.core.config import Settings
from assistant.evaluation.main import classification_report, collapse, expected_label, format_confusion, read_jsonl, route_label


def run(assistant: Assistant, rows: list[dict], with_context: bool = False) -> dict:
    vocabulary = {expected_label(row) for row in rows}
    want, got, errors = [], [], []
    began = time.perf_counter()
    for row in rows:
        session = None
        if with_context:
            previous = [t["text"] for t in row.get("context", []) if t["role"] == "usr"]
            if previous:
                session = assistant.ask(previous[-1]).session_id
        route = assistant.route(row["text"], session_id=session)
        want.append(expected_label(row))
        got.append(collapse(route_label(route), vocabulary))
        if want[-1] != got[-1]:
            errors.append({"text": row["text"], "expected": want[-1], "got": got[-1], "score": round(route.score, 3)})
    report = classification_report(want, got)
    report["ms_per_turn"] = (time.perf_counter() - began) * 1000 / max(len(rows), 1)
    report["errors"] = errors
    return report


def skills(assistant: Assistant, rows: list[dict]) -> dict:
    """Routing of the held-out skill set through the whole turn (emergency triage and request intake
    included); a question no guide answers still counts as guide_qa."""
    want, got, errors = [], [], []
    for row in rows:
        route = assistant.route(row["text"])
        want.append(row["skill"])
        got.append("guide_qa" if route.skill == "out_of_scope" else route.skill)
        if want[-1] != got[-1]:
            errors.append({"text": row["text"], "expected": want[-1], "got": got[-1], "score": round(route.score, 3)})
    report = classification_report(want, got)
    report["errors"] = errors
    return report


def skills_cv(assistant: Assistant, folds: int = 5) -> dict:
    """The tuned counterpart of skills_heldout: k-fold cross-validation of the router's classifier."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from assistant.search.classifier import fit_text_model
    from assistant.safety.guardrails import normalize
    from assistant.dialogue.route import C, EMBEDDING_WEIGHT, decide, training_rows

    rows = training_rows(assistant.router.examples)
    texts, labels = [normalize(t).lower() for t, _ in rows], np.array([label for _, label in rows])
    vectors = assistant.embedder.queries([t for t, _ in rows])
    want, got = [], []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, labels):
        model = fit_text_model([texts[i] for i in train], vectors[train], labels[train], c=C, weight=EMBEDDING_WEIGHT)
        for i, p in zip(test, model.proba(vectors[test], [texts[i] for i in test])):
            want.append(str(labels[i]))
            got.append(decide(dict(zip(model.classes, p.tolist()))))
    return classification_report(want, got)


def show(name: str, report: dict) -> None:
    print(f"\n== {name}: n={report['n']} accuracy {report['accuracy']:.3f} macro-F1 {report['macro_f1']:.3f} "
          f"out-of-scope precision {report['out_of_scope_precision']:.3f} recall {report['out_of_scope_recall']:.3f}")
    print(format_confusion(report))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evaldata", type=Path, default=ROOT.parent / "shared" / "evaldata")
    parser.add_argument("--home", type=Path, help="an indexed CITYDESK_HOME to reuse")
    parser.add_argument("--only", choices=("skills_heldout",), help="run only this set")
    parser.add_argument("--cv", action="store_true", help="also cross-validate the router on its training rows")
    args = parser.parse_args()
    crosswoz = args.evaldata / "crosswoz_zh" / "turn_domains.dev.jsonl"
    clinc = args.evaldata / "clinc_oos" / "intent_oos.dev.jsonl"
    if not crosswoz.exists() or not clinc.exists():
        print(f"skipped: evaluation data not found under {args.evaldata}")
        return
    with temporary_home() as (home, knowledge):
        settings = Settings.from_env(environ={}, env_file=None, home=args.home or home,
                                     **({} if args.home else {"knowledge": knowledge}))
        assistant = Assistant.from_settings(settings)
        if not args.home:
            assistant.ingest()
        results = {"skills_heldout": skills(assistant, read_jsonl(ROOT / "evals" / "heldout" / "skills.jsonl"))}
        if args.cv:
            results["skills_tuned_cv"] = skills_cv(assistant)
        if not args.only:
            results |= {"crosswoz_zh": run(assistant, read_jsonl(crosswoz)),
                        "crosswoz_zh_in_context": run(assistant, read_jsonl(crosswoz), with_context=True),
                        "clinc_oos": run(assistant, read_jsonl(clinc))}
    for name, report in results.items():
        show(name, report)
    write_json("routing", results)


if __name__ == "__main__":
    main()
