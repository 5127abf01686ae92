"""The operations dashboard's numbers about questions and replies (dashboard_orders: about work orders): one
SQL aggregate per chart, for a period.

Every function takes a sessionmaker and a period as epoch seconds [start, end); those with days take the
city's time zone. Each returns a pandas DataFrame with plain column names and raw values (domain folders,
statuses); the staff page translates them. Messages carry no district, so only the work-order charts
take one. Days are counted in SQL with one UTC offset
for the whole period (the zone's offset at its middle): in a zone with summer time, the hour around a
change that falls inside the period lands on the neighbouring day. The queries rely on the indexes of
`ensure_indexes` (both modules') and the hourly reply counts; bench/dashboard.py times them at 1 million
messages and 100,000 work orders.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, case, desc, false, func, select, text
from sqlalchemy.orm import aliased

from assistant.services.database import buckets
from assistant.services.db import HOUR, Feedback, Message, ReplyCount

DAY = 86400
OUTCOMES = {"answered": ("answered", "asking", "booked", "cancelled"), "refused": ("refused",),
            "handoff": ("handoff",), "emergency": ("emergency",)}  # any other status counts as "other"
UNANSWERED = ("refused", "handoff")
SAMPLE_PRIME = 1009  # the modulus of the uniform samples by id
TOPIC_SAMPLE = 20_000  # answered replies whose citations are read for the topics, at most
UNANSWERED_SAMPLE = 20_000  # refused and handed-off replies whose question is looked up, at most
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
    """The local day number of an epoch column (days since 1970-01-01, local)."""
    return buckets(db.get_bind().dialect.name, column + offset, DAY)


def _day_text(number: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(number))).isoformat()


def frame_of(db, query, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(row) for row in db.execute(query)], columns=columns)


def sample_residues(total: int, cap: int) -> int:
    """How many residues of an id modulo SAMPLE_PRIME to keep so that about `cap` of `total` rows are read (all
    of them: SAMPLE_PRIME). Ids are given in order, so the residues spread evenly over time."""
    return min(SAMPLE_PRIME, -(-SAMPLE_PRIME * cap // max(total, 1)))


def _replies(start: float, end: float):
    """The replies stored in the period, copies of earlier turns (openai_compat) left out."""
    return and_(Message.role == "assistant", Message.created >= start, Message.created < end,
                Message.copied == false())


def _hours(start: float, end: float):
    """The hourly counts of the period, widened to whole UTC hours."""
    return and_(ReplyCount.hour >= int(start // HOUR), ReplyCount.hour < -int(-end // HOUR))


def _per_day(sessions, start, end, timezone, key, *where) -> pd.DataFrame:
    """Replies of the period counted per local day and `key` (a column of ReplyCount labelled "key"), from the
    hourly counts: the period is widened to whole UTC hours (it starts at a local midnight, and no reply is
    stored after now), and in a zone whose offset is not whole hours a reply within the half hour around
    midnight lands on the neighbouring day."""
    with sessions() as db:
        day = _day(db, ReplyCount.hour * HOUR, _offset(start, end, timezone)).label("day")
        query = (select(day, key, func.sum(ReplyCount.count))
                 .where(_hours(start, end), *where)
                 .group_by(day, key).order_by(day, key))
        frame = frame_of(db, query, ["day", "key", "count"])
    frame["day"] = frame["day"].map(_day_text)
    return frame


def questions_per_day(sessions, start: float, end: float, timezone: str) -> pd.DataFrame:
    """Questions (one per reply) per local day and domain: columns day, domain, count."""
    return _per_day(sessions, start, end, timezone, ReplyCount.domain.label("key")).rename(columns={"key": "domain"})


def outcomes_per_day(sessions, start: float, end: float, timezone: str) -> pd.DataFrame:
    """The replies of each local day by outcome (OUTCOMES, else "other"): columns day, outcome, count, share."""
    by_status = _per_day(sessions, start, end, timezone, ReplyCount.status.label("key"))
    outcome = {status: name for name, statuses in OUTCOMES.items() for status in statuses}
    by_status["outcome"] = by_status["key"].map(outcome).fillna("other")
    frame = by_status.groupby(["day", "outcome"], as_index=False)["count"].sum()
    frame["share"] = (frame["count"] / frame.groupby("day")["count"].transform("sum")).round(4)
    return frame


def emergencies_per_day(sessions, start: float, end: float, timezone: str) -> pd.DataFrame:
    """Emergency replies per local day and kind ('' when the kind was not recorded): columns day, kind, count."""
    frame = _per_day(sessions, start, end, timezone, ReplyCount.kind.label("key"), ReplyCount.status == "emergency")
    return frame.rename(columns={"key": "kind"})


def top_topics(sessions, start: float, end: float, limit: int = 10) -> pd.DataFrame:
    """The guides answered most often: answered replies grouped by the guide of their first citation (JSON
    path `citations[0].doc`, which SQLAlchemy writes for SQLite and PostgreSQL alike), named by its title
    (of the titles a guide was cited by, the greatest: a Chinese-only guide cited in an English reply as
    "Nursing Home Admission (养老机构入住…)" is shown by its Chinese title). Reading that JSON costs a row
    read and a parse per reply, so above TOPIC_SAMPLE answered replies in the period only a uniform sample
    of about that many is read (id modulo a prime) and the counts are scaled up by the share of the
    period's answered replies (the hourly counts) that it read: the cost stays bounded whatever the
    period. Columns title, domain, count, sampled (True when estimated)."""
    answered = and_(_replies(start, end), Message.status == "answered")
    doc = Message.citations[(0, "doc")].as_string()
    title = func.max(Message.citations[(0, "title")].as_string()).label("title")
    with sessions() as db:
        total = _replies_of(db, start, end, ["answered"])
        keep = sample_residues(total, TOPIC_SAMPLE)
        query = (select(title, func.max(Message.domain), func.count().label("n"), _read())
                 .where(answered, Message.id % SAMPLE_PRIME < keep)
                 .group_by(doc).order_by(desc("n"), title).limit(limit + 1))
        frame = _scaled(frame_of(db, query, ["title", "domain", "count", "read"]), total, keep)
    return frame.dropna(subset=["title"]).head(limit).reset_index(drop=True)  # replies citing nothing


def _read():
    """Beside each group of a sampled query: how many rows the sample read in all (before any LIMIT)."""
    return func.sum(func.count()).over().label("read")


def _scaled(frame: pd.DataFrame, total: int, keep: int, column: str = "count") -> pd.DataFrame:
    """A sampled query's counts scaled to `total` rows by the share the sample read (its "read" column,
    dropped), rounded; the column "sampled" says whether they are estimates."""
    if keep < SAMPLE_PRIME and len(frame):
        frame[column] = (frame[column] * total / frame["read"]).round()
    frame[column] = frame[column].astype(int)
    return frame.drop(columns="read").assign(sampled=keep < SAMPLE_PRIME)


def _replies_of(db, start: float, end: float, statuses) -> int:
    """How many replies of the period have one of `statuses`, from the hourly counts (whole hours)."""
    return db.scalar(select(func.sum(ReplyCount.count)).where(_hours(start, end), ReplyCount.status.in_(statuses))) or 0


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
    the spaces and punctuation around it, most frequent first. Finding each reply's question costs a lookup,
    so above UNANSWERED_SAMPLE such replies in the period a uniform sample of about that many is read and
    the counts are scaled up, as for the topics. Columns question (one of its wordings), count, last (epoch
    of the last reply read), sampled."""
    with sessions() as db:
        total = _replies_of(db, start, end, UNANSWERED)
        keep = sample_residues(total, UNANSWERED_SAMPLE)
        replies = (select(_question_id(Message).label("qid"), Message.created)
                   .where(_replies(start, end), Message.status.in_(UNANSWERED), Message.id % SAMPLE_PRIME < keep)
                   .subquery())
        asked = aliased(Message)
        query = (select(func.min(asked.text), func.count().label("n"), func.max(replies.c.created), _read())
                 .join(asked, asked.id == replies.c.qid).group_by(_normalised(asked.text)).order_by(desc("n"))
                 .limit(limit))
        return _scaled(frame_of(db, query, ["question", "count", "last", "read"]), total, keep)


def ratings_by_domain(sessions, start: float, end: float) -> pd.DataFrame:
    """Thumbs given in the period, per domain of the rated reply: columns domain, rating ("up"/"down"), count."""
    rating = case((Feedback.helpful, "up"), else_="down").label("rating")
    query = (select(Message.domain, rating, func.count()).join(Message, Message.id == Feedback.message_id)
             .where(Feedback.created >= start, Feedback.created < end)
             .group_by(Message.domain, rating).order_by(Message.domain, rating))
    with sessions() as db:
        return frame_of(db, query, ["domain", "rating", "count"])


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
        frame = frame_of(db, query, ["created", "domain", "question", "answer", "down", "up", "comment"])
    return frame.fillna({"question": "", "comment": ""})
