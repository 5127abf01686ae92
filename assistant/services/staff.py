"""Staff operations shared by the staff page and the HTTP API: tickets, gaps, feedback (guides: guides.py)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from sqlalchemy import func, update

from assistant.safety import guardrails
from assistant.services import audit
from assistant.services.db import Conversation, Feedback, Message, Ticket

MAX_COMMENT = 1000
GAP_LIMIT = 200
OUT_OF_SCOPE = "out_of_scope"  # the gaps group of questions no city guide should answer


class StaffError(ValueError):
    """A staff action that cannot be done; the message says why, for the person who asked."""


class NotFound(StaffError):
    """The ticket or guide a staff action names does not exist (the HTTP API answers 404)."""


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
            raise NotFound(f"no ticket {number}")
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
    if not assistant.scope.answerable(question, vector, hits, lang):
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
    indexed = assistant.index.files()
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
