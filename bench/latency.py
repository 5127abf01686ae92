"""End-to-end `ask` latency with a warm index: median and p95 over 200 questions, several runs.

    python bench/latency.py [--questions 200] [--runs 3] [--home DIR]

Without --home, indexes a copy of knowledge/ in a temporary home first (not timed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

from common import percentile, regression_questions, spread, temporary_home, write_json

from assistant import Assistant
from assistant.config import Settings

EXTRA = ["明天天气怎么样", "What is the capital of France?", "你好", "谢谢", "帮我订一张机票", "公积金", "护照"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    pool = [q["q"] for q in regression_questions()] + EXTRA
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    with (nullcontext((args.home, None)) if args.home else temporary_home()) as (home, knowledge):
        overrides = {"home": home} | ({"knowledge": knowledge} if knowledge else {})
        assistant = Assistant.from_settings(Settings.from_env(environ={}, env_file=None, **overrides))
        if knowledge:
            assistant.ingest()
        assistant.ask("预热 warm up")
        medians, p95s, by_status = [], [], {}
        for run in range(args.runs):
            times = []
            for q in questions:
                began = time.perf_counter()
                reply = assistant.ask(q)
                elapsed = (time.perf_counter() - began) * 1000
                times.append(elapsed)
                by_status.setdefault(reply.status, []).append(elapsed)
            medians.append(statistics.median(times))
            p95s.append(percentile(times, 95))
            print(f"run {run + 1}: median {medians[-1]:.1f} ms, p95 {p95s[-1]:.1f} ms over {len(times)} questions")
        chunks = assistant.index.chunk_count()
    print()
    print(f"index: {chunks} chunks")
    print(f"ask median ms: {spread(medians)}")
    print(f"ask p95 ms:    {spread(p95s)}")
    for status, values in sorted(by_status.items()):
        print(f"  {status:10s} n={len(values):4d} median {statistics.median(values):.1f} ms p95 {percentile(values, 95):.1f} ms")
    write_json("latency", {"chunks": chunks, "median_ms": medians, "p95_ms": p95s})


if __name__ == "__main__":
    main()
