"""Incremental indexing of the knowledge folder: manifest, embedding, store and BM25 kept consistent.

The manifest (SQLite, beside the vector store) records every file by path and content hash and
every chunk it produced. A file's chunks are written to the store before the manifest records
them, and the run is marked dirty until it ends, so a run killed at any point is repaired by the
next one: changed files are re-done, and store entries the manifest does not know are removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.search.embed import Embedder
from assistant.knowledge.chunk import CHUNKER_VERSION, chunk_document, document_sections
from assistant.knowledge.load import Rejected, load
from assistant.search.lexical import LexicalIndex, tokenize, tokenizer_version
from assistant.search.store import StoreError, VectorStore
from assistant.core.types import Chunk

EMBED_BATCH = 64
# How the store is laid out: metadata fields and collections by city and language (assistant/search/store.py).
# A change makes the next ingestion rewrite every chunk's metadata and move it, without embedding.
STORE_FIELDS = "city; collections by city and language"
MANIFEST = "manifest.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, hash TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '', domain TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT '', chunks INTEGER NOT NULL DEFAULT 0, indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, doc TEXT NOT NULL, ordinal INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc, ordinal);
CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, tokens TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sections (doc TEXT NOT NULL, ordinal INTEGER NOT NULL, path TEXT NOT NULL,
    text TEXT NOT NULL, PRIMARY KEY (doc, ordinal));
"""


class IngestBusy(RuntimeError):
    """Another process is indexing the same home."""


class IndexMissing(StoreError):
    """Nothing is indexed yet: the server runs, and guide questions get a canned reply."""


@dataclass
class IngestReport:
    """What one ingestion did, per file; paths are relative to the knowledge folder."""

    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def __repr__(self) -> str:
        """Counts, not file lists: a log line stays one line with hundreds of unchanged guides."""
        return (f"IngestReport(indexed={len(self.indexed)}, unchanged={len(self.unchanged)}, "
                f"removed={len(self.removed)}, rejected={len(self.rejected)}, chunks={self.chunks}, "
                f"embedded={self.embedded}, seconds={self.seconds:.1f})")

    def as_json(self) -> dict:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 2)
        return out


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
        try:
            self._db = sqlite3.connect(directory / MANIFEST, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the index manifest {directory / MANIFEST}: {exc}. "
                             "Rebuild it with: citydesk ingest --rebuild") from None
        self._lock = threading.RLock()
        self.mismatch = ""
        self._check_embedder()
        self._store: VectorStore | None = None
        self._lexical: LexicalIndex | None = None
        self._lexical_stamp = self._store_stamp = 0.0

    @property
    def store(self) -> VectorStore:
        """The vector store to search: IndexMissing when nothing is indexed, StoreError when it cannot be used.
        Its collections are looked up again after another process has indexed (new cities or languages)."""
        if not self._read("SELECT 1 FROM chunks LIMIT 1"):  # not count(*): that reads every row, per question
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

    def _lexical_mtime(self) -> float:
        """Changes at the end of every ingestion that changed something, in any process."""
        meta = self.directory / "lexical" / "ids.json"
        return meta.stat().st_mtime if meta.exists() else 0.0

    def _check_embedder(self) -> None:
        """Record which embedder built the index; a different one needs `citydesk ingest --rebuild`."""
        row = self._db.execute("SELECT value FROM meta WHERE key='embedder'").fetchone()
        wanted = json.dumps({"name": self.embedder.name, "dim": self.embedder.dim})
        has_files = self._db.execute("SELECT count(*) FROM files").fetchone()[0]
        if row and row[0] != wanted and has_files:
            have = json.loads(row[0])
            self.mismatch = (f"the index was built with {have['name']} ({have['dim']} dimensions) but "
                             f"CITYDESK_EMBEDDER gives {self.embedder.name} ({self.embedder.dim}): "
                             "re-index with: citydesk ingest --rebuild")
        else:
            self.mismatch = ""
            self._set_meta("embedder", wanted)

    def ensure_usable(self) -> None:
        if self.mismatch:
            raise StoreError(self.mismatch)

    # ----- reading -----------------------------------------------------------------------------

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        rows = self._read(f"SELECT id, data FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {i: Chunk(id=i, **json.loads(d)) for i, d in rows}

    def docs_of(self, ids: list[str]) -> dict[str, str]:
        """The guide of each chunk id."""
        if not ids:
            return {}
        return dict(self._read(f"SELECT id, doc FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids))

    def titles_of(self, docs: list[str]) -> dict[str, str]:
        """The title of each guide."""
        if not docs:
            return {}
        return dict(self._read(f"SELECT path, title FROM files WHERE path IN ({','.join('?' * len(docs))})", docs))

    def chunks_of(self, doc: str) -> list[Chunk]:
        rows = self._read("SELECT id, data FROM chunks WHERE doc=? ORDER BY ordinal", (doc,))
        return [Chunk(id=i, **json.loads(d)) for i, d in rows]

    def sections_of(self, doc: str) -> list[tuple[str, str]]:
        """The guide's sections as (heading path, whole text), in reading order: what answers quote."""
        return self._read("SELECT path, text FROM sections WHERE doc=? ORDER BY ordinal", (doc,))

    def files(self) -> list[dict]:
        rows = self._read("SELECT path, status, reason, title, domain, lang, chunks, indexed_at FROM files ORDER BY path")
        keys = ("path", "status", "reason", "title", "domain", "lang", "chunks", "indexed_at")
        return [dict(zip(keys, r)) for r in rows]

    def chunk_count(self) -> int:
        return self._read("SELECT count(*) FROM chunks")[0][0]

    # ----- writing -----------------------------------------------------------------------------

    @contextmanager
    def _tx(self):
        """One manifest transaction; readers in this process wait only for it, not for a whole ingestion."""
        with self._lock, self._db:
            yield self._db

    def _read(self, sql: str, params=()) -> list:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

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
            was_dirty = self._meta("dirty") == "1"
            self._set_meta("dirty", "1")
            on_disk = self._scan()
            if was_dirty or self._open_store().count() != self.chunk_count():
                self._reconcile()
            if self._meta("store_fields") != STORE_FIELDS:
                self._refresh_store_metadata()
            if self._meta("chunker") != CHUNKER_VERSION:  # new chunking rules: every file is chunked again
                with self._tx():
                    self._db.execute("UPDATE files SET hash=''")
            known = {p: (h, s, r) for p, h, s, r in self._read("SELECT path, hash, status, reason FROM files")}
            todo = []
            for rel, (path, digest) in sorted(on_disk.items()):
                old = known.get(rel)
                if old and old[0] == digest and old[1] == "indexed":
                    report.unchanged.append(rel)
                else:
                    todo.append((rel, path, digest))  # new, changed, or rejected before: the rules may have changed
            removed = sorted(set(known) - set(on_disk))
            self._index_files(todo, removed, report, progress)
            for rel in removed:
                self._open_store().delete_docs([rel])
                with self._tx():
                    self._db.execute("DELETE FROM chunks WHERE doc=?", (rel,))
                    self._db.execute("DELETE FROM sections WHERE doc=?", (rel,))
                    self._db.execute("DELETE FROM files WHERE path=?", (rel,))
                if known[rel][1] == "indexed":
                    report.removed.append(rel)
            if report.indexed or report.removed or was_dirty or not (self.directory / "lexical" / "ids.json").exists():
                self._rebuild_lexical()
            self._set_meta("chunker", CHUNKER_VERSION)
            self._set_meta("dirty", "0")
            report.chunks = self.chunk_count()
        report.seconds = time.perf_counter() - started
        return report

    def _scan(self) -> dict[str, tuple[Path, str]]:
        out = {}
        if not self.knowledge.is_dir():
            return out
        for path in sorted(self.knowledge.rglob("*")):
            rel = path.relative_to(self.knowledge)
            if not path.is_file() or any(part.startswith((".", "~$")) for part in rel.parts):
                continue
            out[rel.as_posix()] = (path, hashlib.sha256(path.read_bytes()).hexdigest())
        return out

    def _index_files(self, todo, removed, report: IngestReport, progress) -> None:
        reusable = self._reusable_texts([rel for rel, _, _ in todo] + removed)
        loaded = []
        for rel, path, digest in todo:
            try:
                doc = load(path, self.knowledge, self.max_file_bytes)
                chunks = chunk_document(doc, chunk_tokens=self.chunk_tokens, content_hash=digest)
                if not chunks:
                    raise Rejected("no text found in the file")
                loaded.append((rel, digest, doc, chunks))
            except Rejected as exc:
                self._record_rejected(rel, digest, str(exc))
                report.rejected.append({"path": rel, "reason": str(exc)})
        need = sum(1 for *_, chunks in loaded for c in chunks if c.embedding_text() not in reusable)
        bar = _progress(need, progress)
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
            for chunk in self.chunks_of(doc):
                out.setdefault(chunk.embedding_text(), chunk.id)
        return out

    def _write_batch(self, items, reusable: dict[str, str], bar) -> int:
        all_chunks = [c for *_, chunks in items for c in chunks]
        texts = [c.embedding_text() for c in all_chunks]
        old_ids = [reusable[t] for t in texts if t in reusable]
        old_vectors = self._open_store().vectors(old_ids) if old_ids else {}
        fresh = [t for t in dict.fromkeys(texts) if t not in reusable or reusable[t] not in old_vectors]
        vectors = dict(zip(fresh, self.embedder.passages(fresh))) if fresh else {}
        if bar:
            bar(len(fresh))
        # One store delete, one upsert and one manifest transaction per batch, not per file: each
        # Chroma call costs tens of milliseconds however small it is (bench/scale.py profiles).
        matrix = np.stack([vectors[t] if t in vectors else old_vectors[reusable[t]] for t in texts])
        stale = [rel for rel, *_ in items if self._read("SELECT 1 FROM chunks WHERE doc=? LIMIT 1", (rel,))]
        if stale:
            self._open_store().delete_docs(stale)
        self._open_store().upsert([c.id for c in all_chunks], matrix, [_store_meta(c) for c in all_chunks],
                                  [c.text for c in all_chunks])
        with self._tx():
            for rel, digest, doc, chunks in items:
                self._db.execute("DELETE FROM chunks WHERE doc=?", (rel,))
                self._db.execute("DELETE FROM sections WHERE doc=?", (rel,))
                self._db.executemany("INSERT INTO sections VALUES (?, ?, ?, ?)",
                                     [(rel, i, path, text) for i, (path, text) in enumerate(document_sections(doc))])
                self._db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?)",
                                     [(c.id, c.doc, c.ordinal, json.dumps(_chunk_data(c), ensure_ascii=False))
                                      for c in chunks])
                self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, 'indexed', '', ?, ?, ?, ?, ?)",
                                 (rel, digest, doc.title, doc.domain, doc.lang, len(chunks), time.time()))
        return len(fresh)

    def _record_rejected(self, rel: str, digest: str, reason: str) -> None:
        self._open_store().delete_docs([rel])
        with self._tx():
            self._db.execute("DELETE FROM chunks WHERE doc=?", (rel,))
            self._db.execute("DELETE FROM sections WHERE doc=?", (rel,))
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, 'rejected', ?, '', ?, '', 0, ?)",
                             (rel, digest, reason, rel.split("/")[0] if "/" in rel else "general", time.time()))

    def _reconcile(self) -> None:
        """Make store and manifest agree after a crash: drop strays, re-do files with missing chunks."""
        in_store = self._open_store().ids()
        manifest = dict(self._read("SELECT id, doc FROM chunks"))
        strays = [i for i in in_store if i not in manifest]
        if strays:
            self._open_store().delete_ids(strays)
        broken = {doc for i, doc in manifest.items() if i not in in_store}
        with self._tx():
            for doc in broken:
                self._db.execute("UPDATE files SET hash='' WHERE path=?", (doc,))

    def _refresh_store_metadata(self) -> None:
        """Give chunks indexed by an older version the metadata fields searches filter on, without embedding."""
        chunks = [Chunk(id=i, **json.loads(d)) for i, d in self._read("SELECT id, data FROM chunks")]
        self._open_store().update_metadata([c.id for c in chunks], [_store_meta(c) for c in chunks])
        self._set_meta("store_fields", STORE_FIELDS)

    def filters_ready(self) -> bool:
        """False while the store holds chunks from before the current metadata fields (run citydesk ingest)."""
        return self._meta("store_fields") == STORE_FIELDS

    def _rebuild_lexical(self) -> None:
        """BM25 over every chunk. Each chunk's jieba tokens are kept in the manifest (chunk ids change
        with their text), so after an edit only the new chunks are tokenized: at 100k chunks tokenizing
        everything again took minutes (bench/scale.py)."""
        version = tokenizer_version()
        if self._meta("tokenizer") != version:
            with self._tx():
                self._db.execute("DELETE FROM tokens")
            self._set_meta("tokenizer", version)
        rows = self._read("SELECT c.id, json_extract(c.data, '$.domain'), coalesce(json_extract(c.data, '$.city'), ''),"
                          " t.tokens FROM chunks c LEFT JOIN tokens t ON t.id = c.id ORDER BY c.doc, c.ordinal")
        missing = {i for i, _, _, words in rows if words is None}
        texts = {i: Chunk(id=i, **json.loads(d)).embedding_text() for i, d in self._read(
            "SELECT c.id, c.data FROM chunks c LEFT JOIN tokens t ON t.id = c.id WHERE t.id IS NULL")}
        tokens = [tokenize(texts[i]) if words is None else words.split(" ") if words else []
                  for i, _, _, words in rows]
        with self._tx():
            self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?)",
                                 [(row[0], " ".join(words)) for row, words in zip(rows, tokens) if row[0] in missing])
            self._db.execute("DELETE FROM tokens WHERE id NOT IN (SELECT id FROM chunks)")
        LexicalIndex.build([r[0] for r in rows], [""] * len(rows), [r[1] for r in rows], [r[2] for r in rows],
                           tokens=tokens).save(self.directory / "lexical")

    @staticmethod
    def remove_manifest(directory: Path) -> None:
        """Delete a manifest that cannot be opened, so that `--rebuild` can start from nothing."""
        for path in directory.glob(MANIFEST + "*"):
            path.unlink()

    def _drop_everything(self) -> None:
        VectorStore.delete_collection(path=self.directory / "chroma", url=self.chroma_url)
        self._store = None
        with self._tx():
            self._db.execute("DELETE FROM chunks")
            self._db.execute("DELETE FROM sections")
            self._db.execute("DELETE FROM files")
        self._check_embedder()

    def _meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def _set_meta(self, key: str, value: str) -> None:
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _chunk_data(chunk: Chunk) -> dict:
    data = asdict(chunk)
    data.pop("id")
    return data


def _store_meta(chunk: Chunk) -> dict:
    return {"doc": chunk.doc, "domain": chunk.domain, "lang": chunk.lang, "section": chunk.section[:200],
            "title": chunk.title[:200], "city": chunk.city}


def _progress(total: int, progress):
    """A function to report embedded chunks: to a terminal bar, to the caller's callback, or None."""
    if not progress or total == 0:
        return None
    if callable(progress):
        done = 0

        def report(n: int, final: bool = False) -> None:
            nonlocal done
            done += n
            progress(done, total)
        return report
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)

    def update(n: int, final: bool = False) -> None:
        bar.update(n)
        if final:
            bar.close()
    return update
