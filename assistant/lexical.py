"""BM25 over jieba tokens (bm25s), persisted beside the vector store."""

from __future__ import annotations

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


class LexicalIndex:
    """A BM25 index over chunk texts, with each chunk's domain for filtering."""

    def __init__(self, retriever, ids: list[str], domains: list[str]) -> None:
        self._retriever = retriever
        self.ids = ids
        self._domains = np.asarray(domains)

    @classmethod
    def build(cls, ids: list[str], texts: list[str], domains: list[str]) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25()
        if ids:
            retriever.index([tokenize(t) or ["_"] for t in texts], show_progress=False)
        return cls(retriever if ids else None, list(ids), list(domains))

    def save(self, directory: Path) -> None:
        """Write to a temporary folder and swap it in, so a crash never leaves half an index."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp / "bm25"))
        (tmp / "ids.json").write_text(json.dumps({"ids": self.ids, "domains": self._domains.tolist()}))
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
        return cls(retriever, data["ids"], data["domains"])

    def search(self, query: str, k: int, domains: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) pairs, best first; only positive scores."""
        tokens = tokenize(query)
        if self._retriever is None or not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        if domains:
            scores = np.where(np.isin(self._domains, domains), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
