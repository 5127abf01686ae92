"""What changed in the knowledge folder since the manifest was written: files to do, unchanged and removed.

Files are told apart by content hash; hidden files and editors' lock files ("~$…") are not guides.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def scan(knowledge: Path) -> dict[str, tuple[Path, str]]:
    """Every guide under the knowledge folder: (path, sha256 of its bytes) by relative POSIX path."""
    out = {}
    if not knowledge.is_dir():
        return out
    for path in sorted(knowledge.rglob("*")):
        rel = path.relative_to(knowledge)
        if not path.is_file() or any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        out[rel.as_posix()] = (path, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def compare(on_disk: dict[str, tuple[Path, str]], known: dict[str, tuple[str, str]]):
    """(todo as (path, file, hash), unchanged paths, removed paths) from the folder and the manifest's files."""
    todo, unchanged = [], []
    for rel, (path, digest) in sorted(on_disk.items()):
        old = known.get(rel)
        if old and old[0] == digest and old[1] == "indexed":
            unchanged.append(rel)
        else:
            todo.append((rel, path, digest))  # new, changed, or rejected before: the rules may have changed
    return todo, unchanged, sorted(set(known) - set(on_disk))
