"""BM25 over jieba tokens (bm25s), persisted beside the vector store."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_STOP = frozenset("的 了 和 是 在 我 有 吗 呢 吧 啊 么 要 怎么 什么 如何 请问 一下 可以 需要 哪些 the a an of to is are in on for and or do does i my me what how can".split())


def tokenize(text: str) -> list[str]:
    """jieba's search-mode tokens, lower-cased, without punctuation and common function words."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    tokens = (t.strip().lower() for t in jieba.cut_for_search(text))
    return [t for t in tokens if t and _WORD.search(t) and t not in _STOP]


def tokenizer_version() -> str:
    """Changes whenever tokenize() would: cached tokens made by another version are not reused."""
    import jieba

    return hashlib.sha1((inspect.getsource(tokenize) + " ".join(sorted(_STOP)) + jieba.__version__)
                        .encode()).hexdigest()[:16]


class LexicalIndex:
    """A BM25 index over chunk texts, with each chunk's domain and city for filtering."""

    def __init__(self, retriever, ids: list[str], domains: list[str], cities: list[str] | None = None) -> None:
        self._retriever = retriever
        self.ids = ids
        self._domains = np.asarray(domains)
        self._cities = np.asarray(cities if cities is not None else [""] * len(ids))
        self._masks: dict[tuple, np.ndarray] = {}

    def _allowed(self, domains: tuple, cities: tuple) -> np.ndarray:
        """Which chunks a filter keeps, remembered: comparing every chunk's strings costs milliseconds
        per question at 100k chunks, and a desk asks with the same few filters all day."""
        mask = self._masks.get((domains, cities))
        if mask is None:
            mask = np.ones(len(self.ids), dtype=bool)
            if domains:
                mask &= np.isin(self._domains, domains)
            if cities:
                mask &= np.isin(self._cities, cities)
            if len(self._masks) < 64:
                self._masks[(domains, cities)] = mask
        return mask

    @classmethod
    def build(cls, ids: list[str], texts: list[str], domains: list[str], cities: list[str] | None = None,
              tokens: list[list[str]] | None = None) -> "LexicalIndex":
        """`tokens`, when given, are the texts already tokenized (an entry of None is tokenized here)."""
        import bm25s

        tokens = tokens or [None] * len(texts)
        retriever = bm25s.BM25()
        if ids:
            docs = [(tokenize(t) if words is None else words) or ["_"] for t, words in zip(texts, tokens)]
            # our own vocabulary, sorted: bm25s builds its own from a set, whose order changes from process to
            # process (string hashing), and scores summed in another order flip near-ties between indexings
            vocab = {word: i for i, word in enumerate(sorted({w for doc in docs for w in doc}))}
            retriever.index(([[vocab[w] for w in doc] for doc in docs], vocab), show_progress=False)
        return cls(retriever if ids else None, list(ids), list(domains), cities)

    def save(self, directory: Path) -> None:
        """Write to a temporary folder and swap it in, so a crash never leaves half an index."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp / "bm25"))
        (tmp / "ids.json").write_text(json.dumps({"ids": self.ids, "domains": self._domains.tolist(),
                                                  "cities": self._cities.tolist()}, ensure_ascii=False))
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex | None":
        import bm25s

        meta = directory / "ids.json"
        if not meta.is_file():
            return None
        data = json.loads(meta.read_text())
        retriever = bm25s.BM25.load(str(directory / "bm25")) if data["ids"] else None
        return cls(retriever, data["ids"], data["domains"], data.get("cities"))

    def search(self, query: str, k: int, domains: list[str] | None = None,
               cities: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) pairs, best first; only positive scores."""
        tokens = tokenize(query)
        if self._retriever is None or not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        if domains or cities:
            scores = np.where(self._allowed(tuple(domains or ()), tuple(cities or ())), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
