"""Indexes new and changed guides: load and chunk them, embed what is new, write store and manifest.

Chunks whose embedding text a changed or removed guide already had (renames, small edits) keep their
vector from the store instead of being embedded again. A file's chunks reach the store before the
manifest records them, so a crash in between is repaired by the next ingestion (store_sync.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.knowledge.chunk import chunk_document
from assistant.knowledge.ingest_report import IngestReport
from assistant.knowledge.load import Rejected, load
from assistant.knowledge.manifest import Manifest
from assistant.knowledge.progress import progress_reporter
from assistant.knowledge.store_sync import store_metadata
from assistant.search.embed import Embedder
from assistant.search.store import VectorStore

EMBED_BATCH = 64


class FileIndexer:
    """Writes guides to one store and manifest, with one embedder and one chunking setting."""

    def __init__(self, *, manifest: Manifest, store: VectorStore, embedder: Embedder, knowledge: Path,
                 max_file_bytes: int, chunk_tokens: int, released: frozenset[str] = frozenset()) -> None:
        self.manifest = manifest
        self.store = store
        self.embedder = embedder
        self.knowledge = knowledge
        self.max_file_bytes = max_file_bytes
        self.chunk_tokens = chunk_tokens
        self.released = released  # content hashes an editor released from quarantine

    def index_files(self, todo, removed: list[str], report: IngestReport, progress) -> None:
        """Index each (path, file, hash) of `todo`, reusing vectors of `todo` and `removed` guides' chunks."""
        reusable = self._reusable_texts([rel for rel, _, _ in todo] + removed)
        loaded = []
        for rel, path, digest in todo:
            try:
                doc = load(path, self.knowledge, self.max_file_bytes, released=digest in self.released)
                chunks = chunk_document(doc, chunk_tokens=self.chunk_tokens, content_hash=digest)
                if not chunks:
                    raise Rejected("no text found in the file")
                loaded.append((rel, digest, doc, chunks))
            except Rejected as exc:
                self._record_rejected(rel, digest, str(exc))
                report.rejected.append({"path": rel, "reason": str(exc)})
        need = sum(1 for *_, chunks in loaded for c in chunks if c.embedding_text() not in reusable)
        bar = progress_reporter(need, progress)
        pending, pending_new = [], 0
        for item in loaded:
            pending.append(item)
            pending_new += sum(1 for c in item[3] if c.embedding_text() not in reusable)
            if pending_new >= EMBED_BATCH or item is loaded[-1]:
                report.embedded += self._write_batch(pending, reusable, bar)
                report.indexed.extend(rel for rel, *_ in pending)
                pending, pending_new = [], 0
        if bar:
            bar(0, final=True)

    def _reusable_texts(self, docs: list[str]) -> dict[str, str]:
        """Embedding text -> chunk id for chunks of files about to change or go (renames, small edits)."""
        out = {}
        for doc in docs:
            for chunk in self.manifest.chunks_of(doc):
                out.setdefault(chunk.embedding_text(), chunk.id)
        return out

    def _write_batch(self, items, reusable: dict[str, str], bar) -> int:
        all_chunks = [c for *_, chunks in items for c in chunks]
        texts = [c.embedding_text() for c in all_chunks]
        old_ids = [reusable[t] for t in texts if t in reusable]
        old_vectors = self.store.vectors(old_ids) if old_ids else {}
        fresh = [t for t in dict.fromkeys(texts) if t not in reusable or reusable[t] not in old_vectors]
        vectors = dict(zip(fresh, self.embedder.passages(fresh))) if fresh else {}
        if bar:
            bar(len(fresh))
        # One store delete, one upsert and one manifest transaction per batch, not per file: each
        # Chroma call costs tens of milliseconds however small it is (bench/scale.py profiles).
        matrix = np.stack([vectors[t] if t in vectors else old_vectors[reusable[t]] for t in texts])
        stale = [rel for rel, *_ in items if self.manifest.has_doc(rel)]
        if stale:
            self.store.delete_docs(stale)
        self.store.upsert([c.id for c in all_chunks], matrix, [store_metadata(c) for c in all_chunks],
                          [c.text for c in all_chunks])
        self.manifest.record_indexed(items)
        return len(fresh)

    def _record_rejected(self, rel: str, digest: str, reason: str) -> None:
        self.store.delete_docs([rel])
        self.manifest.record_rejected(rel, digest, reason)
