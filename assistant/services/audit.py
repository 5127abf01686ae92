"""The audit log: who did what, to what, when, from where. Rows are only ever added (the database refuses
UPDATE and DELETE on the table, see db._append_only); details are masked like everything else stored.
"""

from __future__ import annotations

import csv
import io
import time

from sqlalchemy import select

from assistant.safety import guardrails
from assistant.services.db import AuditEntry

# what is recorded, for the admin page's filter
ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "claim", "close", "read_transcript",
           "reassign", "start", "reply", "close_order", "upload", "delete", "release", "reindex", "account_add",
           "account_passwd", "account_disable", "account_enable", "token_add", "token_revoke")
LIMIT = 500


def write(db, *, actor: str, action: str, target: str = "", detail: str = "", client: str = "") -> None:
    """Add one row inside the caller's transaction `db` (so the row exists exactly when the action does)."""
    db.add(AuditEntry(at=time.time(), actor=(actor or "-")[:64], action=action[:32], target=(target or "")[:200],
                      detail=guardrails.mask_pii(detail or "")[:2000], client=(client or "")[:64]))


def record(sessions, **entry) -> None:
    """Add one row in its own transaction (for actions that are not themselves database writes)."""
    with sessions.begin() as db:
        write(db, **entry)


def entries(sessions, *, actor: str = "", action: str = "", since: float = 0.0, until: float = 0.0,
            limit: int = LIMIT) -> list[dict]:
    """The newest rows first, filtered by actor, action and time."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    with sessions() as db:
        return [{"at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail,
                 "client": e.client} for e in db.scalars(query)]


def as_csv(rows: list[dict], when) -> str:
    """`rows` as CSV with a header, times written by `when` (the city's local time)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", "actor", "action", "target", "detail", "client"])
    for r in rows:
        writer.writerow([when(r["at"]), *(_cell(r[k]) for k in ("actor", "action", "target", "detail", "client"))])
    return out.getvalue()


def _cell(value: str) -> str:
    """No spreadsheet formula injection: a cell starting with = + - @ is quoted as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
