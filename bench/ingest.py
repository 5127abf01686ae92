"""Ingestion throughput as a ratio to the embedder's raw throughput on the same texts, same run.

    python bench/ingest.py [--files N] [--runs 3] [--name ingest]

Each run indexes a fresh copy of knowledge/ (the first N files) in a temporary home, then embeds
the very same chunk texts with the bare embedder. Also times a re-ingest after one file changed.
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import spread, temporary_home, write_json

from assistant import Assistant
from assistant.core.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="ingest", help="name of the JSON under bench/results")
    args = parser.parse_args()
    rows = []
    for run in range(args.runs):
        with temporary_home(args.files) as (home, knowledge):
            assistant = Assistant.from_settings(Settings.from_env(environ={}, env_file=None, home=home,
                                                                  knowledge=knowledge))
            embedder = assistant.embedder
            embedder.passages(["warm up"])
            began = time.perf_counter()
            report = assistant.ingest()
            ingest_s = time.perf_counter() - began
            texts = [c.embedding_text() for f in assistant.index.files() for c in assistant.index.chunks_of(f["path"])]
            began = time.perf_counter()
            for i in range(0, len(texts), 64):
                embedder.passages(texts[i:i + 64])
            raw_s = time.perf_counter() - began
            changed = next(p for p in sorted(knowledge.rglob("*.md")))
            changed.write_text(changed.read_text(encoding="utf-8") + "\n\n## 常见问题\n**问：本指南何时更新？**\n答：每年复核一次。\n",
                               encoding="utf-8")
            began = time.perf_counter()
            again = assistant.ingest()
            reingest_s = time.perf_counter() - began
            rows.append({"chunks": report.chunks, "ingest_chunks_per_s": report.chunks / ingest_s,
                         "raw_chunks_per_s": len(texts) / raw_s, "ratio": (report.chunks / ingest_s) / (len(texts) / raw_s),
                         "reingest_one_file_s": reingest_s, "reingest_embedded": again.embedded,
                         "reingest_files": again.indexed})
            print(f"run {run + 1}: {rows[-1]['chunks']} chunks, ingest {rows[-1]['ingest_chunks_per_s']:.1f}/s, "
                  f"raw {rows[-1]['raw_chunks_per_s']:.1f}/s, ratio {rows[-1]['ratio']:.3f}, "
                  f"re-ingest after one edit {reingest_s:.2f} s ({again.embedded} chunks embedded)")
    print()
    print(f"ingestion chunks/s:        {spread([r['ingest_chunks_per_s'] for r in rows])}")
    print(f"raw embedder chunks/s:     {spread([r['raw_chunks_per_s'] for r in rows])}")
    print(f"ratio ingest/raw:          {statistics.median(r['ratio'] for r in rows):.3f}")
    print(f"re-ingest one edited file: {spread([r['reingest_one_file_s'] for r in rows])} s")
    write_json(args.name, rows)


if __name__ == "__main__":
    main()
