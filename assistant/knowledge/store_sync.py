"""Keeps the vector store in step with the manifest: its metadata layout, and repair after a crash.

A file's chunks are written to the store before the manifest records them, so a run killed midway
leaves store entries the manifest does not know (removed here) or manifest chunks missing from the
store (their files are done again by the next ingestion).
"""

from __future__ import annotations

from assistant.core.types import Chunk
from assistant.knowledge.manifest import Manifest
from assistant.search.store import VectorStore

# How the store is laid out: metadata fields and collections by city and language (assistant/search/store.py).
# A change makes the next ingestion rewrite every chunk's metadata and move it, without embedding.
STORE_FIELDS = "city; collections by city and language"


def store_metadata(chunk: Chunk) -> dict:
    """The fields searches filter on, and what a hit shows without the manifest."""
    return {"doc": chunk.doc, "domain": chunk.domain, "lang": chunk.lang, "section": chunk.section[:200],
            "title": chunk.title[:200], "city": chunk.city}


def reconcile(manifest: Manifest, store: VectorStore) -> None:
    """Make store and manifest agree after a crash: drop strays, re-do files with missing chunks."""
    in_store = store.ids()
    known = manifest.chunk_docs()
    strays = [i for i in in_store if i not in known]
    if strays:
        store.delete_ids(strays)
    manifest.invalidate({doc for i, doc in known.items() if i not in in_store})


def refresh_store_metadata(manifest: Manifest, store: VectorStore) -> None:
    """Give chunks indexed by an older version the metadata fields searches filter on, without embedding."""
    chunks = manifest.all_chunks()
    store.update_metadata([c.id for c in chunks], [store_metadata(c) for c in chunks])
    manifest.set_meta("store_fields", STORE_FIELDS)
