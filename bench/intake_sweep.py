"""The request threshold (assistant/dialogue/intake.py REQUEST), chosen by cross-validation on the tuned data.

    python bench/intake_sweep.py [--folds 5]

The labelled messages of seeds/training/requests/*.jsonl are split into folds (the questions of
scope.jsonl are learned from in every fold, as `citydesk train` does); each fold's messages are scored by
a request classifier that never saw them. For each threshold on P(complaint or help or suggestion) it
prints the request-vs-question accuracy, the share of questions taken as requests and of requests
missed; a message of several parts is also a request when one part reaches PART_REQUEST, as in the
dialogue (the router, which may send a message to another skill first, is left out). The requests
issue's rule: the most accurate threshold that takes at most 8 % of questions for requests. The untouched set (evals/heldout/requests.jsonl) is not read here: measure it
afterwards with bench/requests.py.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import write_json

from assistant.dialogue.intake import REQUEST, Intake, fit_intake, training_rows
from assistant.safety.guardrails import normalize
from assistant.core.config import Settings
from assistant.search.classifier import read_jsonl, request_files
from assistant.search.embed import get_embedder

THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
MAX_QUESTIONS_TAKEN = 0.08


def cross_validated_request(folds: int) -> tuple[np.ndarray, np.ndarray]:
    """P(request) of every labelled message from a model that did not learn from it, and its truth."""
    from sklearn.model_selection import StratifiedKFold

    rows = [r for r in training_rows() if not r.get("scope_question") and not r.get("type_unknown")]
    others = [r for r in training_rows() if r.get("scope_question") or r.get("type_unknown")]
    # the questions that count are those written beside requests, in files of both kinds ("楼上漏水到我家，
    # 维修基金怎么用"); the files of questions alone (info_asks, situations) are learned from in every fold
    hard = {normalize(r["text"]) for path in request_files(intake=True)
            for rs in [read_jsonl(path)] if len({r["type"] == "question" for r in rs}) == 2 for r in rs}
    others += [r for r in rows if normalize(r["text"]) not in hard]
    rows = [r for r in rows if normalize(r["text"]) in hard]
    embedder = get_embedder(Settings.from_env().embedder)
    vectors = embedder.queries([r["text"] for r in rows])
    other_vectors = embedder.queries([r["text"] for r in others])
    truth = np.array([r["type"] != "question" for r in rows])
    p = np.zeros(len(rows))
    split = StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, [r["type"] for r in rows])
    for train, test in split:
        model = fit_intake([rows[i] for i in train] + others, np.vstack([vectors[train], other_vectors]),
                           embedder.name)
        intake = Intake(embedder=embedder, model=model)
        for i in test:
            # the whole message at the threshold; one part of several at PART_REQUEST, as the dialogue does
            whole = intake.classify(rows[i]["text"], vectors[i]).request
            p[i] = 1.0 if intake.part_request(rows[i]["text"]) else whole
    return p, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    p, truth = cross_validated_request(args.folds)
    print(f"{len(truth)} labelled messages in files of requests and questions ({int(truth.sum())} requests, "
          f"{int((~truth).sum())} questions), {args.folds}-fold cross-validation")
    rows, best = {}, None
    for t in THRESHOLDS:
        taken = p >= t
        accuracy = float((taken == truth).mean())
        questions_taken = float(taken[~truth].mean())
        missed = float((~taken[truth]).mean())
        rows[str(t)] = {"accuracy": round(accuracy, 4), "questions_taken": round(questions_taken, 4),
                        "requests_missed": round(missed, 4)}
        if questions_taken <= MAX_QUESTIONS_TAKEN and (best is None or accuracy > rows[str(best)]["accuracy"]):
            best = t
        mark = "  <- REQUEST now" if t == REQUEST else ""
        print(f"  at {t:.2f}: accuracy {accuracy:.3f}, questions taken {questions_taken:.3f}, "
              f"requests missed {missed:.3f}{mark}")
    print(f"most accurate with at most {MAX_QUESTIONS_TAKEN:.0%} of questions taken: {best or 'none of them'}")
    write_json("intake_sweep", {"thresholds": rows, "best": best, "current": REQUEST})


if __name__ == "__main__":
    main()
