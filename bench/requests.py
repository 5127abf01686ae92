"""Citizen requests: how well the report_issue classifier tells the request type and the department.

    python bench/requests.py

bench/data/requests.yaml holds 150+ hand-written citizen messages (Chinese, 30 English), each labelled
with its type (complaint / help / suggestion / question) and the department that owns it (`dispatch`
when none clearly does). These sentences were written for the bench only: the classifier's examples,
cues and keywords (seeds/departments.yaml) and the skill's routing examples are different sentences,
and nothing was tuned on these. Prints accuracy, macro-F1 and the confusion matrix for the type, for
the department (messages that are not questions) and for routing (report_issue or not), and writes
bench/results/requests.json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml
from common import ROOT, write_json

# this file's folder must leave the import path, or it would shadow the `requests` library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

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


def main() -> None:
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
    for name in ("type", "department", "routing"):
        show(name, results[name])
    print(f"\ndispatch queue: precision {results['department']['dispatch_precision']:.3f} "
          f"recall {results['department']['dispatch_recall']:.3f}; {ms:.1f} ms per message")
    write_json("requests", results)


if __name__ == "__main__":
    main()
