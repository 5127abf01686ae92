"""Evaluation reports: report.json (stable schema), report.md, and a self-contained report.html with inline
SVG charts (pass rate per suite, routing confusion heat-map, latency histogram) and every failing case."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from jinja2 import Environment

SCHEMA = "citydesk-eval/1"
REPORT_KEYS = ("schema", "created", "run", "overall", "suites", "tags", "routing", "latency", "gate", "baseline",
               "cases")
SHOWN = ("pass_rate", "routing_accuracy", "hit_at_1", "hit_at_5", "mrr", "fact_recall", "refusal_precision",
         "refusal_recall", "emergency_recall", "emergency_false_alarms", "handoff_correctness", "latency_median_ms",
         "latency_p95_ms", "judge_faithfulness", "judge_relevance", "llm_verified", "llm_repaired", "llm_fallback")


def fmt(value, name: str = "") -> str:
    """A metric as shown: rates with three decimals, milliseconds (names ending _ms) and counts whole."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.0f}" if name.endswith("_ms") else f"{value:.3f}"


def histogram(values: list[float], bins: int = 20) -> list[dict]:
    """Equal-width bins from 0 to the largest value: [{"from", "to", "count"}]."""
    if not values:
        return []
    width = max(max(values) / bins, 1.0)
    counts = [0] * bins
    for v in values:
        counts[min(int(v // width), bins - 1)] += 1
    return [{"from": round(i * width, 1), "to": round((i + 1) * width, 1), "count": c} for i, c in enumerate(counts)]


def write(report: dict, directory: Path) -> list[Path]:
    """Write the three reports into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "report.json", directory / "report.md", directory / "report.html"]
    paths[0].write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    paths[2].write_text(html(report), encoding="utf-8")
    return paths


def _expectations(expect: dict) -> str:
    return "; ".join(f"{k}: {v if not isinstance(v, list) else ' | '.join(map(str, v))}" for k, v in expect.items())


def summary(report: dict) -> str:
    """What the terminal shows: per-suite pass rates, the gate, and the failing cases."""
    lines = [f"{'suite':28s} {'cases':>5s} {'passed':>6s} {'rate':>6s}"]
    for s in report["suites"]:
        lines.append(f"{s['name']:28s} {s['cases']:5d} {s['passed']:6d} {fmt(s['metrics']['pass_rate']):>6s}")
    o = report["overall"]
    lines.append(f"{'overall':28s} {o['cases']:5d} {o['passed']:6d} {fmt(o['metrics']['pass_rate']):>6s}")
    lines.append("")
    lines += [f"  {name:24s} {fmt(o['metrics'][name], name)}" for name in SHOWN if o["metrics"].get(name) is not None]
    failing = [c for c in report["cases"] if not c["passed"]]
    if failing:
        lines += ["", f"failing cases ({len(failing)}):"]
        for c in failing:
            first = next(t for t in c["turns"] if not t["passed"])
            lines.append(f"  {c['id']} ({c['file']}:{first['line']}): {first['failures'][0]}")
    if report["baseline"]:
        b = report["baseline"]
        lines += ["", f"against {b['file']}: newly failing {len(b['newly_failing'])}, newly passing "
                      f"{len(b['newly_passing'])}"] + [f"  newly failing: {i}" for i in b["newly_failing"]]
    gate = report["gate"]
    lines += ["", "gate: PASSED" if gate["passed"] else "gate: FAILED"]
    lines += [f"  {m['scope']}: {m['metric']} {fmt(m['value'], m['metric'])} (must be "
              f"{'≤' if m['kind'] == 'max' else '≥'} {fmt(m['limit'], m['metric'])})" for m in gate["missed"]]
    return "\n".join(lines)


def markdown(report: dict) -> str:
    o, run = report["overall"], report["run"]
    out = [f"# citydesk evaluation, {report['created']}", "",
           f"{o['cases']} cases, {o['passed']} passed; embedder {run['embedder']}, LLM {run['llm'] or 'none'}"
           f"{', judge ' + run['judge'] if run['judge'] else ''}{', smoke subset' if run['smoke'] else ''}.", "",
           f"**Gate: {'passed' if report['gate']['passed'] else 'FAILED'}**", ""]
    out += [f"- missed: {m['scope']} {m['metric']} = {fmt(m['value'], m['metric'])}, "
            f"limit {fmt(m['limit'], m['metric'])}" for m in report["gate"]["missed"]]
    out += ["", "## Metrics", "", "| metric | overall | " + " | ".join(s["name"] for s in report["suites"]) + " |",
            "|---|---|" + "---|" * len(report["suites"])]
    for name in SHOWN:
        out.append(f"| {name} | {fmt(o['metrics'][name], name)} | "
                   + " | ".join(fmt(s["metrics"][name], name) for s in report["suites"]) + " |")
    out += ["", "## By tag", "", "| tag | cases | passed | pass rate |", "|---|---|---|---|"]
    out += [f"| {t} | {v['cases']} | {v['passed']} | {fmt(v['pass_rate'])} |" for t, v in report["tags"].items()]
    if report["baseline"]:
        b = report["baseline"]
        out += ["", f"## Against {b['file']}", "", "| metric | before | after | change |", "|---|---|---|---|"]
        out += [f"| {n} | {fmt(d['before'], n)} | {fmt(d['after'], n)} | {fmt(d['change'], n)} |"
                for n, d in b["overall"].items()]
        out += ["", "Newly failing: " + (", ".join(b["newly_failing"]) or "none"),
                "", "Newly passing: " + (", ".join(b["newly_passing"]) or "none")]
    out += ["", "## Failing cases", ""]
    for c in (c for c in report["cases"] if not c["passed"]):
        out += [f"### {c['id']} ({c['file']}:{c['line']})", ""]
        for t in c["turns"]:
            out += [f"- **citizen:** {t['say']}", f"  - expected: {_expectations(t['expect'])}",
                    f"  - got: {t['status']} / {t['skill'] or '-'} / cites {', '.join(t['citations']) or '-'}",
                    "  - reply: " + t["reply"].replace("\n", " ")[:600]]
            out += [f"  - **{f}**" for f in t["failures"]]
        out.append("")
    return "\n".join(out) + "\n"


def _bars(suites: list[dict]) -> str:
    row, width, left = 26, 420, 190
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{row * len(suites) + 10}" '
             'role="img" aria-label="pass rate per suite">']
    for i, s in enumerate(suites):
        rate = s["metrics"]["pass_rate"] or 0.0
        colour = "#2e7d32" if s["gate_ok"] else "#c62828"
        y = i * row + 5
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(s["name"])}</text>'
                     f'<rect x="{left}" y="{y}" width="{width}" height="18" fill="#eee"/>'
                     f'<rect x="{left}" y="{y}" width="{rate * width:.1f}" height="18" fill="{colour}"/>'
                     f'<text x="{left + width + 6}" y="{y + 15}">{rate:.1%}</text>')
    return "".join(parts) + "</svg>"


def _heatmap(routing: dict) -> str:
    labels, confusion = routing["labels"], routing["confusion"]
    if not labels:
        return "<p>No turn names the skill it expects.</p>"
    cell, left, top = 46, 130, 120
    size = len(labels) * cell
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + size + 10}" height="{top + size + 10}" '
             'role="img" aria-label="routing confusion matrix">']
    for j, label in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(f'<text transform="translate({x},{top - 6}) rotate(-50)">{escape(label)}</text>')
    for i, expected in enumerate(labels):
        total = sum(confusion[expected].values()) or 1
        y = top + i * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">{escape(expected)}</text>')
        for j, predicted in enumerate(labels):
            count = confusion[expected][predicted]
            hue = 130 if i == j else 0
            light = 97 - 55 * count / total if count else 97
            parts.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                         f'fill="hsl({hue},60%,{light:.0f}%)"><title>expected {escape(expected)}, got '
                         f'{escape(predicted)}: {count}</title></rect>'
                         f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + cell / 2 + 4}" '
                         f'text-anchor="middle">{count or ""}</text>')
    return "".join(parts) + "</svg>"


def _histogram(bins: list[dict]) -> str:
    if not bins:
        return "<p>No turns.</p>"
    width, height, bottom, side = 600, 180, 30, 10
    most = max(b["count"] for b in bins) or 1
    bar = width / len(bins)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 2 * side}" height="{height + bottom}" '
             'role="img" aria-label="latency histogram">']
    for i, b in enumerate(bins):
        h = height * b["count"] / most
        parts.append(f'<rect x="{side + i * bar:.1f}" y="{height - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                     f'fill="#1565c0"><title>{b["from"]:.0f}–{b["to"]:.0f} ms: {b["count"]}</title></rect>')
    # the axis labels stay inside the picture: the first starts at the left edge, the last ends at the right
    for i, anchor in ((0, "start"), (len(bins) // 2, "middle"), (len(bins), "end")):
        edge = bins[min(i, len(bins) - 1)]["to" if i == len(bins) else "from"]
        parts.append(f'<text x="{side + i * bar:.1f}" y="{height + 18}" text-anchor="{anchor}">{edge:.0f} ms</text>')
    return "".join(parts) + "</svg>"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>citydesk evaluation {{ r.created }}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1rem 0}.wide{overflow-x:auto;max-width:100%}svg{max-width:100%;height:auto}
.wide td:first-child,.wide th:first-child{position:sticky;left:0;background:#fff}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left}svg text{font-size:12px}.bad{color:#c62828}.ok{color:#2e7d32}
.case{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}pre{white-space:pre-wrap;
background:#f6f6f6;padding:.5rem;margin:.25rem 0}.turn{margin:.5rem 0 1rem}.meta{color:#555;font-size:.9em}
</style></head><body>
<h1>citydesk evaluation</h1>
<p>{{ r.created }} · {{ r.overall.cases }} cases, {{ r.overall.passed }} passed · embedder {{ r.run.embedder }} ·
LLM {{ r.run.llm or "none" }}{% if r.run.judge %} · judge {{ r.run.judge }}{% endif %}{% if r.run.smoke %} · smoke subset{% endif %}</p>
<h2 class="{{ 'ok' if r.gate.passed else 'bad' }}">Gate: {{ "passed" if r.gate.passed else "FAILED" }}</h2>
{% if r.gate.missed %}<ul>{% for m in r.gate.missed %}<li class="bad">{{ m.scope }}: {{ m.metric }} = {{ fmt(m.value, m.metric) }}
(must be {{ "≤" if m.kind == "max" else "≥" }} {{ fmt(m.limit, m.metric) }})</li>{% endfor %}</ul>{% endif %}
<h2>Pass rate per suite</h2>{{ bars | safe }}
<h2>Metrics</h2><div class="wide"><table><tr><th>metric</th><th>overall</th>{% for s in r.suites %}<th>{{ s.name }}</th>{% endfor %}</tr>
{% for name in shown %}<tr><td>{{ name }}</td><td>{{ fmt(r.overall.metrics[name], name) }}</td>{% for s in r.suites %}
<td>{{ fmt(s.metrics[name], name) }}</td>{% endfor %}</tr>{% endfor %}</table></div>
<h2>By tag</h2><table><tr><th>tag</th><th>cases</th><th>passed</th><th>pass rate</th></tr>
{% for t, v in r.tags.items() %}<tr><td>{{ t }}</td><td>{{ v.cases }}</td><td>{{ v.passed }}</td><td>{{ fmt(v.pass_rate) }}</td></tr>{% endfor %}</table>
<h2>Routing (accuracy {{ fmt(r.routing.accuracy) }}, rows: expected, columns: actual)</h2>{{ heatmap | safe }}
<h2>Latency (median {{ fmt(r.latency.median_ms, "_ms") }} ms, p95 {{ fmt(r.latency.p95_ms, "_ms") }} ms)</h2>{{ histogram | safe }}
{% if r.baseline %}<h2>Against {{ r.baseline.file }}</h2>
<table><tr><th>metric</th><th>before</th><th>after</th><th>change</th></tr>{% for n, d in r.baseline.overall.items() %}
<tr><td>{{ n }}</td><td>{{ fmt(d.before, n) }}</td><td>{{ fmt(d.after, n) }}</td><td>{{ fmt(d.change, n) }}</td></tr>{% endfor %}</table>
<p>Newly failing: {% for i in r.baseline.newly_failing %}<a href="#{{ i }}" class="bad">{{ i }}</a> {% else %}none{% endfor %}</p>
<p>Newly passing: {{ r.baseline.newly_passing | join(", ") or "none" }}</p>{% endif %}
<h2>Failing cases ({{ failing | length }})</h2>
{% for c in failing %}<div class="case" id="{{ c.id }}"><h3>{{ c.id }}</h3><p class="meta">{{ c.suite }} · {{ c.file }}:{{ c.line }}
{% if c.tags %} · {{ c.tags | join(", ") }}{% endif %}</p>
{% for t in c.turns %}<div class="turn"><b>Citizen:</b> {{ t.say }}
<div class="meta">expected: {{ expectations(t.expect) }}</div>
<div class="meta">got: {{ t.status }} · {{ t.skill or "-" }} · cites {{ t.citations | join(", ") or "-" }} · {{ fmt(t.latency_ms, "_ms") }} ms</div>
<pre>{{ t.reply }}</pre>{% for f in t.failures %}<div class="bad">✗ {{ f }}</div>{% endfor %}</div>{% endfor %}</div>
{% else %}<p>None.</p>{% endfor %}
</body></html>
"""


def html(report: dict) -> str:
    suites = [{**s, "gate_ok": all(t["ok"] is not False for t in s["thresholds"])} for s in report["suites"]]
    template = Environment(autoescape=True).from_string(_HTML)
    return template.render(r=report, shown=SHOWN, fmt=fmt, expectations=_expectations, bars=_bars(suites),
                           heatmap=_heatmap(report["routing"]), histogram=_histogram(report["latency"]["histogram"]),
                           failing=[c for c in report["cases"] if not c["passed"]])
