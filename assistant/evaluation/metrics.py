"""Metrics of an evaluation run: pass rates, routing, retrieval, facts, refusals, emergencies, hand-offs,
latency; the thresholds of the release gate; and the comparison with a baseline report."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path

from assistant.evaluation import report as evalreport
from assistant.evaluation.suite import MAXIMUMS, SuiteError

METRICS = ("pass_rate", "routing_accuracy", "hit_at_1", "hit_at_5", "mrr", "fact_recall", "refusal_precision",
           "refusal_recall", "emergency_recall", "emergency_false_alarms", "handoff_correctness",
           "latency_median_ms", "latency_p95_ms", "judge_faithfulness", "judge_relevance", "llm_verified",
           "llm_repaired", "llm_fallback")
# Minimums that hold for every run, whatever the suites declare: an emergency must never be missed.
GLOBAL_THRESHOLDS = {"emergency_recall": 1.0}


def route_label(route) -> str:
    """The label a route stands for: a guide question is labelled with its domain."""
    return route.domain if route.skill == "guide_qa" else route.skill


def classification_report(expected: list[str], predicted: list[str], positive: str = "out_of_scope") -> dict:
    """Accuracy, macro-F1 over the expected labels, precision/recall of `positive`, confusion matrix."""
    labels = sorted(set(expected) | set(predicted))
    confusion = {e: {p: 0 for p in labels} for e in labels}
    for e, p in zip(expected, predicted):
        confusion[e][p] += 1
    f1s = []
    for label in sorted(set(expected)):
        tp = confusion[label][label]
        fp = sum(confusion[e][label] for e in labels if e != label)
        fn = sum(confusion[label][p] for p in labels if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    tp = confusion.get(positive, {}).get(positive, 0)
    predicted_pos = sum(1 for p in predicted if p == positive)
    expected_pos = sum(1 for e in expected if e == positive)
    n = max(len(expected), 1)
    return {"n": len(expected), "accuracy": sum(e == p for e, p in zip(expected, predicted)) / n,
            "macro_f1": sum(f1s) / max(len(f1s), 1),
            f"{positive}_precision": tp / predicted_pos if predicted_pos else 0.0,
            f"{positive}_recall": tp / expected_pos if expected_pos else 0.0,
            "labels": labels, "confusion": confusion}


def format_confusion(report: dict) -> str:
    labels = report["labels"]
    width = max(len(label) for label in labels) + 1
    lines = [" " * width + " ".join(f"{label[:10]:>10s}" for label in labels) + "   <- predicted"]
    for e in labels:
        lines.append(f"{e:<{width}s}" + " ".join(f"{report['confusion'][e][p]:>10d}" for p in labels))
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _expected(turn: dict, key: str) -> list[str]:
    value = turn["expect"].get(key)
    return [] if value is None else value if isinstance(value, list) else [value]


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def routing(cases: list[dict]) -> dict:
    """Routing accuracy and confusion matrix over the turns that name the skill they expect."""
    expected, actual = [], []
    for turn in (t for c in cases for t in c["turns"] if "skill" in t["expect"]):
        wanted, got = _expected(turn, "skill"), turn["skill"] or "(none)"
        expected.append(got if got in wanted else wanted[0])
        actual.append(got)
    if not expected:
        return {"n": 0, "accuracy": None, "labels": [], "confusion": {}}
    report = classification_report(expected, actual)
    return {"n": report["n"], "accuracy": round(report["accuracy"], 4), "labels": report["labels"],
            "confusion": report["confusion"]}


def summarize(cases: list[dict]) -> dict:
    """Every metric of METRICS over these cases; None where no case measures it."""
    turns = [t for c in cases for t in c["turns"]]
    cited = [t for t in turns if "cites" in t["expect"]]
    ranks = [t["rank"] for t in cited]
    with_status = [t for t in turns if "status" in t["expect"]]
    should_refuse = {id(t) for t in with_status if "refused" in _expected(t, "status")}
    refused = {id(t) for t in with_status if t["status"] == "refused"}
    emergencies = [t for t in with_status if _expected(t, "status") == ["emergency"]]
    false_alarms = [t for t in with_status if "emergency" not in _expected(t, "status") and t["status"] == "emergency"]
    handoff = [t for t in with_status if "handoff" in _expected(t, "status") or t["status"] == "handoff"]
    handed = [t for t in handoff if "handoff" in _expected(t, "status") and t["status"] == "handoff"
              and t["ticket"] and t["ticket"] in t["reply"]]
    latencies = [t["latency_ms"] for t in turns]
    judged = [t["judge"] for t in turns if t.get("judge")]
    out = {
        "pass_rate": _rate(sum(c["passed"] for c in cases), len(cases)),
        "routing_accuracy": routing(cases)["accuracy"],
        "hit_at_1": _rate(sum(1 for r in ranks if r == 1), len(cited)),
        "hit_at_5": _rate(sum(1 for r in ranks if r is not None and r <= 5), len(cited)),
        "mrr": round(sum(1 / r for r in ranks if r) / len(cited), 4) if cited else None,
        "fact_recall": _rate(sum(t["facts_found"] for t in turns), sum(t["facts"] for t in turns)),
        "refusal_precision": _rate(len(refused & should_refuse), len(refused)),
        "refusal_recall": _rate(len(refused & should_refuse), len(should_refuse)),
        "emergency_recall": _rate(sum(1 for t in emergencies if t["status"] == "emergency"), len(emergencies)),
        "emergency_false_alarms": len(false_alarms),
        "handoff_correctness": _rate(len(handed), len(handoff)),
        "latency_median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
    }
    verification = [t.get("verification") for t in turns if t.get("verification")]
    for name in ("verified", "repaired", "fallback"):  # answers that went through the LLM, by their check
        out[f"llm_{name}"] = verification.count(name) if verification else None
    for name in ("faithfulness", "relevance"):
        scores = [j[name] for j in judged if j.get(name) is not None]
        out[f"judge_{name}"] = round(statistics.mean(scores), 4) if scores else None
    return out


def check_thresholds(metrics: dict, thresholds: dict[str, float]) -> list[dict]:
    """Each threshold with the measured value and whether it holds (None: nothing measured it)."""
    out = []
    for name, limit in thresholds.items():
        value, kind = metrics.get(name), "max" if name in MAXIMUMS else "min"
        ok = None if value is None else (value <= limit if kind == "max" else value >= limit)
        out.append({"metric": name, "kind": kind, "limit": limit, "value": value, "ok": ok})
    return out


def tag_summary(cases: list[dict]) -> dict[str, dict]:
    """Cases and pass rate per tag (multi_turn, adversarial, unanswerable…)."""
    tags: dict[str, list[dict]] = {}
    for case in cases:
        for tag in case["tags"]:
            tags.setdefault(tag, []).append(case)
    return {tag: {"cases": len(group), "passed": sum(c["passed"] for c in group),
                  "pass_rate": _rate(sum(c["passed"] for c in group), len(group))}
            for tag, group in sorted(tags.items())}


def compare(report: dict, baseline: dict, file: str) -> dict:
    """The change of every metric against a baseline report, and the cases that newly fail or pass."""
    def deltas(now: dict, before: dict) -> dict:
        out = {}
        for name in METRICS:
            a, b = now.get(name), before.get(name)
            numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
            out[name] = {"before": b, "after": a, "change": round(a - b, 4) if numbers else None}
        return out

    before_suites = {s["name"]: s["metrics"] for s in baseline.get("suites", [])}
    before_cases = {c["id"]: c["passed"] for c in baseline.get("cases", [])}
    return {"file": file,
            "overall": deltas(report["overall"]["metrics"], baseline.get("overall", {}).get("metrics", {})),
            "suites": {s["name"]: deltas(s["metrics"], before_suites.get(s["name"], {})) for s in report["suites"]},
            "newly_failing": [c["id"] for c in report["cases"] if not c["passed"] and before_cases.get(c["id"])],
            "newly_passing": [c["id"] for c in report["cases"] if c["passed"] and before_cases.get(c["id"]) is False]}


def build_report(suites, results: list[dict], run: dict, baseline: tuple[dict, str] | None = None) -> dict:
    """The whole report (schema evalreport.SCHEMA): metrics per suite and overall, the gate, every case."""
    rows, missed = [], []
    for suite in suites:
        cases = [r for r in results if r["suite"] == suite.name]
        metrics = summarize(cases)
        thresholds = check_thresholds(metrics, suite.thresholds)
        missed += [{"scope": suite.name, **t} for t in thresholds if t["ok"] is False]
        rows.append({"name": suite.name, "file": suite.file, "description": suite.description, "cases": len(cases),
                     "passed": sum(c["passed"] for c in cases), "metrics": metrics, "thresholds": thresholds})
    overall = summarize(results)
    gate = check_thresholds(overall, GLOBAL_THRESHOLDS)
    missed += [{"scope": "overall", **t} for t in gate if t["ok"] is False]
    latencies = [t["latency_ms"] for c in results for t in c["turns"]]
    report = {
        "schema": evalreport.SCHEMA, "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "run": run,
        "overall": {"cases": len(results), "passed": sum(c["passed"] for c in results), "metrics": overall,
                    "thresholds": gate},
        "suites": rows, "tags": tag_summary(results), "routing": routing(results),
        "latency": {"median_ms": overall["latency_median_ms"], "p95_ms": overall["latency_p95_ms"],
                    "max_ms": max(latencies, default=None), "histogram": evalreport.histogram(latencies)},
        "gate": {"passed": not missed, "missed": missed}, "baseline": None, "cases": results,
    }
    if baseline:
        report["baseline"] = compare(report, *baseline)
    return report


def load_baseline(path: Path) -> tuple[dict, str]:
    """A previous report.json, checked before the run so that a wrong file is caught early."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read the baseline ({exc.strerror})") from None
    except ValueError as exc:
        raise SuiteError(f"{path}: the baseline is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != evalreport.SCHEMA:
        raise SuiteError(f"{path}: not a citydesk eval report (expected schema {evalreport.SCHEMA})")
    return data, str(path)
