"""Work orders of citizen requests: classify (type and department), file, look up, and the staff actions.

Dispatch rules are data (seeds/departments.yaml); which type and department a message is, is learned
(assistant/dialogue/intake.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time

from sqlalchemy.exc import IntegrityError

from assistant.core.dates import local_minute
from assistant.services import audit
from assistant.services.db import WorkOrder
from assistant.safety.guardrails import mask_pii
from assistant.services.seeds import read

STATES = ("received", "dispatched", "in_progress", "resolved", "closed")
OPEN_STATES = ("received", "dispatched", "in_progress")
NUMBER = re.compile(r"GD\s*-?\s*(\d{4})\s*-?\s*(\d{8})(?!\d)", re.IGNORECASE)
MAX_REPLY = 2000


class WorkOrderError(ValueError):
    """A staff action on a work order that cannot be done; the message says why."""


class NoSuchOrder(WorkOrderError):
    """The work order named does not exist (the HTTP API answers 404)."""


def rules() -> dict:
    return read("departments")


def departments() -> dict[str, dict]:
    """Every department by id, the general dispatch queue included."""
    data = rules()
    return {d["id"]: d for d in [data["general"], *data["departments"]]}


def department_name(dept_id: str, lang: str) -> str:
    found = departments().get(dept_id)
    return found["name"][lang] if found else dept_id


# ----- filing and looking up -------------------------------------------------------------------


def order_number(text: str) -> str | None:
    m = NUMBER.search(text or "")
    return f"GD{m.group(1)}-{m.group(2)}" if m else None


def request_key(session_id: str, details: dict) -> str:
    canonical = json.dumps({"session": session_id, **details}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _event(state: str, at: float, department: str = "", note: str = "", by: str = "") -> dict:
    return {"state": state, "at": at, "department": department, "note": note, "by": by}


def file_order(assistant, *, session_id: str, lang: str, kind: str, department: str, confidence: float,
               description: str, district: str, address: str, since: str, phone_hash: str = "",
               phone_masked: str = "") -> tuple[WorkOrder, bool]:
    """File a work order in one transaction; the same request again returns the first order (and False).

    The phone comes only as a keyed hash and masked (both empty for an anonymous request)."""
    details = {"kind": kind, "department": department, "description": description, "district": district,
               "address": address, "since": since, "phone": phone_hash}
    key = request_key(session_id, details)
    now = time.time()
    general = rules()["general"]["id"]
    history = [_event("received", now)] + ([] if department == general else [_event("dispatched", now, department)])
    try:
        with assistant.sessions.begin() as db:
            existing = db.query(WorkOrder).filter_by(request_key=key).one_or_none()
            if existing is not None:
                return existing, False
            order = WorkOrder(number=f"GD{assistant.today().year}-{secrets.randbelow(10**8):08d}", request_key=key,
                              session_id=session_id, lang=lang, kind=kind, department=department,
                              confidence=confidence, description=mask_pii(description)[:2000],
                              district=district, address=mask_pii(address)[:200], since=mask_pii(since)[:64],
                              phone_hash=phone_hash, phone_masked=mask_pii(phone_masked), state=history[-1]["state"],
                              history=history, created=now, updated=now,
                              due=now + 3600 * departments()[department]["hours"])
            db.add(order)
        return order, True
    except IntegrityError:  # the same confirmation arrived twice at the same moment
        with assistant.sessions() as db:
            return db.query(WorkOrder).filter_by(request_key=key).one(), False


def find(assistant, number: str) -> WorkOrder | None:
    with assistant.sessions() as db:
        return db.query(WorkOrder).filter_by(number=number).one_or_none()


def open_orders_of(assistant, phone_hash: str) -> list[WorkOrder]:
    """The open orders filed with this phone (by its digest), newest first."""
    with assistant.sessions() as db:
        return (db.query(WorkOrder).filter(WorkOrder.phone_hash == phone_hash, WorkOrder.state.in_(OPEN_STATES))
                .order_by(WorkOrder.created.desc()).limit(10).all())


def overdue(order: WorkOrder, now: float | None = None) -> bool:
    return order.state in OPEN_STATES and (now or time.time()) > order.due


def when(assistant, stamp: float) -> str:
    """A timestamp in the city's time zone, to the minute."""
    return local_minute(stamp, assistant.settings.timezone)


# ----- staff -----------------------------------------------------------------------------------


def as_json(assistant, order: WorkOrder, now: float | None = None) -> dict:
    return {"number": order.number, "kind": order.kind, "department": order.department,
            "department_name": department_name(order.department, "zh"), "state": order.state,
            "description": order.description, "district": order.district, "address": order.address,
            "since": order.since, "phone": order.phone_masked, "anonymous": not order.phone_hash,
            "reply": order.reply, "confidence": order.confidence, "created": order.created, "due": order.due,
            "updated": order.updated, "overdue": overdue(order, now), "history": list(order.history),
            "created_text": when(assistant, order.created), "due_text": when(assistant, order.due)}


def list_orders(assistant, *, department: str = "", states: tuple[str, ...] = OPEN_STATES,
                now: float | None = None) -> list[dict]:
    """Work orders in these states (optionally of one department), overdue first, then by due time."""
    with assistant.sessions() as db:
        query = db.query(WorkOrder).filter(WorkOrder.state.in_(states))
        if department:
            query = query.filter_by(department=department)
        items = [as_json(assistant, o, now) for o in query.all()]
    return sorted(items, key=lambda i: (not i["overdue"], i["due"], i["number"]))


def _act(assistant, number: str, staff: str, *, action: str, allowed: tuple[str, ...], change, scope: str = "") -> dict:
    """Change one order in a transaction with its audit row; `scope`: a department account's own department,
    whose staff are told an order of another department does not exist."""
    staff = (staff or "").strip()[:64]
    if not staff:
        raise WorkOrderError("give your name so colleagues see who handled the work order")
    with assistant.sessions.begin() as db:
        order = db.query(WorkOrder).filter_by(number=(number or "").strip()).with_for_update().one_or_none()
        if order is None or (scope and order.department != scope):
            raise NoSuchOrder(f"no work order {number}")
        if order.state not in allowed:
            raise WorkOrderError(f"work order {order.number} is {order.state}")
        now = time.time()
        event = change(order, now)
        event["by"] = staff
        order.history = [*order.history, event]
        order.state, order.updated = event["state"], now
        audit.write(db, actor=staff, action=action, target=order.number,
                    detail=f"{event['state']} {event.get('department', '')} {event.get('note', '')}".strip())
        return as_json(assistant, order)


def reassign(assistant, number: str, department: str, staff: str, scope: str = "") -> dict:
    """Send an open order to another department; its due time follows that department's limit."""
    if department not in departments():
        raise WorkOrderError(f"unknown department {department!r}")

    def change(order, now):
        order.department = department
        order.due = order.created + 3600 * departments()[department]["hours"]
        return _event("received" if department == rules()["general"]["id"] else "dispatched", now, department)
    return _act(assistant, number, staff, action="reassign", allowed=OPEN_STATES, change=change, scope=scope)


def start(assistant, number: str, staff: str, scope: str = "") -> dict:
    """The department has taken the order in hand."""
    return _act(assistant, number, staff, action="start", allowed=("dispatched",), scope=scope,
                change=lambda order, now: _event("in_progress", now, order.department))


def reply(assistant, number: str, text: str, staff: str, scope: str = "") -> dict:
    """The department's answer: the order is resolved and the citizen sees the reply."""
    text = mask_pii((text or "").strip())[:MAX_REPLY]
    if not text:
        raise WorkOrderError("write the reply the citizen will read")

    def change(order, now):
        order.reply = text
        return _event("resolved", now, order.department, note=text)
    return _act(assistant, number, staff, action="reply", allowed=("dispatched", "in_progress"), change=change,
                scope=scope)


def close(assistant, number: str, staff: str, scope: str = "") -> dict:
    """Close an order (after its reply, or a duplicate or spam at any time)."""
    return _act(assistant, number, staff, action="close_order", allowed=(*OPEN_STATES, "resolved"), scope=scope,
                change=lambda order, now: _event("closed", now, order.department))
