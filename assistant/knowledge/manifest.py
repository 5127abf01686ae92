"""The index manifest: every file by path and content hash, and the chunks, sections and tokens it produced.

SQLite, beside the vector store. One re-entrant lock guards the connection, so that readers in this
process wait only for one transaction, not for a whole ingestion.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from assistant.core.types import Chunk
from assistant.knowledge.chunk import document_sections
from assistant.search.store import StoreError

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


class Manifest:
    """The SQLite manifest of one index directory: a StoreError when it cannot be opened."""

    def __init__(self, directory: Path) -> None:
        try:
            self._db = sqlite3.connect(directory / MANIFEST, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the index manifest {directory / MANIFEST}: {exc}. "
                             "Rebuild it with: citydesk ingest --rebuild") from None
        self.lock = threading.RLock()

    @contextmanager
    def tx(self):
        """One manifest transaction; readers in this process wait only for it, not for a whole ingestion."""
        with self.lock, self._db:
            yield self._db

    def read(self, sql: str, params=()) -> list:
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ----- reading -----------------------------------------------------------------------------

    def has_chunks(self) -> bool:
        return bool(self.read("SELECT 1 FROM chunks LIMIT 1"))  # not count(*): that reads every row, per question

    def has_files(self) -> bool:
        return bool(self.read("SELECT count(*) FROM files")[0][0])

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        rows = self.read(f"SELECT id, data FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {i: Chunk(id=i, **json.loads(d)) for i, d in rows}

    def all_chunks(self) -> list[Chunk]:
        return [Chunk(id=i, **json.loads(d)) for i, d in self.read("SELECT id, data FROM chunks")]

    def docs_of(self, ids: list[str]) -> dict[str, str]:
        """The guide of each chunk id."""
        if not ids:
            return {}
        return dict(self.read(f"SELECT id, doc FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids))

    def chunk_docs(self) -> dict[str, str]:
        """The guide of every chunk, by chunk id."""
        return dict(self.read("SELECT id, doc FROM chunks"))

    def titles_of(self, docs: list[str]) -> dict[str, str]:
        """Each guide's title, with its English name when it has one (as its first chunk carries them)."""
        if not docs:
            return {}
        # read in SQL, not by parsing each first chunk's JSON in Python: this runs for every question
        rows = self.read("SELECT doc, json_extract(data, '$.title'), json_extract(data, '$.title_en') FROM chunks "
                         f"WHERE ordinal=0 AND doc IN ({','.join('?' * len(docs))})", docs)
        return {doc: f"{title} ({english})" if english else title for doc, title, english in rows}

    def chunks_of(self, doc: str) -> list[Chunk]:
        rows = self.read("SELECT id, data FROM chunks WHERE doc=? ORDER BY ordinal", (doc,))
        return [Chunk(id=i, **json.loads(d)) for i, d in rows]

    def sections_of(self, doc: str) -> list[tuple[str, str]]:
        """The guide's sections as (heading path, whole text), in reading order: what answers quote."""
        return self.read("SELECT path, text FROM sections WHERE doc=? ORDER BY ordinal", (doc,))

    def files(self) -> list[dict]:
        rows = self.read("SELECT path, status, reason, title, domain, lang, chunks, indexed_at FROM files ORDER BY path")
        keys = ("path", "status", "reason", "title", "domain", "lang", "chunks", "indexed_at")
        return [dict(zip(keys, r)) for r in rows]

    def known_files(self) -> dict[str, tuple[str, str]]:
        """Every recorded file's (content hash, status), by path."""
        return {p: (h, s) for p, h, s in self.read("SELECT path, hash, status FROM files")}

    def has_doc(self, doc: str) -> bool:
        return bool(self.read("SELECT 1 FROM chunks WHERE doc=? LIMIT 1", (doc,)))

    def chunk_count(self) -> int:
        return self.read("SELECT count(*) FROM chunks")[0][0]

    # ----- writing -----------------------------------------------------------------------------

    def record_indexed(self, items) -> None:
        """Replace the chunks and sections of each (path, hash, document, chunks), in one transaction."""
        with self.tx():
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

    def record_rejected(self, rel: str, digest: str, reason: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM chunks WHERE doc=?", (rel,))
            self._db.execute("DELETE FROM sections WHERE doc=?", (rel,))
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, 'rejected', ?, '', ?, '', 0, ?)",
                             (rel, digest, reason, rel.split("/")[0] if "/" in rel else "general", time.time()))

    def forget(self, rel: str) -> None:
        """A file that is gone: its chunks, sections and record."""
        with self.tx():
            self._db.execute("DELETE FROM chunks WHERE doc=?", (rel,))
            self._db.execute("DELETE FROM sections WHERE doc=?", (rel,))
            self._db.execute("DELETE FROM files WHERE path=?", (rel,))

    def invalidate(self, docs) -> None:
        """Make the next ingestion do these files again."""
        with self.tx():
            for doc in docs:
                self._db.execute("UPDATE files SET hash='' WHERE path=?", (doc,))

    def invalidate_all(self) -> None:
        """Make the next ingestion do every file again."""
        with self.tx():
            self._db.execute("UPDATE files SET hash=''")

    def clear(self) -> None:
        """Forget every file, chunk and section."""
        with self.tx():
            self._db.execute("DELETE FROM chunks")
            self._db.execute("DELETE FROM sections")
            self._db.execute("DELETE FROM files")


def _chunk_data(chunk: Chunk) -> dict:
    data = asdict(chunk)
    data.pop("id")
    return data
