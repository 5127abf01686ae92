"""The vector store: Chroma, embedded under CITYDESK_HOME or a Chroma server by URL.

This is the only module that imports chromadb.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

COLLECTION = "citydesk_guides"
_GROUPS = ("zh", "other")
# Chroma writes a collection's HNSW index to disk, and may drop its write-ahead log, only after
# `sync_threshold` records (default 1000). A city's collection often holds fewer, so with hundreds
# of them the log was never trimmed and every write got slower: 300 collections, 64-chunk upserts
# round-robin, fell from 1,162 to 450 chunks/s over 77k chunks with the defaults, and stayed at 800-1,100
# with 100/100 (one collection: 454 -> 359 chunks/s by default, 729 -> 495 with 100/100).
_HNSW = {"space": "cosine", "batch_size": 100, "sync_threshold": 100}


_OPENING = threading.Lock()


class StoreError(RuntimeError):
    """The store cannot be opened or does not match the settings; the message says what to do."""


def partition(city: str, lang: str) -> str:
    """The collection a chunk lives in: one per city and language group (Chinese / other).

    A desk's searches (its own city; Chinese passages, or the others) then read whole collections.
    A Chroma metadata filter costs about 4 microseconds per matching chunk (bench/scale.py: 30 ms
    for `lang` at 10k chunks, growing with the corpus) where an unfiltered HNSW search takes 1 ms.
    """
    group = "zh" if lang == "zh" else "other"
    suffix = "-" + hashlib.sha1(city.encode("utf-8")).hexdigest()[:16] if city else ""
    return f"{COLLECTION}-{group}{suffix}"


class VectorStore:
    """Chunk vectors with their metadata, in collections by city and language group, queried by cosine
    similarity with optional domain, language and city filters."""

    def __init__(self, *, path: Path | None = None, url: str = "", embedder_name: str, dim: int) -> None:
        self.embedder_name, self.dim = embedder_name, dim
        self._collections: dict = {}
        try:
            with _OPENING:  # chromadb's client start-up is not safe to run twice at once, in one process
                self._client = _client(path=path, url=url)
                self.discover()
        except StoreError:
            raise
        except Exception as exc:
            if url:  # a server that does not answer: the index on it may be fine, a rebuild is not the cure
                raise StoreError(f"cannot reach the vector store at {url}: {type(exc).__name__}: {exc}. Check that "
                                 "the Chroma server is running and CITYDESK_CHROMA_URL names it") from None
            if isinstance(exc, OSError):  # no permission, a full or read-only disk: the files may be fine
                raise StoreError(f"cannot open the vector store at {path}: {type(exc).__name__}: {exc}. Check the "
                                 "folder's permissions and free disk space") from None
            raise StoreError(f"cannot open the vector store at {path}: {type(exc).__name__}: {exc}. "
                             "Rebuild it with: citydesk ingest --rebuild") from None
        self._check(self._collection(partition("", "zh")))
        for collection in self._collections.values():
            self._check(collection)

    def discover(self) -> None:
        """(Re)open every collection of the guides: another process may have added or rebuilt some."""
        names = [c if isinstance(c, str) else c.name for c in self._client.list_collections()]
        self._collections = {name: self._client.get_collection(name, embedding_function=None) for name in names
                             if name.startswith(COLLECTION + "-") or name == COLLECTION}

    def _check(self, collection) -> None:
        meta = collection.metadata or {}
        if meta.get("embedder") != self.embedder_name or int(meta.get("dim", self.dim)) != self.dim:
            raise StoreError(f"the index was built with {meta.get('embedder')} ({meta.get('dim')} dimensions) "
                             f"but CITYDESK_EMBEDDER gives {self.embedder_name} ({self.dim}): "
                             "re-index with: citydesk ingest --rebuild")

    def _collection(self, name: str):
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": dict(_HNSW)},
                metadata={"embedder": self.embedder_name, "dim": self.dim})
        return self._collections[name]

    def _searched(self, groups: tuple[str, ...], cities: list[str] | None) -> list:
        """The collections holding chunks of these language groups and cities (None: every city)."""
        wanted = None if cities is None else {partition(c, g) for c in cities for g in groups}
        return [c for name, c in self._collections.items() if name != COLLECTION and
                (name in wanted if wanted is not None else name.split("-")[1] in groups)]

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict], documents: list[str]) -> None:
        parts: dict[str, list[int]] = {}
        for i, meta in enumerate(metadatas):
            parts.setdefault(partition(meta.get("city", ""), meta.get("lang", "zh")), []).append(i)
        for name, rows in parts.items():
            for start in range(0, len(rows), 2000):
                chosen = rows[start:start + 2000]
                self._collection(name).upsert(ids=[ids[i] for i in chosen], embeddings=vectors[chosen],
                                              metadatas=[metadatas[i] for i in chosen],
                                              documents=[documents[i] for i in chosen])

    def delete_docs(self, docs: list[str]) -> None:
        for start in range(0, len(docs), 500):
            part = docs[start:start + 500]
            for collection in self._collections.values():
                collection.delete(where={"doc": part[0]} if len(part) == 1 else {"doc": {"$in": part}})

    def update_metadata(self, ids: list[str], metadatas: list[dict]) -> None:
        """Rewrite the metadata of stored chunks, moving any whose city or language puts it in another
        collection (every chunk of a store laid out before the split), without embedding. Give every
        chunk at once: each collection is read once."""
        meta_of = dict(zip(ids, metadatas))
        for name, collection in list(self._collections.items()):
            held = [i for i in _ids_of(collection) if i in meta_of]
            for start in range(0, len(held), 2000):
                part = held[start:start + 2000]
                wanted = {i: partition(meta_of[i].get("city", ""), meta_of[i].get("lang", "zh")) for i in part}
                stay = [i for i in part if wanted[i] == name]
                if stay:
                    collection.update(ids=stay, metadatas=[meta_of[i] for i in stay])
                move = [i for i in part if wanted[i] != name]
                if move:  # copied before it is deleted: a crash between leaves a duplicate the next run removes
                    got = collection.get(ids=move, include=["embeddings", "documents"])
                    self.upsert(got["ids"], np.asarray(got["embeddings"], dtype=np.float32),
                                [meta_of[i] for i in got["ids"]], got["documents"])
                    collection.delete(ids=got["ids"])
        if COLLECTION in self._collections and not self._collections[COLLECTION].count():
            self._client.delete_collection(COLLECTION)
            del self._collections[COLLECTION]

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 2000):
            for collection in self._collections.values():
                collection.delete(ids=ids[start:start + 2000])

    def ids(self) -> set[str]:
        return {i for collection in self._collections.values() for i in _ids_of(collection)}

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for collection in self._collections.values():
            got = collection.get(ids=ids, include=["embeddings"])
            out.update({i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])})
        return out

    def count(self) -> int:
        return sum(c.count() for c in self._collections.values())

    def query(self, vector: np.ndarray, k: int, domains: list[str] | None = None,
              lang: str | None = None, same_lang: bool = True,
              cities: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) pairs, best first; optionally only Chinese passages (`lang` "zh")
        or only the others (`same_lang` False), only chunks of `domains`, or of guides for `cities`."""
        if k <= 0:
            return []
        if lang not in (None, "zh"):
            raise ValueError("passages are grouped as Chinese and other: lang must be None or 'zh'")
        groups = _GROUPS if lang is None else ("zh",) if same_lang else ("other",)
        searches = [(c, _where(domain=domains)) for c in self._searched(groups, cities)]
        if COLLECTION in self._collections:  # laid out before the split, until `citydesk ingest` moves it
            lang_filter = None if lang is None else {"$eq" if same_lang else "$ne": "zh"}
            searches.append((self._collections[COLLECTION], _where(domain=domains, lang=lang_filter, city=cities)))
        found: list[tuple[str, float]] = []
        for collection, where in searches:
            res = collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
            found += [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]
        return sorted(found, key=lambda item: -item[1])[:k]

    @staticmethod
    def delete_collection(*, path: Path | None = None, url: str = "") -> None:
        """Drop every collection of the guides (for --rebuild); none is fine.

        An embedded store that cannot be opened (a damaged chroma.sqlite3) is removed from disk, to be made anew.
        """
        try:
            client = _client(path=path, url=url)
        except Exception:
            if url:
                raise
            shutil.rmtree(path, ignore_errors=True)
            return
        for collection in client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name == COLLECTION or name.startswith(COLLECTION + "-"):
                try:
                    client.delete_collection(name)
                except Exception:  # chromadb raises different types for "does not exist" across versions
                    pass


def _ids_of(collection, page: int = 20000) -> list[str]:
    out: list[str] = []
    while True:
        batch = collection.get(include=[], limit=page, offset=len(out))["ids"]
        out += batch
        if len(batch) < page:
            return out


def _where(**conditions) -> dict | None:
    """A Chroma `where` from field -> a value, a list of values or an operator dict (None: no condition)."""
    parts = []
    for name, value in conditions.items():
        if isinstance(value, list):
            parts.append({name: value[0]} if len(value) == 1 else {name: {"$in": value}})
        elif value is not None:
            parts.append({name: value})
    return None if not parts else parts[0] if len(parts) == 1 else {"$and": parts}


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
