"""Guides released from quarantine. A guide whose text looks like instructions aimed at the assistant is not
indexed (load.py); an editor who has read it may release that exact content, named by its sha256, and the
next ingestion indexes it. An edit changes the hash, so the edited guide is quarantined again. The releases
live beside the index in released.json, written whole and replaced atomically.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

FILE = "released.json"
REASON = "instructions hidden in the text (aimed at the assistant); quarantined for review"


def releases(directory: Path) -> list[dict]:
    """Every release: path, sha256, by whom, when (epoch seconds)."""
    try:
        return json.loads((directory / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


def released(directory: Path) -> set[str]:
    """The content hashes an editor has released."""
    return {r["sha256"] for r in releases(directory)}


def release(directory: Path, path: str, digest: str, by: str) -> None:
    """Record that `by` released the content `digest` of the guide at `path`."""
    rows = [r for r in releases(directory) if r["sha256"] != digest]
    rows.append({"path": path, "sha256": digest, "by": by, "at": time.time()})
    part = directory / (FILE + ".part")
    part.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(part, directory / FILE)
