"""The LLM answer path against an OpenAI-compatible server: verified rate, fallback rate and latency.

    python bench/llm_path.py --base-url http://127.0.0.1:8080/v1 [--model NAME] [--api-key KEY]
                             [--timeout 20] [--retries 1] [--questions N] [--home DIR]

Asks the development questions (tests/regression/*.yaml), each in a new session, through
`Assistant.ask_stream`, and reports, over the answers that went through the LLM: how many were
verified and shown, how many fell back to the extractive answer and why, the time to the first
streamed token and the total time. Works with llama.cpp's server (`llama-server -m model.gguf
--port 8080`: http://127.0.0.1:8080/v1) and Ollama (`ollama serve`: http://127.0.0.1:11434/v1,
--model the pulled model's name). Without --home, indexes a copy of knowledge/ first (not timed).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import httpx
from common import percentile, regression_questions, temporary_home, write_json

from assistant import Assistant
from assistant.config import Settings, SettingsError


def reachable(base_url: str, api_key: str) -> str | None:
    """None when the server answers `GET /models`; otherwise a one-line reason."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=10,
                             headers={"Authorization": f"Bearer {api_key}"} if api_key else {})
    except httpx.HTTPError as exc:
        return f"cannot reach {base_url}: {exc}"
    if response.status_code >= 400:
        return f"{base_url}/models answered HTTP {response.status_code}"
    return None


def kind_of(reason: str) -> str:
    """A fallback reason without its particulars: "number not in a cited passage: 50" -> its first part."""
    return "; ".join(sorted({re.sub(r"\[\d+\]", "[n]", r.split(":")[0]).strip() for r in reason.split("; ")}))


def run(assistant: Assistant, questions: list[str]) -> list[dict]:
    rows = []
    for i, question in enumerate(questions, 1):
        began, first = time.perf_counter(), None
        reply = None
        for kind, value in assistant.ask_stream(question):
            if kind == "delta" and first is None:
                first = time.perf_counter() - began
            if kind == "reply":
                reply = value
        total = time.perf_counter() - began
        llm = reply.data.get("llm", "")
        rows.append({"q": question, "status": reply.status, "llm": llm, "reason": reply.data.get("fallback_reason", ""),
                     "first_token_ms": round(first * 1000, 1) if first is not None else None,
                     "total_ms": round(total * 1000, 1)})
        print(f"{i:4d}/{len(questions)} {llm or reply.status:9s} {total * 1000:8.0f} ms  {question[:40]}",
              flush=True)
    return rows


def report(rows: list[dict]) -> dict:
    through = [r for r in rows if r["llm"]]
    verified = [r for r in through if r["llm"] == "verified"]
    firsts = [r["first_token_ms"] for r in through if r["first_token_ms"] is not None]
    totals = [r["total_ms"] for r in through]
    reasons = Counter(kind_of(r["reason"]) for r in through if r["llm"] == "fallback")
    summary = {"questions": len(rows), "through_llm": len(through),
               "verified_rate": round(len(verified) / len(through), 3) if through else None,
               "fallback_rate": round(1 - len(verified) / len(through), 3) if through else None,
               "fallback_reasons": dict(reasons.most_common()),
               "first_token_ms": _stats(firsts), "total_ms": _stats(totals),
               "verified_total_ms": _stats([r["total_ms"] for r in verified])}
    print()
    print(f"questions {len(rows)}, through the LLM {len(through)} (the rest: skills, emergencies, nothing relevant)")
    if through:
        print(f"verified rate {summary['verified_rate']:.1%}, fallback rate {summary['fallback_rate']:.1%}")
        for reason, count in reasons.most_common():
            print(f"  fallback {count:4d}  {reason}")
        for name in ("first_token_ms", "total_ms", "verified_total_ms"):
            if summary[name]:
                s = summary[name]
                print(f"{name:18s} median {s['median']:8.0f}  p95 {s['p95']:8.0f}  max {s['max']:8.0f}  (n={s['n']})")
    return summary


def _stats(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"n": len(values), "median": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1),
            "max": round(max(values), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="the server's OpenAI-compatible URL, ending in /v1")
    parser.add_argument("--model", default="", help="the model name the server expects")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--timeout", type=float, default=20.0, help="CITYDESK_LLM_TIMEOUT for the run")
    parser.add_argument("--retries", type=int, default=1, help="CITYDESK_LLM_RETRIES for the run")
    parser.add_argument("--questions", type=int, default=0, help="ask only the first N questions (0: all)")
    parser.add_argument("--home", type=Path, help="an existing CITYDESK_HOME with an index of knowledge/")
    parser.add_argument("--out", default="llm_path", help="name of the JSON file under bench/results/")
    args = parser.parse_args()
    problem = reachable(args.base_url, args.api_key)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    questions = [q["q"] for q in regression_questions()]
    questions = questions[:args.questions] if args.questions else questions
    with (nullcontext((args.home, None)) if args.home else temporary_home()) as (home, knowledge):
        overrides = {"home": home} | ({"knowledge": knowledge} if knowledge else {})
        try:
            environ = {"CITYDESK_LLM_BASE_URL": args.base_url, "CITYDESK_LLM_MODEL": args.model,
                       "CITYDESK_LLM_API_KEY": args.api_key, "CITYDESK_LLM_TIMEOUT": str(args.timeout),
                       "CITYDESK_LLM_RETRIES": str(args.retries)}
            settings = Settings.from_env(environ=environ, env_file=None, **overrides)
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 2
        assistant = Assistant.from_settings(settings)
        if knowledge:
            print("indexing a copy of knowledge/ (not timed) ...", flush=True)
            assistant.ingest()
        rows = run(assistant, questions)
    summary = report(rows)
    path = write_json(args.out, {"base_url": args.base_url, "model": args.model, "timeout": args.timeout,
                                 "summary": summary, "answers": rows})
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
