"""Incremental indexing of the knowledge folder: manifest, embedding, store and BM25 kept consistent.

The manifest (SQLite, beside the vector store) records every file by path and content hash and
every chunk it produced. A file's chunks are written to the store before the manifest records
them, and the run is marked dirty until it ends, so a run killed at any point is repaired by the
next one: changed files are re-done, and store entries the manifest does not know are removed.
The parts: manifest.py, changes.py, file_indexer.py, store_sync.py, lexical_build.py.
"""

from __future__ import annotations

import fcntl
import json
import time
from contextlib import contextmanager
from pathlib import Path

from assistant.core.types import Chunk
from assistant.knowledge.changes import compare, scan
from assistant.knowledge.chunk import CHUNKER_VERSION
from assistant.knowledge.file_indexer import FileIndexer
from assistant.knowledge.ingest_report import IngestReport
from assistant.knowledge.lexical_build import rebuild_lexical
from assistant.knowledge.manifest import MANIFEST, Manifest
from assistant.knowledge import quarantine
from assistant.knowledge.store_sync import STORE_FIELDS, reconcile, refresh_store_metadata
from assistant.search.embed import Embedder
from assistant.search.lexical import LexicalIndex
from assistant.search.store import StoreError, VectorStore


class IngestBusy(RuntimeError):
    """Another process is indexing the same home."""


class IndexMissing(StoreError):
    """Nothing is indexed yet: the server runs, and guide questions get a canned reply."""


class Index:
    """The searchable knowledge: manifest + vector store + BM25, built from the knowledge folder."""

    def __init__(self, *, directory: Path, knowledge: Path, embedder: Embedder, chroma_url: str = "",
                 max_file_bytes: int = 20_000_000, chunk_tokens: int = 320) -> None:
        self.directory = directory
        self.knowledge = knowledge
        self.embedder = embedder
        self.chroma_url = chroma_url
        self.max_file_bytes = max_file_bytes
        self.chunk_tokens = chunk_tokens
        directory.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(directory)
        self._lock = self.manifest.lock
        self.mismatch = ""
        self._check_embedder()
        self._store: VectorStore | None = None
        self._lexical: LexicalIndex | None = None
        self._lexical_stamp = self._store_stamp = 0.0

    @property
    def store(self) -> VectorStore:
        """The vector store to search: IndexMissing when nothing is indexed, StoreError when it cannot be used.
        Its collections are looked up again after another process has indexed (new cities or languages)."""
        if not self.manifest.has_chunks():
            raise IndexMissing("no guides are indexed yet: run citydesk ingest")
        store = self._open_store()
        stamp = self._lexical_mtime()
        if stamp != self._store_stamp:
            with self._lock:
                store.discover()
                self._store_stamp = stamp
        return store

    def _open_store(self) -> VectorStore:
        """Opened once, by one thread: chromadb's client start-up is not safe to run twice at once (the
        watcher's first pass, /healthz and the warm-up used to race, and a healthy index was reported
        unusable with advice to rebuild it)."""
        self.ensure_usable()
        with self._lock:
            if self._store is None:
                self._store = VectorStore(path=self.directory / "chroma", url=self.chroma_url,
                                          embedder_name=self.embedder.name, dim=self.embedder.dim)
            return self._store

    def status(self) -> str:
        """Whether the index can be searched: "ok", or what is wrong and the command that mends it."""
        try:
            self.store.count()
        except IndexMissing:
            return "missing, run citydesk ingest"
        except StoreError as exc:
            return f"unusable: {exc}"
        return "ok"

    @property
    def lexical(self) -> LexicalIndex | None:
        """The BM25 index, reloaded when another process has rebuilt it."""
        stamp = self._lexical_mtime()
        if stamp != self._lexical_stamp:
            with self._lock:
                self._lexical = LexicalIndex.load(self.directory / "lexical")
                self._lexical_stamp = stamp
        return self._lexical

    def stamp(self) -> float:
        """Changes whenever an ingestion (in any process) changed the index: for caches built from it."""
        return self._lexical_mtime()

    def _lexical_mtime(self) -> float:
        """Changes at the end of every ingestion that changed something, in any process."""
        meta = self.directory / "lexical" / "ids.json"
        return meta.stat().st_mtime if meta.exists() else 0.0

    def _check_embedder(self) -> None:
        """Record which embedder built the index; a different one needs `citydesk ingest --rebuild`."""
        have = self.manifest.meta("embedder")
        wanted = json.dumps({"name": self.embedder.name, "dim": self.embedder.dim})
        if have is not None and have != wanted and self.manifest.has_files():
            built = json.loads(have)
            self.mismatch = (f"the index was built with {built['name']} ({built['dim']} dimensions) but "
                             f"CITYDESK_EMBEDDER gives {self.embedder.name} ({self.embedder.dim}): "
                             "re-index with: citydesk ingest --rebuild")
        else:
            self.mismatch = ""
            self.manifest.set_meta("embedder", wanted)

    def ensure_usable(self) -> None:
        if self.mismatch:
            raise StoreError(self.mismatch)

    def filters_ready(self) -> bool:
        """False while the store holds chunks from before the current metadata fields (run citydesk ingest)."""
        return self.manifest.meta("store_fields") == STORE_FIELDS

    # ----- reading -----------------------------------------------------------------------------

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return self.manifest.chunks(ids)

    def docs_of(self, ids: list[str]) -> dict[str, str]:
        """The guide of each chunk id."""
        return self.manifest.docs_of(ids)

    def titles_of(self, docs: list[str]) -> dict[str, str]:
        """The title of each guide, with its English name when it has one: what searches compare."""
        return self.manifest.titles_of(docs)

    def chunks_of(self, doc: str) -> list[Chunk]:
        return self.manifest.chunks_of(doc)

    def sections_of(self, doc: str) -> list[tuple[str, str]]:
        """The guide's sections as (heading path, whole text), in reading order: what answers quote."""
        return self.manifest.sections_of(doc)

    def files(self) -> list[dict]:
        return self.manifest.files()

    def chunk_count(self) -> int:
        return self.manifest.chunk_count()

    def release(self, rel: str, by: str) -> None:
        """Release the quarantined guide at `rel` as it is now (the next ingestion indexes it); ValueError when
        the index does not hold it as quarantined."""
        found = self.manifest.read("SELECT hash FROM files WHERE path=? AND status='rejected' AND reason=?",
                                   (rel, quarantine.REASON))
        if not found:
            raise ValueError(f"{rel!r} is not a guide quarantined for review")
        quarantine.release(self.directory, rel, found[0][0], by)

    # ----- writing -----------------------------------------------------------------------------

    @contextmanager
    def _exclusive(self):
        lock_file = open(self.directory / "ingest.lock", "w")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise IngestBusy("another ingestion is running on this index; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
            lock_file.close()

    def ingest(self, *, rebuild: bool = False, progress=False) -> IngestReport:
        """Bring the index in line with the knowledge folder, embedding only what changed.

        `progress` is True for a bar on a terminal, or a function called with (chunks embedded, total).
        """
        started = time.perf_counter()
        with self._exclusive():
            if rebuild:
                self._drop_everything()
            self.ensure_usable()
            report = IngestReport()
            manifest = self.manifest
            was_dirty = manifest.meta("dirty") == "1"
            manifest.set_meta("dirty", "1")
            on_disk = scan(self.knowledge)
            if was_dirty or self._open_store().count() != manifest.chunk_count():
                reconcile(manifest, self._open_store())
            if manifest.meta("store_fields") != STORE_FIELDS:
                refresh_store_metadata(manifest, self._open_store())
            if manifest.meta("chunker") != CHUNKER_VERSION:  # new chunking rules: every file is chunked again
                manifest.invalidate_all()
            known = manifest.known_files()
            todo, report.unchanged, removed = compare(on_disk, known)
            self._file_indexer().index_files(todo, removed, report, progress)
            for rel in removed:
                self._open_store().delete_docs([rel])
                manifest.forget(rel)
                if known[rel][1] == "indexed":
                    report.removed.append(rel)
            if report.indexed or report.removed or was_dirty or not (self.directory / "lexical" / "ids.json").exists():
                rebuild_lexical(manifest, self.directory / "lexical")
            manifest.set_meta("chunker", CHUNKER_VERSION)
            manifest.set_meta("dirty", "0")
            report.chunks = manifest.chunk_count()
        report.seconds = time.perf_counter() - started
        return report

    def _file_indexer(self) -> FileIndexer:
        return FileIndexer(manifest=self.manifest, store=self._open_store(), embedder=self.embedder,
                           knowledge=self.knowledge, max_file_bytes=self.max_file_bytes,
                           chunk_tokens=self.chunk_tokens,
                           released=frozenset(quarantine.released(self.directory)))

    @staticmethod
    def remove_manifest(directory: Path) -> None:
        """Delete a manifest that cannot be opened, so that `--rebuild` can start from nothing."""
        for path in directory.glob(MANIFEST + "*"):
            path.unlink()

    def _drop_everything(self) -> None:
        VectorStore.delete_collection(path=self.directory / "chroma", url=self.chroma_url)
        self._store = None
        self.manifest.clear()
        self._check_embedder()
