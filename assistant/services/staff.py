"""Staff operations shared by the staff page and the HTTP API: uploads, deletions, re-indexing, tickets, gaps.

An upload gets the same checks as ingestion (type, size, content: `knowledge.load.load`) before
it is written, and it can only land in `knowledge/<domain>/<name>`: names with a path in them,
hidden names, unknown domains spelled like paths and symlinks leading out are refused.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

from sqlalchemy import func, update

from assistant.safety import guardrails
from assistant.services import audit
from assistant.services.db import Conversation, Feedback, Message, Ticket
from assistant.knowledge.index import IngestBusy, IngestReport
from assistant.knowledge.load import SUPPORTED, Rejected, load

DOMAIN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
MAX_NAME = 120
MAX_COMMENT = 1000
GAP_LIMIT = 200
OUT_OF_SCOPE = "out_of_scope"  # the gaps group of questions no city guide should answer


class StaffError(ValueError):
    """A staff action that cannot be done; the message says why, for the person who asked."""


# ----- guides ----------------------------------------------------------------------------------


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
        raise StaffError(f"no guide {path!r} in the knowledge folder")
    kept = Path("deleted") / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}" / Path(*parts)
    (assistant.settings.home / kept).parent.mkdir(parents=True, exist_ok=True)
    shutil.move(target, assistant.settings.home / kept)
    audit.record(assistant.sessions, actor=actor, action="delete", target=Path(*parts).as_posix(),
                 detail=f"kept at {kept.as_posix()}")
    return kept.as_posix()


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


# ----- tickets ---------------------------------------------------------------------------------


def _ticket_json(t: Ticket) -> dict:
    return {"number": t.number, "status": t.status, "claimed_by": t.claimed_by, "reason": t.reason,
            "session_id": t.session_id, "created": t.created, "updated": t.updated,
            "transcript": [{"role": m["role"], "text": guardrails.mask_pii(m["text"])} for m in t.transcript]}


def tickets(assistant, statuses: tuple[str, ...] = ("open", "claimed")) -> list[dict]:
    """Hand-off tickets in these states, oldest first, with their masked transcripts."""
    with assistant.sessions() as db:
        rows = db.query(Ticket).filter(Ticket.status.in_(statuses)).order_by(Ticket.created, Ticket.id).all()
        return [_ticket_json(t) for t in rows]


def claim(assistant, number: str, staff: str) -> dict:
    """Take an open ticket; a ticket someone else holds, or a closed one, cannot be claimed."""
    return _move(assistant, number, staff, frm=("open",), to="claimed")


def close(assistant, number: str, staff: str) -> dict:
    """Close an open ticket, or one claimed by this person."""
    return _move(assistant, number, staff, frm=("open", "claimed"), to="closed")


def _move(assistant, number: str, staff: str, *, frm: tuple[str, ...], to: str) -> dict:
    staff = (staff or "").strip()[:64]
    if not staff:
        raise StaffError("give your name so colleagues see who handles the ticket")
    with assistant.sessions.begin() as db:
        query = update(Ticket).where(Ticket.number == number, Ticket.status.in_(frm))
        if to == "closed":
            query = query.where((Ticket.status == "open") | (Ticket.claimed_by == staff))
        done = db.execute(query.values(status=to, claimed_by=staff, updated=time.time())).rowcount
        ticket = db.query(Ticket).filter_by(number=number).one_or_none()
        if ticket is None:
            raise StaffError(f"no ticket {number}")
        if not done:
            holder = f" by {ticket.claimed_by}" if ticket.claimed_by else ""
            raise StaffError(f"ticket {number} is {ticket.status}{holder}")
        audit.write(db, actor=staff, action="claim" if to == "claimed" else "close", target=number)
        return _ticket_json(ticket)


# ----- feedback and gaps -----------------------------------------------------------------------


def last_reply_id(assistant, session_id: str) -> int | None:
    """The id of the assistant's latest stored message in a session."""
    with assistant.sessions() as db:
        return db.query(func.max(Message.id)).filter_by(session_id=session_id, role="assistant").scalar()


def record_feedback(assistant, *, session_id: str, helpful: bool, comment: str = "",
                    message_id: int | None = None) -> int:
    """Store a thumbs up or down (and an optional comment, masked) on a reply; returns its id."""
    with assistant.sessions.begin() as db:
        if db.get(Conversation, session_id) is None:
            raise LookupError(f"no session {session_id}")
        if message_id is None:
            message_id = db.query(func.max(Message.id)).filter_by(session_id=session_id, role="assistant").scalar()
        elif db.query(Message).filter_by(id=message_id, session_id=session_id, role="assistant").one_or_none() is None:
            raise LookupError(f"no reply {message_id} in session {session_id}")
        row = Feedback(session_id=session_id, message_id=message_id, helpful=bool(helpful),
                       comment=guardrails.mask_pii(comment or "")[:MAX_COMMENT])
        db.add(row)
        db.flush()
        return row.id


def add_comment(assistant, feedback_id: int, comment: str) -> None:
    """Attach the optional comment a citizen writes after the thumbs."""
    with assistant.sessions.begin() as db:
        row = db.get(Feedback, feedback_id)
        if row is None:
            raise LookupError(f"no feedback {feedback_id}")
        row.comment = guardrails.mask_pii(comment or "")[:MAX_COMMENT]


def gaps(assistant, limit: int = GAP_LIMIT) -> dict[str, list[dict]]:
    """Questions no guide answered and replies rated down, grouped by domain, most frequent first.

    A rated-down reply's domain is that of its first citation; otherwise the domain of the nearest
    guide, however weak, so staff see which folder a new guide belongs in, unless the question is not
    one the city handles (OUT_OF_SCOPE).
    """
    items = []
    with assistant.sessions() as db:
        refused = (db.query(Message).filter_by(role="assistant", status="refused")
                   .order_by(Message.id.desc()).limit(limit).all())
        items += [(m, "unanswered", "") for m in refused]
        rated = (db.query(Feedback, Message).join(Message, Message.id == Feedback.message_id)
                 .filter(Feedback.helpful.is_(False)).order_by(Feedback.id.desc()).limit(limit).all())
        items += [(m, "rated_down", f.comment) for f, m in rated]
        found = []
        for reply, kind, comment in items:
            asked = (db.query(Message).filter(Message.session_id == reply.session_id, Message.role == "user",
                                              Message.id < reply.id).order_by(Message.id.desc()).first())
            if asked is not None:
                found.append((asked.text, kind, comment, reply.citations, reply.created))
    grouped: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
    for question, kind, comment, citations, created in found:
        domain = citations[0]["doc"].split("/")[0] if citations else _nearest_domain(assistant, question)
        entry = grouped[domain].setdefault((kind, question.strip()), {
            "question": question.strip(), "kind": kind, "count": 0, "last": 0.0, "comments": []})
        entry["count"] += 1
        entry["last"] = max(entry["last"], created)
        if comment:
            entry["comments"].append(comment)
    return {d: sorted(g.values(), key=lambda e: (-e["count"], -e["last"]))
            for d, g in sorted(grouped.items(), key=lambda kv: -sum(e["count"] for e in kv[1].values()))}


def _nearest_domain(assistant, question: str) -> str:
    """The domain of the nearest guide, or OUT_OF_SCOPE for a question the city does not handle
    ("帮我写一首诗" is no gap in the emergency guides)."""
    vector = assistant.embedder.query(question)
    hits = assistant.retriever.retrieve(question, k=5, vector=vector)
    lang = guardrails.detect_language(question, assistant.settings.language)
    if not assistant.scope.answerable(vector, hits, lang):
        return OUT_OF_SCOPE
    return hits[0].chunk.domain


# ----- numbers ---------------------------------------------------------------------------------


def stats(assistant) -> dict:
    """Counts for operators: sessions, turns by status and skill, latency, tickets, feedback, index."""
    with assistant.sessions() as db:
        replies = db.query(Message.status, Message.skill, Message.latency_ms).filter_by(role="assistant").all()
        sessions = db.query(func.count(Conversation.id)).scalar()
        ticket_counts = dict(db.query(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status).all())
        votes = dict(db.query(Feedback.helpful, func.count(Feedback.id)).group_by(Feedback.helpful).all())
    latencies = sorted(r.latency_ms for r in replies)
    indexed = files(assistant)
    return {
        "sessions": sessions,
        "replies": len(replies),
        "by_status": dict(Counter(r.status for r in replies)),
        "by_skill": dict(Counter(r.skill or "none" for r in replies)),
        "latency_ms": {"median": round(latencies[len(latencies) // 2], 1) if latencies else None,
                       "p95": round(latencies[int(len(latencies) * 0.95)], 1) if latencies else None},
        "tickets": {s: ticket_counts.get(s, 0) for s in ("open", "claimed", "closed")},
        "feedback": {"up": votes.get(True, 0), "down": votes.get(False, 0)},
        "index": {"files": len(indexed), "indexed": sum(f["status"] == "indexed" for f in indexed),
                  "rejected": sum(f["status"] == "rejected" for f in indexed),
                  "chunks": assistant.index.chunk_count()},
    }
