"""The operations dashboard's numbers about work orders: one SQL aggregate per chart, for a period (epoch
seconds [start, end)) or a moment, and a district ('' = every district). Each returns a pandas DataFrame
with raw values (state and department ids) that the staff page translates.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Float, and_, case, cast, desc, func, select

from assistant.services.dashboard import SAMPLE_PRIME, frame_of, sample_residues
from assistant.services.db import WorkOrder
from assistant.services.workorders import OPEN_STATES, departments

RESPONDED = ("in_progress", "resolved")  # a history event that is the department's first response
RESPONSE_SAMPLE = 10_000  # work orders whose history is read for the response and closing times, at most


def _orders(start: float, end: float, district: str):
    where = [WorkOrder.created >= start, WorkOrder.created < end]
    return and_(*where, WorkOrder.district == district) if district else and_(*where)


def orders_by(sessions, start: float, end: float, district: str, group: str) -> pd.DataFrame:
    """Work orders filed in the period per `group` ("department", "district" or "kind") and current state:
    columns <group>, state, count."""
    column = getattr(WorkOrder, group)
    query = (select(column, WorkOrder.state, func.count()).where(_orders(start, end, district))
             .group_by(column, WorkOrder.state).order_by(column, WorkOrder.state))
    with sessions() as db:
        return frame_of(db, query, [group, "state", "count"])


def overdue(sessions, now: float, district: str, limit: int = 50) -> pd.DataFrame:
    """The open work orders past their due time at `now`, whenever filed (a state now, not a period), most
    overdue first: columns number, department, district, state, due, hours_over."""
    query = (select(WorkOrder.number, WorkOrder.department, WorkOrder.district, WorkOrder.state, WorkOrder.due,
                    ((now - WorkOrder.due) / 3600.0).label("hours"))
             .where(WorkOrder.state.in_(OPEN_STATES), WorkOrder.due < now,
                    *([WorkOrder.district == district] if district else []))
             .order_by(WorkOrder.due, WorkOrder.number).limit(limit))
    with sessions() as db:
        frame = frame_of(db, query, ["number", "department", "district", "state", "due", "hours_over"])
    return frame.round({"hours_over": 1})


def overdue_by_department(sessions, now: float, district: str) -> pd.DataFrame:
    """How many open work orders are past their due time at `now`, per department: columns department, count."""
    query = (select(WorkOrder.department, func.count().label("n"))
             .where(WorkOrder.state.in_(OPEN_STATES), WorkOrder.due < now,
                    *([WorkOrder.district == district] if district else []))
             .group_by(WorkOrder.department).order_by(desc("n"), WorkOrder.department))
    with sessions() as db:
        return frame_of(db, query, ["department", "count"])


def _history_events(db):
    """The work orders' history events as a table, with each event's state and time (SQLite's json_each,
    PostgreSQL's json_array_elements)."""
    if db.get_bind().dialect.name == "postgresql":
        events = func.json_array_elements(WorkOrder.history).table_valued("value").alias("event")
        return events, events.c.value.op("->>")("state"), cast(events.c.value.op("->>")("at"), Float)
    events = func.json_each(WorkOrder.history).table_valued("value").alias("event")
    return events, func.json_extract(events.c.value, "$.state"), func.json_extract(events.c.value, "$.at")


def _medians(values) -> object:
    """Per department, the median of `values` (columns department, hours; NULL hours left out) by window
    functions: the middle row, or the mean of the two middle rows. Also how many values."""
    order = values.c.hours.nulls_last()  # the n values first; a NULL is not counted
    ranked = select(values.c.department, values.c.hours,
                    func.row_number().over(partition_by=values.c.department, order_by=order).label("rn"),
                    func.count(values.c.hours).over(partition_by=values.c.department).label("n")).subquery()
    return (select(ranked.c.department, func.avg(ranked.c.hours), func.max(ranked.c.n))
            .where(ranked.c.rn * 2 >= ranked.c.n, ranked.c.rn * 2 <= ranked.c.n + 2).group_by(ranked.c.department))


def response_times(sessions, start: float, end: float, district: str) -> pd.DataFrame:
    """Per department, of the work orders filed in the period: the median hours to the first response (the
    first in_progress or resolved event of the history), to closing (a closed order's last change is its
    closing) and the department's limit in hours. The first response needs each history's JSON (a few
    microseconds an order) and both medians a sort: above RESPONSE_SAMPLE orders in the period they are
    taken from a uniform sample of about that many (id modulo a prime), and the count of closed orders is
    scaled up by the share of the period's orders the sample holds. The state is tested in the selected
    value, not in the WHERE clause, so that SQLite walks the period on the created index rather than every
    order of a state.
    Columns department, first_response_h, closed, close_h, limit_h, sampled."""
    period = _orders(start, end, district)
    with sessions() as db:
        events, state, at = _history_events(db)
        total = db.scalar(select(func.count()).where(period)) or 0
        keep = sample_residues(total, RESPONSE_SAMPLE)
        sample = and_(period, WorkOrder.id % SAMPLE_PRIME < keep)
        read = db.scalar(select(func.count()).where(sample)) if keep < SAMPLE_PRIME else total
        answered = select(func.min(at)).select_from(events).where(state.in_(RESPONDED)).correlate(WorkOrder)
        hours = (answered.scalar_subquery() - WorkOrder.created) / 3600.0
        first = (select(WorkOrder.department, hours.label("hours")).where(sample)
                 .cte("first_response").prefix_with("MATERIALIZED"))  # each history parsed once
        hours = case((WorkOrder.state == "closed", (WorkOrder.updated - WorkOrder.created) / 3600.0))
        closed = select(WorkOrder.department, hours.label("hours")).where(sample).subquery()
        responded = frame_of(db, _medians(first), ["department", "first_response_h", "sampled_n"])
        done = frame_of(db, _medians(closed), ["department", "close_h", "closed"])
    frame = responded.drop(columns="sampled_n").merge(done, on="department", how="outer")
    limits = {key: float(d["hours"]) for key, d in departments().items()}
    frame["limit_h"] = frame["department"].map(limits)
    frame["closed"] = (frame["closed"].fillna(0) * total / max(read, 1)).round().astype(int)
    frame = frame.assign(sampled=keep < SAMPLE_PRIME)
    columns = ["department", "first_response_h", "closed", "close_h", "limit_h", "sampled"]
    return frame[columns].round(1).sort_values("department", ignore_index=True)
