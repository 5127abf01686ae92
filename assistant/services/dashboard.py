"""The operations dashboard's numbers: one SQL aggregate per chart, for a period and, for work orders, a district.

Every function takes a sessionmaker and a period as epoch seconds [start, end); those with days take the
city's time zone. Each returns a pandas DataFrame with plain column names and raw values (domain folders,
statuses, state and department ids); the staff page translates them. Messages carry no district, so
only the work-order charts take one ('' = every district). Days are counted in SQL with one UTC offset
for the whole period (the zone's offset at its middle): in a zone with summer time, the hour around a
change that falls inside the period lands on the neighbouring day. The queries rely on the indexes of
`ensure_indexes`; bench/dashboard.py times them at 1 million messages and 100,000 work orders.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Float, Integer, and_, case, cast, desc, func, select, text
from sqlalchemy.orm import aliased

from assistant.services.db import Feedback, Message, WorkOrder
from assistant.services.workorders import OPEN_STATES, departments

DAY = 86400
OUTCOMES = {"answered": ("answered", "asking", "booked", "cancelled"), "refused": ("refused",),
            "handoff": ("handoff",), "emergency": ("emergency",)}  # any other status counts as "other"
UNANSWERED = ("refused", "handoff")
RESPONDED = ("in_progress", "resolved")  # a history event that is the department's first response
SAMPLE_PRIME = 1009  # the modulus of the uniform samples by id
TOPIC_SAMPLE = 20_000  # answered replies whose citations are read for the topics, at most
RESPONSE_SAMPLE = 10_000  # work orders whose history is read for the first response, at most
PUNCTUATION = " \t\n?？。.!！,，、~～…\"“”'‘’"
INDEXES = {  # name: (table, columns); covering indexes of the dashboard's range scans over a period
    "ix_messages_dashboard": ("messages", "role, created, status, domain, kind"),
    "ix_work_orders_dashboard": ("work_orders", "created, district, department, state, updated"),
}


def ensure_indexes(engine) -> None:
    """Create the indexes the dashboard's queries need, if missing (SQLite and PostgreSQL)."""
    with engine.begin() as connection:
        for name, (table, columns) in INDEXES.items():
            connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"))


def last_days(days: int, timezone: str, now: float) -> tuple[float, float]:
    """The period of the last `days` local days, today included: from local midnight until `now`."""
    today = dt.datetime.fromtimestamp(now, ZoneInfo(timezone)).date()
    first = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), ZoneInfo(timezone))
    return first.timestamp(), now


def _offset(start: float, end: float, timezone: str) -> int:
    middle = dt.datetime.fromtimestamp((start + end) / 2, ZoneInfo(timezone))
    return int(middle.utcoffset().total_seconds())


def _day(db, column, offset: int):
    """The local day number of an epoch column (days since 1970-01-01, local): truncation in SQLite, floor elsewhere."""
    shifted = (column + offset) / DAY
    return cast(shifted, Integer) if db.get_bind().dialect.name == "sqlite" else cast(func.floor(shifted), Integer)


def _day_text(number: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(number))).isoformat()


def _frame(db, query, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(row) for row in db.execute(query)], columns=columns)


def _replies(start: float, end: float):
    return and_(Message.role == "assistant", Message.created >= start, Message.created < end)


def _orders(start: float, end: float, district: str):
    where = [WorkOrder.created >= start, WorkOrder.created < end]
    return and_(*where, WorkOrder.district == district) if district else and_(*where)


def _per_day(sessions, start, end, timezone, key, *where) -> pd.DataFrame:
    """Replies of the period counted per local day and `key` (a column or expression labelled "key")."""
    with sessions() as db:
        day = _day(db, Message.created, _offset(start, end, timezone)).label("day")
        query = (select(day, key, func.count()).where(_replies(start, end), *where)
                 .group_by(day, key).order_by(day, key))
        frame = _frame(db, query, ["day", "key", "count"])
    frame["day"] = frame["day"].map(_day_text)
    return frame


def questions_per_day(sessions, start: float, end: float, timezone: str) -> pd.DataFrame:
    """Questions (one per reply) per local day and domain: columns day, domain, count."""
    return _per_day(sessions, start, end, timezone, Message.domain.label("key")).rename(columns={"key": "domain"})


def outcomes_per_day(sessions, start: float, end: float, timezone: str) -> pd.DataFrame:
    """The replies of each local day by outcome (OUTCOMES, else "other"): columns day, outcome, count, share."""
    by_status = _per_day(sessions, start, end, timezone, Message.status.label("key"))
    outcome = {status: name for name, statuses in OUTCOMES.items() for status in statuses}
    by_status["outcome"] = by_status["key"].map(outcome).fillna("other")
    frame = by_status.groupby(["day", "outcome"], as_index=False)["count"].sum()
    frame["share"] = (frame["count"] / frame.groupby("day")["count"].transform("sum")).round(4)
    return frame


def emergencies_per_day(sessions, start: float, end: float, timezone: str) -> pd.DataFrame:
    """Emergency replies per local day and kind ('' when the kind was not recorded): columns day, kind, count."""
    frame = _per_day(sessions, start, end, timezone, Message.kind.label("key"), Message.status == "emergency")
    return frame.rename(columns={"key": "kind"})


def top_topics(sessions, start: float, end: float, limit: int = 10) -> pd.DataFrame:
    """The guides answered most often: answered replies grouped by the title of their first citation (JSON
    path `citations[0].title`, which SQLAlchemy writes for SQLite and PostgreSQL alike). Reading that JSON
    costs a row read and a parse per reply, so above TOPIC_SAMPLE answered replies in the period only a
    uniform sample of about that many is read (id modulo a prime) and the counts are scaled up: the cost
    stays bounded whatever the period. Columns title, domain, count, sampled (True when estimated)."""
    answered = and_(_replies(start, end), Message.status == "answered")
    title = Message.citations[(0, "title")].as_string().label("title")
    with sessions() as db:
        keep = _sample(db, answered, TOPIC_SAMPLE)
        query = (select(title, func.max(Message.domain), func.count().label("n"))
                 .where(answered, Message.id % SAMPLE_PRIME < keep)
                 .group_by(title).order_by(desc("n"), title).limit(limit + 1))
        frame = _frame(db, query, ["title", "domain", "count"])
    frame = frame.dropna(subset=["title"]).head(limit).reset_index(drop=True)  # replies citing nothing
    frame["count"] = (frame["count"] * SAMPLE_PRIME / keep).round().astype(int)
    frame["sampled"] = keep < SAMPLE_PRIME
    return frame


def _sample(db, where, cap: int) -> int:
    """How many residues of an id modulo SAMPLE_PRIME to keep so that about `cap` of the rows `where` selects
    are read (all of them: SAMPLE_PRIME). Ids are given in order, so the residues spread evenly over time."""
    total = db.scalar(select(func.count()).where(where)) or 0
    return min(SAMPLE_PRIME, -(-SAMPLE_PRIME * cap // max(total, 1)))


def _normalised(column):
    """A text without case and without the spaces and punctuation around it (SQLite and PostgreSQL alike)."""
    return func.lower(func.ltrim(func.rtrim(column, PUNCTUATION), PUNCTUATION))


def _question_id(reply):
    """The id of the citizen's message a reply answers: the session's last user message before it."""
    asked = aliased(Message)
    return (select(func.max(asked.id)).where(asked.session_id == reply.session_id, asked.role == "user",
                                             asked.id < reply.id).correlate(reply).scalar_subquery())


def unanswered(sessions, start: float, end: float, limit: int = 20) -> pd.DataFrame:
    """The questions whose reply was refused or handed off, grouped by their text without case and without
    the spaces and punctuation around it, most frequent first: columns question (one of its wordings), count,
    last (epoch of the last reply)."""
    replies = (select(_question_id(Message).label("qid"), Message.created)
               .where(_replies(start, end), Message.status.in_(UNANSWERED)).subquery())
    asked = aliased(Message)
    key = _normalised(asked.text)
    query = (select(func.min(asked.text), func.count().label("n"), func.max(replies.c.created))
             .join(asked, asked.id == replies.c.qid).group_by(key).order_by(desc("n")).limit(limit))
    with sessions() as db:
        return _frame(db, query, ["question", "count", "last"])


def ratings_by_domain(sessions, start: float, end: float) -> pd.DataFrame:
    """Thumbs given in the period, per domain of the rated reply: columns domain, rating ("up"/"down"), count."""
    rating = case((Feedback.helpful, "up"), else_="down").label("rating")
    query = (select(Message.domain, rating, func.count()).join(Message, Message.id == Feedback.message_id)
             .where(Feedback.created >= start, Feedback.created < end)
             .group_by(Message.domain, rating).order_by(Message.domain, rating))
    with sessions() as db:
        return _frame(db, query, ["domain", "rating", "count"])


def worst_rated(sessions, start: float, end: float, limit: int = 20) -> pd.DataFrame:
    """The replies rated down most in the period (then the most recent), with the question, the answer and a
    comment: columns created, domain, question, answer, down, up, comment."""
    down = func.sum(case((Feedback.helpful, 0), else_=1))
    rated = (select(Feedback.message_id.label("id"), down.label("down"),
                    func.sum(case((Feedback.helpful, 1), else_=0)).label("up"),
                    func.max(case((Feedback.helpful, ""), else_=Feedback.comment)).label("comment"),
                    func.max(Feedback.created).label("last"))
             .where(Feedback.created >= start, Feedback.created < end, Feedback.message_id.isnot(None))
             .group_by(Feedback.message_id).having(down > 0).order_by(down.desc(), desc("last"))
             .limit(limit).subquery())
    asked = aliased(Message)
    question = select(asked.text).where(asked.id == _question_id(Message)).scalar_subquery()
    query = (select(Message.created, Message.domain, question, Message.text, rated.c.down, rated.c.up,
                    rated.c.comment).select_from(rated).join(Message, Message.id == rated.c.id)
             .order_by(rated.c.down.desc(), rated.c.last.desc()))
    with sessions() as db:
        frame = _frame(db, query, ["created", "domain", "question", "answer", "down", "up", "comment"])
    return frame.fillna({"question": "", "comment": ""})


def orders_by(sessions, start: float, end: float, district: str, group: str) -> pd.DataFrame:
    """Work orders filed in the period per `group` ("department", "district" or "kind") and current state:
    columns <group>, state, count."""
    column = getattr(WorkOrder, group)
    query = (select(column, WorkOrder.state, func.count()).where(_orders(start, end, district))
             .group_by(column, WorkOrder.state).order_by(column, WorkOrder.state))
    with sessions() as db:
        return _frame(db, query, [group, "state", "count"])


def overdue(sessions, now: float, district: str, limit: int = 50) -> pd.DataFrame:
    """The open work orders past their due time at `now`, whenever filed (a state now, not a period), most
    overdue first: columns number, department, district, state, due, hours_over."""
    query = (select(WorkOrder.number, WorkOrder.department, WorkOrder.district, WorkOrder.state, WorkOrder.due,
                    ((now - WorkOrder.due) / 3600.0).label("hours"))
             .where(WorkOrder.state.in_(OPEN_STATES), WorkOrder.due < now,
                    *([WorkOrder.district == district] if district else []))
             .order_by(WorkOrder.due, WorkOrder.number).limit(limit))
    with sessions() as db:
        frame = _frame(db, query, ["number", "department", "district", "state", "due", "hours_over"])
    return frame.round({"hours_over": 1})


def overdue_by_department(sessions, now: float, district: str) -> pd.DataFrame:
    """How many open work orders are past their due time at `now`, per department: columns department, count."""
    query = (select(WorkOrder.department, func.count().label("n"))
             .where(WorkOrder.state.in_(OPEN_STATES), WorkOrder.due < now,
                    *([WorkOrder.district == district] if district else []))
             .group_by(WorkOrder.department).order_by(desc("n"), WorkOrder.department))
    with sessions() as db:
        return _frame(db, query, ["department", "count"])


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
    microseconds an order): above RESPONSE_SAMPLE orders in the period it is read from a uniform sample of
    about that many (id modulo a prime). The state is tested in the selected value, not in the WHERE clause,
    so that SQLite walks the period on the created index rather than every order of a state.
    Columns department, first_response_h, closed, close_h, limit_h, sampled."""
    period = _orders(start, end, district)
    with sessions() as db:
        events, state, at = _history_events(db)
        keep = _sample(db, period, RESPONSE_SAMPLE)
        answered = select(func.min(at)).select_from(events).where(state.in_(RESPONDED)).correlate(WorkOrder)
        hours = (answered.scalar_subquery() - WorkOrder.created) / 3600.0
        first = (select(WorkOrder.department, hours.label("hours"))
                 .where(period, WorkOrder.id % SAMPLE_PRIME < keep)
                 .cte("first_response").prefix_with("MATERIALIZED"))  # each history parsed once
        hours = case((WorkOrder.state == "closed", (WorkOrder.updated - WorkOrder.created) / 3600.0))
        closed = select(WorkOrder.department, hours.label("hours")).where(period).subquery()
        responded = _frame(db, _medians(first), ["department", "first_response_h", "sampled_n"])
        done = _frame(db, _medians(closed), ["department", "close_h", "closed"])
    frame = responded.drop(columns="sampled_n").merge(done, on="department", how="outer")
    limits = {key: float(d["hours"]) for key, d in departments().items()}
    frame["limit_h"] = frame["department"].map(limits)
    frame = frame.fillna({"closed": 0}).astype({"closed": int}).assign(sampled=keep < SAMPLE_PRIME)
    columns = ["department", "first_response_h", "closed", "close_h", "limit_h", "sampled"]
    return frame[columns].round(1).sort_values("department", ignore_index=True)
