"""Builds the BM25 index over every chunk in the manifest, tokenizing only chunks not tokenized before.

Each chunk's jieba tokens are kept in the manifest (chunk ids change with their text), so after an
edit only the new chunks are tokenized: at 100k chunks tokenizing everything again took minutes
(bench/scale.py). Tokens made by another tokenizer version are dropped first.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.core.types import Chunk
from assistant.knowledge.manifest import Manifest
from assistant.search.lexical import LexicalIndex, tokenize, tokenizer_version


def rebuild_lexical(manifest: Manifest, directory: Path) -> None:
    """Save a BM25 index of every chunk, in guide and reading order, to `directory`."""
    version = tokenizer_version()
    if manifest.meta("tokenizer") != version:
        with manifest.tx() as db:
            db.execute("DELETE FROM tokens")
        manifest.set_meta("tokenizer", version)
    rows = manifest.read("SELECT c.id, json_extract(c.data, '$.domain'), coalesce(json_extract(c.data, '$.city'), ''),"
                         " t.tokens FROM chunks c LEFT JOIN tokens t ON t.id = c.id ORDER BY c.doc, c.ordinal")
    missing = {i for i, _, _, words in rows if words is None}
    texts = {i: Chunk(id=i, **json.loads(d)).embedding_text() for i, d in manifest.read(
        "SELECT c.id, c.data FROM chunks c LEFT JOIN tokens t ON t.id = c.id WHERE t.id IS NULL")}
    tokens = [tokenize(texts[i]) if words is None else words.split(" ") if words else []
              for i, _, _, words in rows]
    with manifest.tx() as db:
        db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?)",
                       [(row[0], " ".join(words)) for row, words in zip(rows, tokens) if row[0] in missing])
        db.execute("DELETE FROM tokens WHERE id NOT IN (SELECT id FROM chunks)")
    LexicalIndex.build([r[0] for r in rows], [""] * len(rows), [r[1] for r in rows], [r[2] for r in rows],
                       tokens=tokens).save(directory)
