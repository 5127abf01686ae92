"""The vector store: Chroma, embedded under CITYDESK_HOME or a Chroma server by URL.

This is the only module that imports chromadb.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

COLLECTION = "citydesk_guides"


class StoreError(RuntimeError):
    """The store cannot be opened or does not match the settings; the message says what to do."""


class VectorStore:
    """Chunk vectors with their metadata, queried by cosine similarity with an optional domain filter."""

    def __init__(self, *, path: Path | None = None, url: str = "", embedder_name: str, dim: int) -> None:
        try:
            self._client = _client(path=path, url=url)
            self._collection = self._client.get_or_create_collection(
                COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name, "dim": dim})
        except StoreError:
            raise
        except Exception as exc:
            where = url or str(path)
            raise StoreError(f"cannot open the vector store at {where}: {type(exc).__name__}: {exc}. "
                             "Rebuild it with: citydesk ingest --rebuild") from None
        meta = self._collection.metadata or {}
        if meta.get("embedder") != embedder_name or int(meta.get("dim", dim)) != dim:
            raise StoreError(f"the index was built with {meta.get('embedder')} ({meta.get('dim')} dimensions) "
                             f"but CITYDESK_EMBEDDER gives {embedder_name} ({dim}): "
                             "re-index with: citydesk ingest --rebuild")

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict], documents: list[str]) -> None:
        for start in range(0, len(ids), 2000):
            end = start + 2000
            self._collection.upsert(ids=ids[start:end], embeddings=vectors[start:end],
                                    metadatas=metadatas[start:end], documents=documents[start:end])

    def delete_doc(self, doc: str) -> None:
        self._collection.delete(where={"doc": doc})

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 2000):
            self._collection.delete(ids=ids[start:start + 2000])

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset, page = 0, 20000
        while True:
            batch = self._collection.get(include=[], limit=page, offset=offset)["ids"]
            out.update(batch)
            if len(batch) < page:
                return out
            offset += page

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        got = self._collection.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def count(self) -> int:
        return self._collection.count()

    def query(self, vector: np.ndarray, k: int, domains: list[str] | None = None,
              lang: str | None = None, same_lang: bool = True) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) pairs, best first; optionally only chunks in (or not in) `lang`."""
        if k <= 0 or self.count() == 0:
            return []
        conditions = []
        if domains:
            conditions.append({"domain": domains[0]} if len(domains) == 1 else {"domain": {"$in": list(domains)}})
        if lang:
            conditions.append({"lang": lang} if same_lang else {"lang": {"$ne": lang}})
        where = None if not conditions else conditions[0] if len(conditions) == 1 else {"$and": conditions}
        res = self._collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    @staticmethod
    def delete_collection(*, path: Path | None = None, url: str = "") -> None:
        """Drop the collection (for --rebuild); a missing one is fine.

        An embedded store that cannot be opened (a damaged chroma.sqlite3) is removed from disk, to be made anew.
        """
        try:
            client = _client(path=path, url=url)
        except Exception:
            if url:
                raise
            shutil.rmtree(path, ignore_errors=True)
            return
        try:
            client.delete_collection(COLLECTION)
        except Exception:  # chromadb raises different types for "does not exist" across versions
            pass


def _client(*, path: Path | None, url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        client = chromadb.HttpClient(host=parsed.hostname or "localhost",
                                     port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                                     ssl=parsed.scheme == "https", settings=settings)
        client.heartbeat()
        return client
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception:
        _forget(path)
        raise


def _forget(path: Path) -> None:
    """Drop chromadb's cached system for `path` after a failed open, so that the next open starts afresh.

    chromadb (1.5) caches the system before starting it and keeps it when starting fails (a damaged
    chroma.sqlite3); every later client for that path would get the broken one.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)
