"""Hospital appointments in the database: find clinics and free slots, book, cancel, list; each one transaction.

A slot is held by setting its `booking_code` with a conditional UPDATE (`... WHERE booking_code IS NULL`)
in the same transaction that inserts the Booking, whose `active_slot_id` is unique: two requests can
never hold one slot, and a repeated `request_key` gets back the booking it already made. Bookings keep
only a masked ID and the phone's keyed hash and masked form. Which clinic a citizen's words name is
read in `assistant.services.clinic_match`.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker

from assistant.services.db import Booking, Department, Doctor, Hospital, Slot

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
BUSY_RETRIES = (0.2, 0.5, 1.0)  # pauses before each new try of a transaction that found the database locked
MAX_PER_DAY = 3  # bookings per patient per day (knowledge/health/appointment-booking.md); one per department


@dataclass(frozen=True)
class Clinic:
    """A department at a hospital, as offered to a citizen."""

    department_id: int
    code: str
    name: dict
    suspended: dict | None
    hospital_id: str
    hospital: dict
    district: dict


@dataclass(frozen=True)
class Opening:
    """A free slot and the doctor who holds it."""

    slot_id: int
    day: str
    start: str
    doctor_id: str
    doctor: dict
    title: dict
    fee: int


@dataclass(frozen=True)
class Appointment:
    """A booking as its owner sees it."""

    code: str
    status: str
    day: str
    start: str
    clinic: Clinic
    doctor: dict
    title: dict
    fee: int
    patient_name: str
    id_masked: str
    phone_masked: str


@dataclass(frozen=True)
class Outcome:
    """What `book` did: 'booked', 'repeated' (this request was booked before), 'taken', 'duplicate' or 'limit'."""

    status: str
    appointment: Appointment | None = None


def new_code() -> str:
    return "BK" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def departments(sessions: sessionmaker, codes: list[str] | None = None) -> list[tuple[Department, Hospital]]:
    """Every department row with its hospital (or those with one of `codes`), in id order."""
    query = select(Department, Hospital).join(Hospital, Department.hospital_id == Hospital.id).order_by(Department.id)
    if codes:
        query = query.where(Department.code.in_(codes))
    with sessions() as db:
        return list(db.execute(query).tuples())


def clinic_of(d: Department, h: Hospital) -> Clinic:
    """A department row and its hospital, as offered to a citizen."""
    return Clinic(d.id, d.code, d.name, d.suspended, h.id, h.name, h.district)


def clinics(sessions: sessionmaker, codes: list[str] | None = None) -> list[Clinic]:
    """Every department at every hospital (or those with one of `codes`), suspended ones included."""
    return [clinic_of(d, h) for d, h in departments(sessions, codes)]


def _not_started(now: dt.datetime):
    """A condition on slots: not in the past, and on today only those that start later."""
    today = now.date().isoformat()
    return and_(Slot.day >= today, or_(Slot.day > today, Slot.start > now.strftime("%H:%M")))


def openings(sessions: sessionmaker, department_id: int, day: dt.date, now: dt.datetime) -> list[Opening]:
    """The free slots of a department on a day, by time, that have not started yet."""
    query = (select(Slot, Doctor).join(Doctor, Slot.doctor_id == Doctor.id)
             .where(Slot.department_id == department_id, Slot.booking_code.is_(None),
                    Slot.day == day.isoformat(), _not_started(now))
             .order_by(Slot.start, Doctor.id))
    with sessions() as db:
        return [Opening(s.id, s.day, s.start, d.id, d.name, d.title, d.fee_yuan) for s, d in db.execute(query)]


def has_clinic(sessions: sessionmaker, department_id: int, day: dt.date) -> bool:
    """Whether the department holds a clinic that day at all (booked or not)."""
    with sessions() as db:
        return db.scalar(select(Slot.id).where(Slot.department_id == department_id, Slot.day == day.isoformat())
                         .limit(1)) is not None


def free_days(sessions: sessionmaker, department_id: int, now: dt.datetime, last: dt.date) -> dict[str, int]:
    """Free slots per day from now until `last` (ISO day -> count), for offering other dates."""
    query = (select(Slot.day, func.count(Slot.id))
             .where(Slot.department_id == department_id, Slot.booking_code.is_(None), Slot.day <= last.isoformat(),
                    _not_started(now))
             .group_by(Slot.day).order_by(Slot.day))
    with sessions() as db:
        return dict(db.execute(query).all())


def retry_when_busy(transaction):
    """Retry a transaction a few times when SQLite says the database is locked or busy.

    The last failure is raised; the turn then ends with the canned error reply, never a trace.
    """
    @functools.wraps(transaction)
    def run(*args, **kwargs):
        for pause in BUSY_RETRIES:
            try:
                return transaction(*args, **kwargs)
            except OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(pause)
        return transaction(*args, **kwargs)
    return run


@retry_when_busy
def book(sessions: sessionmaker, *, slot_id: int, request_key: str, patient_name: str, id_masked: str,
         phone_hash: str, phone_masked: str, session_id: str = "") -> Outcome:
    """Hold the slot and record the booking in one transaction; never two bookings for one slot or one request."""
    for _ in range(3):  # a new code on the (rare) collision of two codes
        code = new_code()
        with sessions() as db:
            try:
                held = db.execute(update(Slot).where(Slot.id == slot_id, Slot.booking_code.is_(None))
                                  .values(booking_code=code)).rowcount
                if not held:
                    db.rollback()
                    earlier = _by_request(db, request_key)
                    return Outcome("repeated", earlier) if earlier else Outcome("taken")
                clash = _patient_clash(db, db.get(Slot, slot_id), patient_name, id_masked, phone_hash)
                if clash:
                    db.rollback()
                    return clash
                db.add(Booking(code=code, slot_id=slot_id, active_slot_id=slot_id, request_key=request_key,
                               patient_name=patient_name, id_masked=id_masked, phone_hash=phone_hash,
                               phone_masked=phone_masked, session_id=session_id))
                db.flush()
                made = _appointment(db, code)
                db.commit()
                return Outcome("booked", made)
            except IntegrityError:
                db.rollback()
                earlier = _by_request(db, request_key)
                if earlier:
                    return Outcome("repeated", earlier)
                if db.scalar(select(Booking.id).where(Booking.code == code)) is None:
                    return Outcome("taken")
    raise RuntimeError("no free booking code after three tries")


def _patient_clash(db, slot: Slot, patient_name: str, id_masked: str, phone_hash: str) -> Outcome | None:
    """A booking of this patient in the same department that day, or the daily maximum reached.

    The earlier booking is returned only to the phone that made it.
    """
    held = db.execute(select(Booking.code, Slot.department_id, Booking.phone_hash)
                      .join(Slot, Booking.slot_id == Slot.id)
                      .where(Booking.status == "booked", Booking.id_masked == id_masked,
                             Booking.patient_name == patient_name, Slot.day == slot.day)).all()
    same = [(code, phone) for code, department_id, phone in held if department_id == slot.department_id]
    if same:
        return Outcome("duplicate", _appointment(db, same[0][0]) if same[0][1] == phone_hash else None)
    return Outcome("limit") if len(held) >= MAX_PER_DAY else None


def _by_request(db, request_key: str) -> Appointment | None:
    code = db.scalar(select(Booking.code).where(Booking.request_key == request_key))
    return _appointment(db, code) if code else None


def _appointment(db, code: str) -> Appointment:
    b, s, d, dep, h = db.execute(
        select(Booking, Slot, Doctor, Department, Hospital).join(Slot, Booking.slot_id == Slot.id)
        .join(Doctor, Slot.doctor_id == Doctor.id).join(Department, Slot.department_id == Department.id)
        .join(Hospital, Department.hospital_id == Hospital.id).where(Booking.code == code)).one()
    return Appointment(b.code, b.status, s.day, s.start, clinic_of(dep, h), d.name, d.title, d.fee_yuan, b.patient_name,
                       b.id_masked, b.phone_masked)


def find(sessions: sessionmaker, code: str, phone_hash: str) -> Appointment | None:
    """The active booking with this code, only if it was made with this phone."""
    with sessions() as db:
        found = db.scalar(select(Booking.code).where(Booking.code == code.upper(), Booking.phone_hash == phone_hash,
                                                     Booking.status == "booked"))
        return _appointment(db, found) if found else None


@retry_when_busy
def cancel(sessions: sessionmaker, code: str, phone_hash: str) -> Appointment | None:
    """Cancel the active booking with this code and phone and free its slot, in one transaction; None if none."""
    code = code.upper()
    with sessions() as db:
        done = db.execute(update(Booking).where(Booking.code == code, Booking.phone_hash == phone_hash,
                                                Booking.status == "booked")
                          .values(status="cancelled", active_slot_id=None, cancelled_at=time.time())).rowcount
        if not done:
            db.rollback()
            return None
        slot_id = db.scalar(select(Booking.slot_id).where(Booking.code == code))
        db.execute(update(Slot).where(Slot.id == slot_id, Slot.booking_code == code).values(booking_code=None))
        gone = _appointment(db, code)
        db.commit()
        return gone


def bookings_for(sessions: sessionmaker, phone_hash: str, today: dt.date) -> list[Appointment]:
    """The active bookings made with this phone, from today on, earliest first."""
    with sessions() as db:
        codes = db.scalars(select(Booking.code).join(Slot, Booking.slot_id == Slot.id)
                           .where(Booking.phone_hash == phone_hash, Booking.status == "booked",
                                  Slot.day >= today.isoformat()).order_by(Slot.day, Slot.start)).all()
        return [_appointment(db, code) for code in codes]
