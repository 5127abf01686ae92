"""End-to-end `ask` latency with a warm index, per skill: median and p95, several runs.

    python bench/latency.py [--questions 200] [--runs 3] [--home DIR]
                            [--chroma-url URL] [--database-url URL] [--vectors-from HOME] [--name latency]

Without --home, indexes a copy of knowledge/ in a temporary home first (not timed); with
--vectors-from an already indexed home, chunks whose text is unchanged take their vectors from it
instead of being embedded again (the same vectors, so the same answers, minutes sooner).
--chroma-url and --database-url run the same measurement against a Chroma server and a
PostgreSQL (or other SQLAlchemy) database. Replies come from the extractive path (no LLM).
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

from common import percentile, regression_questions, spread, temporary_home, write_json

from assistant import Assistant
from assistant.core.config import Settings
from assistant.knowledge.index import Index

EXTRA = ["明天天气怎么样", "What is the capital of France?", "你好", "谢谢", "帮我订一张机票", "公积金", "护照",
         "帮我约明天第一人民医院心内科", "我家着火了", "I want to talk to a person", "附近的避难场所在哪里"]


def ingest(assistant: Assistant, vectors_from: Path | None) -> None:
    """Index the assistant's knowledge folder, reusing the vectors of `vectors_from` when given."""
    if not vectors_from:
        assistant.ingest()
        return
    from synthetic import DerivedEmbedder, real_vectors

    source = Index(directory=vectors_from / "index", knowledge=assistant.settings.knowledge,
                   embedder=assistant.embedder)
    derived = DerivedEmbedder(real=assistant.embedder, vectors=real_vectors(source), sources={}, cosines=[])
    s = assistant.settings
    Index(directory=s.index_dir, knowledge=s.knowledge, embedder=derived, chroma_url=s.chroma_url,
          chunk_tokens=s.chunk_tokens).ingest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--chroma-url", default="")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--vectors-from", type=Path, help="an indexed home whose vectors can be reused")
    parser.add_argument("--name", default="latency", help="name of the JSON under bench/results")
    args = parser.parse_args()
    pool = [q["q"] for q in regression_questions()] + EXTRA
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    with (nullcontext((args.home, None)) if args.home else temporary_home()) as (home, knowledge):
        overrides = {"home": home} | ({"knowledge": knowledge} if knowledge else {})
        overrides |= {k: v for k, v in (("chroma_url", args.chroma_url), ("database_url", args.database_url)) if v}
        assistant = Assistant.from_settings(Settings.from_env(environ={}, env_file=None, **overrides))
        if knowledge:
            ingest(assistant, args.vectors_from)
        assistant.ask("预热 warm up")
        medians, p95s, by_skill = [], [], {}
        for run in range(args.runs):
            times = []
            for q in questions:
                began = time.perf_counter()
                reply = assistant.ask(q)
                elapsed = (time.perf_counter() - began) * 1000
                times.append(elapsed)
                by_skill.setdefault(f"{reply.skill or '-'} / {reply.status}", []).append(elapsed)
            medians.append(statistics.median(times))
            p95s.append(percentile(times, 95))
            print(f"run {run + 1}: median {medians[-1]:.1f} ms, p95 {p95s[-1]:.1f} ms over {len(times)} questions")
        chunks = assistant.index.chunk_count()
    print()
    print(f"index: {chunks} chunks; store {args.chroma_url or 'embedded Chroma'}; "
          f"database {args.database_url.split('@')[-1] if args.database_url else 'SQLite'}")
    print(f"ask median ms: {spread(medians)}")
    print(f"ask p95 ms:    {spread(p95s)}")
    print(f"  {'skill / status':34s} {'n':>5s} {'median':>8s} {'p95':>8s}")
    for name, values in sorted(by_skill.items()):
        print(f"  {name:34s} {len(values):5d} {statistics.median(values):8.1f} {percentile(values, 95):8.1f}")
    write_json(args.name, {"chunks": chunks, "chroma_url": args.chroma_url, "database": bool(args.database_url),
                           "median_ms": medians, "p95_ms": p95s,
                           "by_skill": {k: {"n": len(v), "median_ms": statistics.median(v),
                                            "p95_ms": percentile(v, 95)} for k, v in by_skill.items()}})


if __name__ == "__main__":
    main()
