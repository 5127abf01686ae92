"""Staff REST routes for work orders (citizen requests): list by department and state, reassign, start,
reply, close. Added by `api._add_staff_routes` with its guard, so every route needs the staff token."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from assistant.services import workorders


class OrderAction(BaseModel):
    staff: str = Field(min_length=1, max_length=64)
    department: str = Field(default="", max_length=48)
    reply: str = Field(default="", max_length=workorders.MAX_REPLY)


def add_order_routes(app: FastAPI, assistant, guarded: list) -> None:
    """`guarded`: the dependencies that check the staff token (the same as the other staff routes)."""

    @app.get("/api/staff/orders", tags=["staff"], dependencies=guarded)
    def orders(department: str = "", state: str = ",".join(workorders.OPEN_STATES)):
        """Work orders of one department (or all) in these states, overdue first."""
        states = tuple(s.strip() for s in state.split(",") if s.strip())
        unknown = [s for s in states if s not in workorders.STATES]
        if unknown or (department and department not in workorders.departments()):
            raise HTTPException(400, f"unknown state or department: {', '.join(unknown) or department}; "
                                     f"states are {', '.join(workorders.STATES)}")
        return workorders.list_orders(assistant, department=department, states=states)

    @app.get("/api/staff/departments", tags=["staff"], dependencies=guarded)
    def departments():
        return [{"id": d["id"], "name": d["name"], "hours": d["hours"]} for d in workorders.departments().values()]

    @app.post("/api/staff/orders/{number}/{action}", tags=["staff"], dependencies=guarded)
    def order_action(number: str, action: str, body: OrderAction):
        """reassign (needs `department`), start, reply (needs `reply`: the citizen reads it), close."""
        try:
            if action == "reassign":
                return workorders.reassign(assistant, number, body.department, body.staff)
            if action == "reply":
                return workorders.reply(assistant, number, body.reply, body.staff)
            if action in ("start", "close"):
                return getattr(workorders, action)(assistant, number, body.staff)
        except workorders.WorkOrderError as exc:
            raise HTTPException(404 if str(exc).startswith("no work order") else 409, str(exc)) from None
        raise HTTPException(404, f"unknown action {action!r}; use reassign, start, reply or close")
