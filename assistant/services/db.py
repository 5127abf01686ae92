"""SQLAlchemy models: sessions, messages, the seed tables, bookings, tickets, work orders, staff, the audit
log (assistant.services.database opens a database with them).

Nothing here holds a phone or ID number in the clear: phones are stored as a keyed hash (to check
"the phone given for this booking") plus a masked form for display.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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
    copied: Mapped[bool] = mapped_column(Boolean, default=False)  # a copy of an earlier turn (openai_compat)


HOUR = 3600


class ReplyCount(Base):
    """How many replies each UTC hour had, per domain, status and emergency kind: the dashboard's daily
    charts add up these few rows (some thousands a month) instead of reading every message. Kept in the
    same transaction as each reply (assistant.services.database); built from the messages when the table is new."""

    __tablename__ = "reply_counts"
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch seconds // HOUR
    domain: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    status: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    kind: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


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
