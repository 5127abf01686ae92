"""The LLM answer path against an OpenAI-compatible server: verified, repaired and fallback rates, and time.

    python bench/llm_path.py --base-url http://127.0.0.1:8080/v1 [--model NAME] [--api-key KEY]
                             [--timeout 120] [--first-token-timeout 90] [--retries 0] [--questions N]
                             [--home DIR] [--verdicts FILE] [--ask QUESTION ...]

Asks the development questions (tests/regression/*.yaml), each in a new session, through
`Assistant.ask_stream`, and reports over the answers that went through the LLM: how many were
verified, repaired (a sentence dropped) or fell back to the extractive answer and why; the time to
the extractive draft, to the LLM's first token and to the end. Every answer the LLM wrote is kept
in the results (`answers[].llm_wrote`) for judging by hand. With --verdicts (JSON lines
{"q": ..., "correct": true|false} written by a person who read `llm_wrote` against the guides),
it also reports the false-reject rate: correct answers that fell back. Works with llama.cpp's
server (`python -m llama_cpp.server --model model.gguf`, or `llama-server -m model.gguf --port
8080`: http://127.0.0.1:8080/v1) and Ollama (http://127.0.0.1:11434/v1, --model the pulled model).
Without --home, indexes a copy of knowledge/ first (not timed).
"""

from __future__ import annotations

import argparse
import json
import logging
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
from assistant.core.config import Settings, SettingsError


def reachable(base_url: str, api_key: str, tries: int = 3) -> str | None:
    """None when the server answers `GET /models`; otherwise a one-line reason. A CPU server busy with
    another answer may take a while to reply, so each try waits a minute."""
    reason = ""
    for _ in range(tries):
        try:
            response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=60,
                                 headers={"Authorization": f"Bearer {api_key}"} if api_key else {})
        except httpx.ConnectError as exc:
            return f"cannot reach {base_url}: {exc}"
        except httpx.HTTPError as exc:
            reason = f"{base_url} did not answer: {exc!r}"
            continue
        if response.status_code >= 400:
            return f"{base_url}/models answered HTTP {response.status_code}"
        return None
    return reason


class _Written(logging.Handler):
    """Keeps what the LLM wrote (generate.py logs it at DEBUG) for judging by hand."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("LLM wrote: "):
            self.texts.append(message[len("LLM wrote: "):])


def kind_of(reason: str) -> str:
    """A fallback reason without its particulars: "passage 2: number not in the passage: 50" -> "number not in
    the passage", "passage 1: contradicts the passage (fee: pos against neg)" -> "contradicts the passage"."""
    kinds = set()
    for part in reason.split("; "):
        part = re.sub(r"^passage \d+: ", "", part)
        kinds.add(re.split(r"[:(]", part)[0].strip())
    return "; ".join(sorted(kinds))


def run(assistant: Assistant, questions: list[str]) -> list[dict]:
    written = _Written()
    logger = logging.getLogger("citydesk.generate")
    logger.addHandler(written)
    logger.setLevel(logging.DEBUG)
    rows = []
    for i, question in enumerate(questions, 1):
        began, drafted, reply = time.perf_counter(), None, None
        count = len(written.texts)
        for kind, value in assistant.ask_stream(question):
            if kind == "draft":
                drafted = time.perf_counter() - began
            if kind == "reply":
                reply = value
        total = time.perf_counter() - began
        check = reply.data.get("verification", "")
        rows.append({"q": question, "status": reply.status, "verification": check,
                     "reason": reply.data.get("verification_reason", ""),
                     "llm_wrote": written.texts[-1] if len(written.texts) > count else "", "shown": reply.text,
                     "draft_ms": round(drafted * 1000, 1) if drafted is not None else None,
                     "first_token_ms": reply.data.get("first_token_ms"), "total_ms": round(total * 1000, 1)})
        print(f"{i:4d}/{len(questions)} {check or reply.status:9s} {total * 1000:8.0f} ms  {question[:40]}",
              flush=True)
    return rows


def report(rows: list[dict], verdicts: dict[str, bool]) -> dict:
    through = [r for r in rows if r["verification"]]
    counts = Counter(r["verification"] for r in through)
    reasons = Counter(kind_of(r["reason"]) for r in through if r["verification"] == "fallback")
    judged = [r for r in through if r["q"] in verdicts and r["llm_wrote"]]
    correct = [r for r in judged if verdicts[r["q"]]]
    wrong = [r for r in judged if not verdicts[r["q"]]]
    rate = (lambda n: round(n / len(through), 3) if through else None)  # noqa: E731
    summary = {"questions": len(rows), "through_llm": len(through),
               "verified_rate": rate(counts["verified"]), "repaired_rate": rate(counts["repaired"]),
               "fallback_rate": rate(counts["fallback"]), "fallback_reasons": dict(reasons.most_common()),
               "judged": len(judged), "judged_correct": len(correct),
               "correct_accepted": round(sum(r["verification"] != "fallback" for r in correct) / len(correct), 3)
               if correct else None,
               "wrong_shown": sum(r["verification"] != "fallback" for r in wrong),
               "draft_ms": _stats([r["draft_ms"] for r in through if r["draft_ms"] is not None]),
               "first_token_ms": _stats([r["first_token_ms"] for r in through if r["first_token_ms"]]),
               "total_ms": _stats([r["total_ms"] for r in through])}
    print()
    print(f"questions {len(rows)}, through the LLM {len(through)} (the rest: skills, emergencies, nothing relevant)")
    if through:
        print(f"verified {summary['verified_rate']:.1%}, repaired {summary['repaired_rate']:.1%}, "
              f"fallback {summary['fallback_rate']:.1%}")
        for reason, count in reasons.most_common():
            print(f"  fallback {count:4d}  {reason}")
        if judged:
            print(f"judged by hand {len(judged)}: correct {len(correct)}, of which accepted "
                  f"{summary['correct_accepted']}; wrong ones shown {summary['wrong_shown']} of {len(wrong)}")
        for name in ("draft_ms", "first_token_ms", "total_ms"):
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
    parser.add_argument("--timeout", type=float, default=120.0, help="CITYDESK_LLM_TIMEOUT for the run")
    parser.add_argument("--first-token-timeout", type=float, default=90.0,
                        help="CITYDESK_LLM_FIRST_TOKEN_TIMEOUT for the run")
    parser.add_argument("--retries", type=int, default=0, help="CITYDESK_LLM_RETRIES for the run")
    parser.add_argument("--questions", type=int, default=0, help="ask only N questions, spread evenly over the "
                        "development files (0: all)")
    parser.add_argument("--ask", action="append", default=[], help="ask this question instead of the development "
                        "questions (repeatable)")
    parser.add_argument("--home", type=Path, help="an existing CITYDESK_HOME with an index of knowledge/")
    parser.add_argument("--verdicts", type=Path, help="JSON lines {q, correct} judged by hand")
    parser.add_argument("--out", default="llm_path", help="name of the JSON file under bench/results/")
    args = parser.parse_args()
    problem = reachable(args.base_url, args.api_key)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    questions = args.ask or [q["q"] for q in regression_questions()]
    if args.questions and args.questions < len(questions):
        step = len(questions) / args.questions
        questions = [questions[int(k * step)] for k in range(args.questions)]
    with (nullcontext((args.home, None)) if args.home else temporary_home()) as (home, knowledge):
        overrides = {"home": home} | ({"knowledge": knowledge} if knowledge else {})
        try:
            environ = {"CITYDESK_LLM_BASE_URL": args.base_url, "CITYDESK_LLM_MODEL": args.model,
                       "CITYDESK_LLM_API_KEY": args.api_key, "CITYDESK_LLM_TIMEOUT": str(args.timeout),
                       "CITYDESK_LLM_FIRST_TOKEN_TIMEOUT": str(args.first_token_timeout),
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
    verdicts = {}
    if args.verdicts:
        for line in args.verdicts.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                verdicts[row["q"]] = bool(row["correct"])
    summary = report(rows, verdicts)
    path = write_json(args.out, {"base_url": args.base_url, "model": args.model, "timeout": args.timeout,
                                 "summary": summary, "answers": rows})
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
