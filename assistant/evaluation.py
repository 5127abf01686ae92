"""Evaluation: retrieval quality of the real retrieval stack on an external JSONL corpus."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.embed import Embedder
from assistant.lexical import LexicalIndex
from assistant.retrieve import Fusion, Retriever
from assistant.store import VectorStore
from assistant.types import Chunk


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    return rows


class CorpusIndex:
    """An in-memory stand-in for `Index` over a JSONL corpus: a real Chroma store and a real BM25."""

    def __init__(self, *, corpus: list[dict], embedder: Embedder, directory: Path, cache: Path | None = None) -> None:
        self.embedder = embedder
        self._chunks = {str(row["doc_id"]): Chunk(id=str(row["doc_id"]), doc=str(row["doc_id"]),
                                                  domain=str(row.get("department", "corpus")), title="",
                                                  section="", text=str(row["text"]))
                        for row in corpus}
        chunks = list(self._chunks.values())
        vectors = _cached_passages(embedder, [c.text for c in chunks], cache)
        self.store = VectorStore(path=directory / "chroma", embedder_name=embedder.name, dim=embedder.dim)
        self.store.upsert([c.id for c in chunks], vectors, [{"doc": c.doc, "domain": c.domain} for c in chunks],
                          [c.text for c in chunks])
        self.lexical = LexicalIndex.build([c.id for c in chunks], [c.text for c in chunks],
                                          [c.domain for c in chunks])

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return {i: self._chunks[i] for i in ids if i in self._chunks}


def _cached_passages(embedder: Embedder, texts: list[str], cache: Path | None) -> np.ndarray:
    if cache is None:
        return embedder.passages(texts)
    key = hashlib.sha256((embedder.name + "\0" + "\0".join(texts)).encode()).hexdigest()[:16]
    path = cache / f"passages-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.concatenate([embedder.passages(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


@dataclass
class RetrievalScores:
    """Recall@1/5/10 and MRR@10 of one retrieval configuration."""

    name: str
    recall_1: float
    recall_5: float
    recall_10: float
    mrr_10: float

    def as_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def score_rankings(name: str, rankings: list[list[str]], gold: list[str]) -> RetrievalScores:
    ranks = [r.index(g) + 1 if g in r else None for r, g in zip(rankings, gold)]
    n = max(len(gold), 1)

    def recall(k):
        return sum(1 for r in ranks if r is not None and r <= k) / n

    mrr = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    return RetrievalScores(name, recall(1), recall(5), recall(10), mrr)


def evaluate_retrieval(*, corpus: list[dict], queries: list[dict], embedder: Embedder,
                       fusions: dict[str, Fusion], cache: Path | None = None) -> list[RetrievalScores]:
    """Index `corpus` ({doc_id, text}) in a temporary home; score each fusion on `queries`."""
    texts = [" ".join(str(q.get(f, "")) for f in ("title", "question", "text") if q.get(f)) for q in queries]
    gold = [str(q["gold_doc_id"]) for q in queries]
    with tempfile.TemporaryDirectory(prefix="citydesk-eval-") as tmp:
        index = CorpusIndex(corpus=corpus, embedder=embedder, directory=Path(tmp), cache=cache)
        retriever = Retriever(index=index)
        results = []
        for name, fusion in fusions.items():
            rankings = [[h.doc for h in retriever.retrieve(t, k=10, fusion=fusion)] for t in texts]
            results.append(score_rankings(name, rankings, gold))
        return results


def route_label(route) -> str:
    """The label a route stands for: a guide question is labelled with its domain."""
    return route.domain if route.skill == "guide_qa" else route.skill


def classification_report(expected: list[str], predicted: list[str], positive: str = "out_of_scope") -> dict:
    """Accuracy, macro-F1 over the expected labels, precision/recall of `positive`, confusion matrix."""
    labels = sorted(set(expected) | set(predicted))
    confusion = {e: {p: 0 for p in labels} for e in labels}
    for e, p in zip(expected, predicted):
        confusion[e][p] += 1
    f1s = []
    for label in sorted(set(expected)):
        tp = confusion[label][label]
        fp = sum(confusion[e][label] for e in labels if e != label)
        fn = sum(confusion[label][p] for p in labels if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    tp = confusion.get(positive, {}).get(positive, 0)
    predicted_pos = sum(1 for p in predicted if p == positive)
    expected_pos = sum(1 for e in expected if e == positive)
    n = max(len(expected), 1)
    return {"n": len(expected), "accuracy": sum(e == p for e, p in zip(expected, predicted)) / n,
            "macro_f1": sum(f1s) / max(len(f1s), 1),
            f"{positive}_precision": tp / predicted_pos if predicted_pos else 0.0,
            f"{positive}_recall": tp / expected_pos if expected_pos else 0.0,
            "labels": labels, "confusion": confusion}


def format_confusion(report: dict) -> str:
    labels = report["labels"]
    width = max(len(label) for label in labels) + 1
    lines = [" " * width + " ".join(f"{label[:10]:>10s}" for label in labels) + "   <- predicted"]
    for e in labels:
        lines.append(f"{e:<{width}s}" + " ".join(f"{report['confusion'][e][p]:>10d}" for p in labels))
    return "\n".join(lines)
