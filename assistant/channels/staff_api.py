"""Staff REST routes: guides, hand-off tickets, work orders, gaps, the audit log. Each route names the door
it opens (services/access.py) and the server checks the caller's role there, for every request.

A caller is a staff account, by `Authorization: Bearer <personal token>` (`citydesk staff token NAME`) or
by the staff page's session cookie; the deprecated shared CITYDESK_STAFF_TOKEN still signs in as an admin.
"""

from __future__ import annotations

import secrets
from typing import Callable

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from assistant.services import accounts, audit, guides, staff, workorders
from assistant.services.access import DOORS, LEGACY_ADMIN, Principal, allowed, order_department, sees_order, sees_transcript

COOKIE = "citydesk_staff"


class TicketAction(BaseModel):
    staff: str = Field(default="", max_length=64)  # only with the shared token: who acts


class OrderAction(BaseModel):
    staff: str = Field(default="", max_length=64)  # only with the shared token: who acts
    department: str = Field(default="", max_length=48)
    reply: str = Field(default="", max_length=workorders.MAX_REPLY)


def principal_of(assistant, token: str, *, bearer: str, cookie: str) -> Principal | None:
    """The staff member behind a request's bearer token or session cookie, or None."""
    if bearer and token and secrets.compare_digest(bearer.encode(), token.encode()):
        return LEGACY_ADMIN
    return (accounts.resolve(assistant.sessions, bearer, "token") if bearer else None) or \
        accounts.resolve(assistant.sessions, cookie, "session")


def staff_guard(assistant, token: str, limited) -> Callable[[str], Depends]:
    """`door(name)`: a route dependency that returns the caller's Principal, or answers 401/403."""

    def caller(request: Request) -> Principal:
        limited(request)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        found = principal_of(assistant, token, bearer=bearer, cookie=request.cookies.get(COOKIE, ""))
        if found is not None:
            return found
        if not token and not accounts.any_account(assistant.sessions):
            raise HTTPException(403, "the staff API is disabled: create an account with `citydesk staff add` "
                                     "(or set the deprecated CITYDESK_STAFF_TOKEN)")
        raise HTTPException(401, "staff token missing or wrong (Authorization: Bearer <personal token>, "
                                 "see `citydesk staff token NAME`)", headers={"WWW-Authenticate": "Bearer"})

    def door(name: str):
        """`name` "": any signed-in staff member."""
        def check(who: Principal = Depends(caller)) -> Principal:
            if name and not allowed(who, name):
                raise HTTPException(403, f"your role ({who.role}) does not open {name}")
            return who
        return Depends(check)
    return door


def actor(who: Principal, named: str) -> str:
    """The name written in the record: the account's, or (shared token only) the name the caller gave."""
    return named if who.via == "legacy" else who.name


def add_staff_routes(app: FastAPI, assistant, door) -> None:
    """Who am I, tickets, gaps and the audit log (guides: add_guide_routes; work orders: add_order_routes)."""

    @app.get("/api/staff/me", tags=["staff"])
    def me(who: Principal = door("")):
        """Who the credentials sign in as, and the doors that role opens."""
        return {"name": who.name, "role": who.role, "department": who.department, "via": who.via,
                "doors": [d for d in DOORS if allowed(who, d)]}

    @app.get("/api/staff/tickets", tags=["staff"])
    def tickets(status: str = "open,claimed", who: Principal = door("tickets")):
        """The queue; an agent reads the transcript only of the tickets it claimed."""
        items = staff.tickets(assistant, tuple(s.strip() for s in status.split(",")))
        shown = [i if sees_transcript(who, i["claimed_by"]) else {**i, "transcript": None} for i in items]
        read = [i["number"] for i in shown if i["transcript"] is not None]
        if read:
            audit.record(assistant.sessions, actor=who.name, action="read_transcript", target=",".join(read)[:200],
                         detail=f"{len(read)} over the API")
        return shown

    @app.post("/api/staff/tickets/{number}/{action}", tags=["staff"])
    def ticket_action(number: str, action: str, body: TicketAction, who: Principal = door("tickets")):
        if action not in ("claim", "close"):
            raise HTTPException(404, f"unknown ticket action {action!r}; use claim or close")
        try:
            return (staff.claim if action == "claim" else staff.close)(assistant, number, actor(who, body.staff))
        except staff.StaffError as exc:
            raise HTTPException(404 if isinstance(exc, staff.NotFound) else 409, str(exc)) from None

    @app.get("/api/staff/gaps", tags=["staff"])
    def gaps(who: Principal = door("gaps")):
        return staff.gaps(assistant)

    @app.get("/api/staff/audit", tags=["staff"])
    def audit_log(actor_name: str = "", action: str = "", who: Principal = door("audit")):
        return audit.entries(assistant.sessions, actor=actor_name, action=action)

    @app.get("/api/staff/audit.csv", tags=["staff"])
    def audit_csv(actor_name: str = "", action: str = "", who: Principal = door("audit")):
        rows = audit.entries(assistant.sessions, actor=actor_name, action=action, limit=100_000)
        return Response(audit.as_csv(rows, lambda at: workorders.when(assistant, at)), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="citydesk-audit.csv"'})


def add_guide_routes(app: FastAPI, assistant, door) -> None:
    """The guides: list, upload, delete, release from quarantine, re-index."""

    @app.get("/api/staff/files", tags=["staff"])
    def files(who: Principal = door("guides")):
        return guides.files(assistant)

    @app.post("/api/staff/upload", tags=["staff"], status_code=201)
    def upload(file: UploadFile = File(...), domain: str = Form(...), who: Principal = door("guides")):
        """Add or replace a guide in knowledge/<domain>/ (checked like ingestion), then re-index."""
        data = file.file.read(int(assistant.settings.max_file_mb * 1e6) + 1)
        try:
            path = guides.save_upload(assistant, filename=file.filename or "", data=data, domain=domain, actor=who.name)
            report = guides.reindex(assistant, actor=who.name)
        except staff.StaffError as exc:
            raise HTTPException(400, str(exc)) from None
        return {"path": path, "report": report.as_json()}

    @app.delete("/api/staff/files/{path:path}", tags=["staff"])
    def delete(path: str, who: Principal = door("guides")):
        """Take a guide out of knowledge/ (kept under CITYDESK_HOME/deleted/), then re-index."""
        try:
            kept = guides.delete_guide(assistant, path, actor=who.name)
            report = guides.reindex(assistant, actor=who.name)
        except staff.StaffError as exc:
            raise HTTPException(404 if isinstance(exc, staff.NotFound) else 503, str(exc)) from None
        return {"path": path, "kept": kept, "report": report.as_json()}

    @app.post("/api/staff/files/{path:path}/release", tags=["staff"])
    def release(path: str, who: Principal = door("guides")):
        """Release a guide quarantined for review (an editor has read it), then re-index."""
        try:
            guides.release_guide(assistant, path, actor=who.name)
            report = guides.reindex(assistant, actor=who.name)
        except staff.StaffError as exc:
            raise HTTPException(404 if isinstance(exc, staff.NotFound) else 503, str(exc)) from None
        return {"path": path, "report": report.as_json()}

    @app.post("/api/staff/reindex", tags=["staff"])
    def reindex(who: Principal = door("guides")):
        try:
            return guides.reindex(assistant, actor=who.name).as_json()
        except staff.StaffError as exc:
            raise HTTPException(503, str(exc)) from None


def add_order_routes(app: FastAPI, assistant, door) -> None:
    """Work orders: a department account lists and acts on its own department's orders only."""

    @app.get("/api/staff/orders", tags=["staff"])
    def orders(department: str = "", state: str = ",".join(workorders.OPEN_STATES), who: Principal = door("orders")):
        """Work orders of one department (or all) in these states, overdue first."""
        states = tuple(s.strip() for s in state.split(",") if s.strip())
        unknown = [s for s in states if s not in workorders.STATES]
        if unknown or (department and department not in workorders.departments()):
            raise HTTPException(400, f"unknown state or department: {', '.join(unknown) or department}; "
                                     f"states are {', '.join(workorders.STATES)}")
        if who.role == "department" and department not in ("", who.department):
            raise HTTPException(403, "a department account sees its own department's work orders only")
        return workorders.list_orders(assistant, department=order_department(who, department), states=states)

    @app.get("/api/staff/departments", tags=["staff"])
    def departments(who: Principal = door("orders")):
        return [{"id": d["id"], "name": d["name"], "hours": d["hours"]} for d in workorders.departments().values()]

    @app.get("/api/staff/orders/{number}", tags=["staff"])
    def order(number: str, who: Principal = door("orders")):
        found = workorders.find(assistant, number)
        if found is None or not sees_order(who, found.department):
            raise HTTPException(404, f"no work order {number}")
        return workorders.as_json(assistant, found)

    @app.post("/api/staff/orders/{number}/{action}", tags=["staff"])
    def order_action(number: str, action: str, body: OrderAction, who: Principal = door("orders")):
        """reassign (needs `department`), start, reply (needs `reply`: the citizen reads it), close."""
        scope = who.department if who.role == "department" else ""
        name = actor(who, body.staff)
        try:
            if action == "reassign":
                if not allowed(who, "orders.reassign"):
                    raise HTTPException(403, f"your role ({who.role}) cannot reassign work orders")
                return workorders.reassign(assistant, number, body.department, name)
            if action == "reply":
                return workorders.reply(assistant, number, body.reply, name, scope=scope)
            if action in ("start", "close"):
                return getattr(workorders, action)(assistant, number, name, scope=scope)
        except workorders.WorkOrderError as exc:
            raise HTTPException(404 if isinstance(exc, workorders.NoSuchOrder) else 409, str(exc)) from None
        raise HTTPException(404, f"unknown action {action!r}; use reassign, start, reply or close")
