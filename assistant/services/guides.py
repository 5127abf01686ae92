"""The guides staff manage, for the staff page and the HTTP API: upload, delete, release from quarantine,
re-index, list.

An upload gets the same checks as ingestion (type, size, content: `knowledge.load.load`) before
it is written, and it can only land in `knowledge/<domain>/<name>`: names with a path in them,
hidden names, unknown domains spelled like paths and symlinks leading out are refused. A deleted
guide is kept under CITYDESK_HOME/deleted/; a released one is indexed although its text looked like
instructions to the assistant, until it is edited (knowledge/quarantine.py).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from assistant.knowledge.index import IngestBusy, IngestReport
from assistant.knowledge.load import SUPPORTED, Rejected, load
from assistant.services import audit
from assistant.services.staff import NotFound, StaffError

DOMAIN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
MAX_NAME = 120


def domains(assistant) -> list[str]:
    """The domain folders under knowledge/, for the upload form."""
    root = assistant.settings.knowledge
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and DOMAIN.match(p.name))


def check_name(filename: str) -> str:
    """The file name itself, or StaffError: no folders, no `..`, no hidden or control characters."""
    name = filename or ""
    if not name or len(name) > MAX_NAME or "/" in name or "\\" in name or ".." in name or name.startswith(("~", ".")):
        raise StaffError(f"file name not allowed: {filename!r} (a plain name such as passport.md)")
    if any(ord(ch) < 32 or ch in '<>:"|?*' for ch in name):
        raise StaffError(f"file name not allowed: {filename!r} (control or reserved characters)")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise StaffError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}")
    return name


def save_upload(assistant, *, filename: str, data: bytes, domain: str, actor: str = "") -> str:
    """Check an uploaded guide like ingestion does, then place it at knowledge/<domain>/<name>.

    Returns the path relative to knowledge/; raises StaffError with the reason when refused.
    """
    name = check_name(filename)
    if not DOMAIN.match(domain or ""):
        raise StaffError(f"domain not allowed: {domain!r} (lower-case letters, digits, _ and -)")
    limit = int(assistant.settings.max_file_mb * 1e6)
    if len(data) > limit:
        raise StaffError(f"too large: {len(data) / 1e6:.1f} MB, the limit is {limit / 1e6:.1f} MB")
    root = assistant.settings.knowledge.resolve()
    folder = root / domain
    target = folder / name
    if folder.is_symlink() or target.is_symlink() or target.resolve().parent != folder:
        raise StaffError("refused: the target is a link or lies outside the knowledge folder")
    with tempfile.TemporaryDirectory(prefix="citydesk-upload-") as tmp:
        staged = Path(tmp) / domain / name
        staged.parent.mkdir()
        staged.write_bytes(data)
        try:
            load(staged, Path(tmp), limit)
        except Rejected as exc:
            raise StaffError(str(exc)) from None
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".upload-{secrets.token_hex(6)}.part"  # hidden: neither indexed nor watched
    part.write_bytes(data)
    os.replace(part, target)
    audit.record(assistant.sessions, actor=actor, action="upload", target=f"{domain}/{name}", detail=f"{len(data)} bytes")
    return f"{domain}/{name}"


def delete_guide(assistant, path: str, *, actor: str = "") -> str:
    """Take the guide at knowledge/`path` out of the folder (the next re-index drops its passages) and keep it
    under CITYDESK_HOME/deleted/<time>/`path`, so a deletion made by mistake loses nothing. Returns where it is
    kept, relative to CITYDESK_HOME; StaffError when `path` is not a guide file inside the knowledge folder."""
    root = assistant.settings.knowledge.resolve()
    parts = Path(path or "").parts
    target = root.joinpath(*parts)
    if (not parts or any(p in ("..", ".") or p.startswith(".") for p in parts) or target.is_symlink()
            or not target.is_file() or not target.resolve().is_relative_to(root)):
        raise NotFound(f"no guide {path!r} in the knowledge folder")
    # no hyphen between the digits: "20261204-000418-79ca5c" read as a 16-digit bank card and was masked in the audit log
    kept = Path("deleted") / f"{time.strftime('%Y%m%dT%H%M%S')}_{secrets.token_hex(3)}" / Path(*parts)
    (assistant.settings.home / kept).parent.mkdir(parents=True, exist_ok=True)
    shutil.move(target, assistant.settings.home / kept)
    audit.record(assistant.sessions, actor=actor, action="delete", target=Path(*parts).as_posix(),
                 detail=f"kept at {kept.as_posix()}")
    return kept.as_posix()


def release_guide(assistant, path: str, *, actor: str = "") -> None:
    """Release a guide quarantined for text that looks like instructions to the assistant, as it is now (an
    editor has read it); the next re-index takes it in. StaffError when it is not quarantined."""
    try:
        assistant.index.release(path, actor or "-")
    except ValueError as exc:
        raise NotFound(str(exc)) from None
    audit.record(assistant.sessions, actor=actor, action="release", target=path)


def reindex(assistant, *, progress: Callable[[int, int], None] | None = None, wait: float = 120.0,
            actor: str = "") -> IngestReport:
    """Bring the index in line with knowledge/, waiting up to `wait` seconds for a running ingestion."""
    deadline = time.monotonic() + wait
    while True:
        try:
            report = assistant.ingest(progress=progress or False)
            audit.record(assistant.sessions, actor=actor, action="reindex",
                         detail=f"indexed {len(report.indexed)}, removed {len(report.removed)}, "
                                f"rejected {len(report.rejected)}")
            return report
        except IngestBusy:
            if time.monotonic() > deadline:
                raise StaffError("another indexing run is still busy; try again in a minute") from None
            time.sleep(0.5)


def files(assistant) -> list[dict]:
    """Every file the index knows, with its status (indexed / rejected) and the reason."""
    return assistant.index.files()
