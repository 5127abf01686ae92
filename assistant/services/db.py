"""SQLAlchemy models and the session factory: sessions, messages, the seed tables, bookings, tickets.

Nothing here holds a phone or ID number in the clear: phones are stored as a keyed hash (to check
"the phone given for this booking") plus a masked form for display.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine,
                        event, inspect)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

BUSY_TIMEOUT = 15.0  # seconds a SQLite statement waits for another writer's lock before "database is locked"


class Base(DeclarativeBase):
    pass


def new_id() -> str:
    return uuid.uuid4().hex


class Conversation(Base):
    """A citizen's session: language, the active skill and its slots, the last topic."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    created: Mapped[float] = mapped_column(Float, default=time.time)
    updated: Mapped[float] = mapped_column(Float, default=time.time)


class Message(Base):
    """One turn's text (masked), who said it, and what the assistant did with it."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="")
    skill: Mapped[str] = mapped_column(String(32), default="")
    citations: Mapped[list] = mapped_column(JSON, default=list)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created: Mapped[float] = mapped_column(Float, default=time.time, index=True)
    domain: Mapped[str] = mapped_column(String(32), default="", index=True)  # guide folder or skill area
    kind: Mapped[str] = mapped_column(String(32), default="")  # the emergency kind, on emergency replies


class Thread(Base):
    """A stateless OpenAI client's conversation so far, as a digest of its messages, and the session
    that answered its last turn: the client's next request, carrying that history, continues a copy."""

    __tablename__ = "threads"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    created: Mapped[float] = mapped_column(Float, default=time.time)


class Hospital(Base):
    __tablename__ = "hospitals"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[dict] = mapped_column(JSON)
    level: Mapped[dict] = mapped_column(JSON)
    district: Mapped[dict] = mapped_column(JSON)
    address: Mapped[dict] = mapped_column(JSON)
    phone: Mapped[str] = mapped_column(String(32))


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hospital_id: Mapped[str] = mapped_column(ForeignKey("hospitals.id"), index=True)
    code: Mapped[str] = mapped_column(String(48))
    name: Mapped[dict] = mapped_column(JSON)
    treats: Mapped[dict] = mapped_column(JSON)
    suspended: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Doctor(Base):
    __tablename__ = "doctors"
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[dict] = mapped_column(JSON)
    title: Mapped[dict] = mapped_column(JSON)
    fee_yuan: Mapped[int] = mapped_column(Integer)
    schedule: Mapped[list] = mapped_column(JSON)


class Slot(Base):
    """A 30-minute appointment; `booking_code` is set by the one booking that holds it."""

    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("doctor_id", "day", "start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    start: Mapped[str] = mapped_column(String(5))
    booking_code: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Booking(Base):
    """An appointment; `active_slot_id` is unique, so two bookings can never hold one slot."""

    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    active_slot_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    patient_name: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(32))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="booked")
    session_id: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[float] = mapped_column(Float, default=time.time)
    cancelled_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Application(Base):
    """A permit or licence application, for the status look-up."""

    __tablename__ = "applications"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    type_name: Mapped[dict] = mapped_column(JSON)
    applicant: Mapped[dict] = mapped_column(JSON)
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    submitted: Mapped[str] = mapped_column(String(10))
    updated: Mapped[str] = mapped_column(String(10))
    note: Mapped[dict] = mapped_column(JSON)
    history: Mapped[list] = mapped_column(JSON)


class Ticket(Base):
    """A hand-over to a person: the masked transcript, its number, its state."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    transcript: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[float] = mapped_column(Float, default=time.time)
    updated: Mapped[float] = mapped_column(Float, default=time.time)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[float] = mapped_column(Float, default=time.time)


def make_session_factory(url: str, *, busy_timeout: float = BUSY_TIMEOUT) -> sessionmaker:
    """An engine for `url` with the tables created; SQLite gets WAL and waits `busy_timeout` s for a lock."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    _add_new_columns(engine)
    _append_only(engine, "audit_log")
    return sessionmaker(engine, expire_on_commit=False)


def _add_new_columns(engine) -> None:
    """Columns and indexes added to a table after its first release are added to an older database too
    (`create_all` makes missing tables only); each column with its default, so old rows stay valid."""
    have = inspect(engine)
    for table in Base.metadata.sorted_tables:
        present = {c["name"] for c in have.get_columns(table.name)}
        with engine.begin() as connection:
            for column in table.columns:
                if column.name not in present:
                    connection.execute(sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} "
                                           f"{column.type.compile(engine.dialect)}{_default(column)}"))
                if column.index:
                    connection.execute(sql(f"CREATE INDEX IF NOT EXISTS ix_{table.name}_{column.name} "
                                           f"ON {table.name} ({column.name})"))


def _append_only(engine, table: str) -> None:
    """The database itself refuses to change or delete a row of `table` (SQLite triggers, PostgreSQL rules)."""
    with engine.begin() as connection:
        for verb in ("UPDATE", "DELETE"):
            if engine.dialect.name == "sqlite":
                connection.execute(sql(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"))
            elif engine.dialect.name == "postgresql":
                connection.execute(sql(f"CREATE OR REPLACE RULE {table}_no_{verb.lower()} AS ON {verb} TO {table} "
                                       "DO INSTEAD NOTHING"))


def _default(column) -> str:
    value = column.default.arg if column.default is not None and not callable(column.default.arg) else None
    if value is None:
        return ""
    return f" DEFAULT '{value}'" if isinstance(value, str) else f" DEFAULT {int(value) if isinstance(value, bool) else value}"


class WorkOrder(Base):
    """A citizen's request or complaint (report_issue): what, where, since when, the department that owns
    it, its state and the history of every change; the phone only as a keyed hash and a masked form."""

    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True, default="")
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    kind: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(48), index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    description: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    since: Mapped[str] = mapped_column(String(64), default="")
    phone_hash: Mapped[str] = mapped_column(String(64), default="")
    phone_masked: Mapped[str] = mapped_column(String(16), default="")
    state: Mapped[str] = mapped_column(String(16), index=True, default="received")
    reply: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[list] = mapped_column(JSON, default=list)
    created: Mapped[float] = mapped_column(Float, default=time.time)
    due: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float, default=time.time)


class StaffAccount(Base):
    """A staff member: a name, an argon2 password hash, a role and (department role) a department."""

    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(48), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)
    created: Mapped[float] = mapped_column(Float, default=time.time)


class StaffCredential(Base):
    """A signed-in page's session (kind "session", with an expiry) or a personal API token (kind "token"):
    only the SHA-256 of the secret is kept, so a copy of the database signs nobody in."""

    __tablename__ = "staff_credentials"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[float] = mapped_column(Float, default=time.time)
    expires: Mapped[float] = mapped_column(Float, default=0.0)  # 0: until revoked
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """Who did what to what, when: written by the application, never changed or deleted by it."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, default=time.time, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    client: Mapped[str] = mapped_column(String(64), default="")
