"""Citizen requests: how well the report_issue classifier tells the request type and the department.

    python bench/requests.py [--home INDEXED_HOME]

bench/data/requests.yaml holds 150+ hand-written citizen messages (Chinese, 30 English), each labelled
with its type (complaint / help / suggestion / question) and the department that owns it (`dispatch`
when none clearly does). These sentences were written for the bench only: the classifier's examples,
cues and keywords (seeds/departments.yaml) and the skill's routing examples are different sentences,
and nothing was tuned on these. Prints accuracy, macro-F1 and the confusion matrix for the type, for
the department (messages that are not questions) and for routing (report_issue or not), and writes
bench/results/requests.json. Routing is the router's own decision; with --home (an indexed
CITYDESK_HOME, copied first) each message also goes through the whole dialogue, where a message no
guide answers and that reads like a report is taken as one ("dialogue routing").
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import ROOT, write_json

# this file's folder must leave the import path, or it would shadow the `requests` library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from assistant import Assistant  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.embed import get_embedder  # noqa: E402
from assistant.evalmetrics import classification_report, format_confusion  # noqa: E402
from assistant.route import SKILL_THRESHOLD, Router  # noqa: E402
from assistant.skills import REGISTRY  # noqa: E402
from assistant.workorders import classifier  # noqa: E402

DATA = ROOT / "bench" / "data" / "requests.yaml"


def show(name: str, report: dict) -> None:
    print(f"\n== {name}: n={report['n']} accuracy {report['accuracy']:.3f} macro-F1 {report['macro_f1']:.3f}")
    print(format_confusion(report))


def dialogue_routing(rows: list[dict], home: Path) -> dict:
    """Each message as the first turn of a new conversation, on a copy of an indexed home."""
    with tempfile.TemporaryDirectory(prefix="citydesk-requests-") as tmp:
        shutil.copytree(home, Path(tmp) / "home")
        settings = Settings.from_env(environ={}, env_file=None, home=Path(tmp) / "home", knowledge=ROOT / "knowledge")
        assistant = Assistant.from_settings(settings)
        truth = ["report_issue" if row["type"] != "question" else "other" for row in rows]
        got = ["report_issue" if assistant.ask(row["text"]).skill == "report_issue" else "other" for row in rows]
    return classification_report(truth, got, positive="report_issue")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an indexed CITYDESK_HOME, for routing through the whole dialogue")
    args = parser.parse_args()
    rows = yaml.safe_load(DATA.read_text(encoding="utf-8"))["messages"]
    embedder = get_embedder(Settings.from_env(environ={}, env_file=None).embedder)
    sorter, router = classifier(embedder), Router(embedder=embedder, skills=REGISTRY)
    kinds, depts, routes, errors = ([], []), ([], []), ([], []), []
    began = time.perf_counter()
    for row in rows:
        vector = embedder.query(row["text"])
        found = sorter.classify(row["text"], vector)
        kinds[0].append(row["type"])
        kinds[1].append(found.kind)
        if row["type"] != "question":
            depts[0].append(row["dept"])
            depts[1].append(found.department)
        best, score = router.score(row["text"], vector)[0]
        routes[0].append("report_issue" if row["type"] != "question" else "other")
        routes[1].append("report_issue" if best == "report_issue" and score >= SKILL_THRESHOLD else "other")
        if found.kind != row["type"] or (row["type"] != "question" and found.department != row["dept"]):
            errors.append({"text": row["text"], "type": row["type"], "got_type": found.kind, "dept": row["dept"],
                           "got_dept": found.department, "margin": found.confidence})
    ms = (time.perf_counter() - began) * 1000 / len(rows)
    results = {"n": len(rows), "ms_per_message": round(ms, 1),
               "type": classification_report(*kinds, positive="question"),
               "department": classification_report(*depts, positive="dispatch"),
               "routing": classification_report(*routes, positive="report_issue"),
               "errors": errors}
    if args.home:
        results["dialogue_routing"] = dialogue_routing(rows, args.home)
    for name in ("type", "department", "routing", "dialogue_routing"):
        if name in results:
            show(name, results[name])
    print(f"\ndispatch queue: precision {results['department']['dispatch_precision']:.3f} "
          f"recall {results['department']['dispatch_recall']:.3f}; {ms:.1f} ms per message")
    write_json("requests", results)


if __name__ == "__main__":
    main()
