"""Hospital appointments in the database: find clinics and free slots, book, cancel, list; each one transaction.

A slot is held by setting its `booking_code` with a conditional UPDATE (`... WHERE booking_code IS NULL`)
in the same transaction that inserts the Booking, whose `active_slot_id` is unique: two requests can
never hold one slot, and a repeated `request_key` gets back the booking it already made. Bookings keep
only a masked ID and the phone's keyed hash and masked form.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
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

HOSPITAL_ALIASES = {
    "cw-first": ["第一人民医院", "市一院", "一院", "第一医院", "first people's", "first peoples", "first hospital"],
    "cw-central": ["中心医院", "central hospital", "central"],
    "cw-tcm": ["中医院", "中医医院", "tcm hospital", "chinese medicine hospital", "hospital of traditional chinese medicine"],
    "cw-mch": ["妇幼保健院", "妇幼", "妇保院", "maternal and child", "maternity", "mch"],
    "cw-children": ["儿童医院", "儿院", "children's hospital", "childrens hospital", "children hospital"],
    "cw-hitech": ["高新区人民医院", "高新医院", "高新区医院", "hi-tech", "hitech", "high-tech", "hi tech"],
}
DEPARTMENT_ALIASES = {
    "cardiology": ["心血管内科", "心血管科", "心脏科", "心内", "heart doctor", "cardiologist"],
    "respiratory": ["呼吸科", "肺科", "respiratory", "lung doctor"], "neurology": ["神经科", "神内", "neurologist"],
    "gastroenterology": ["消化科", "胃肠科", "肠胃科", "gastro", "gastroenterologist"],
    "endocrinology": ["内分泌", "endocrinologist"], "general-surgery": ["外科", "surgery", "surgeon"],
    "orthopedics": ["骨外科", "orthopedics", "orthopedic"], "gynecology": ["gynecology", "gynaecologist", "gynecologist"],
    "obgyn": ["妇科", "产科", "gynaecology", "gynecology", "obstetrics"],
    "pediatrics": ["小儿科", "pediatrics", "paediatrician", "pediatrician"],
    "pediatrics-general": ["儿科", "小儿内科", "paediatrics", "pediatrics"],
    "ophthalmology": ["眼睛科", "eye doctor", "eye clinic"], "ent": ["耳鼻喉", "五官科", "ear nose and throat"],
    "stomatology": ["牙科", "口腔", "看牙", "dentist"], "dermatology": ["皮肤", "dermatologist", "skin doctor"],
    "tcm-clinic": ["中医"], "psychiatry": ["精神科", "心理科", "mental health", "psychiatrist"],
    "psychology-clinic": ["心理科", "psychologist"], "general-practice": ["全科", "general practitioner", "gp"],
}
_SYNONYMS = [("疼", "痛"), ("嗓子", "喉咙"), ("发热", "发烧"), ("拉稀", "拉肚子"), ("tummy", "stomach"),
             ("head hurts", "headache"), ("tooth hurts", "toothache"), ("diarrhea", "diarrhoea")]
_CHILD = re.compile(r"孩子|小孩|宝宝|儿童|儿子|女儿|小儿|婴儿|新生儿|child|kid|baby|son|daughter|toddler", re.IGNORECASE)
_DOCTOR_CUE = re.compile(r"医生|大夫|专家|主任|教授|doctor|\bdr\b", re.IGNORECASE)


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


def _norm(text: str) -> str:
    text = text.lower()
    for old, new in _SYNONYMS:
        text = text.replace(old, new)
    return text


def _find(alias: str, text: str) -> int:
    """Where `alias` occurs in lower-cased `text` (whole words for Latin aliases), or -1."""
    alias = alias.lower()
    if alias.isascii():
        m = re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", text)
        return m.start() if m else -1
    return text.find(alias)


def _longest(candidates: list[tuple[str, object]], text: str) -> tuple[str, list]:
    """The longest alias found in `text`, and every value it stands for."""
    found = [(alias, value) for alias, value in candidates if _find(alias, text) >= 0]
    if not found:
        return "", []
    best = max(len(alias) for alias, _ in found)
    values = [value for alias, value in found if len(alias) == best]
    unique = [v for i, v in enumerate(values) if v not in values[:i]]
    return next(alias for alias, _ in found if len(alias) == best), unique


def _blank(text: str, alias: str) -> str:
    at = _find(alias, text)
    return text if at < 0 else text[:at] + " " + text[at + len(alias):]


def _departments(sessions: sessionmaker, codes: list[str] | None = None) -> list[tuple[Department, Hospital]]:
    query = select(Department, Hospital).join(Hospital, Department.hospital_id == Hospital.id).order_by(Department.id)
    if codes:
        query = query.where(Department.code.in_(codes))
    with sessions() as db:
        return list(db.execute(query).tuples())


def _clinic(d: Department, h: Hospital) -> Clinic:
    return Clinic(d.id, d.code, d.name, d.suspended, h.id, h.name, h.district)


def clinics(sessions: sessionmaker, codes: list[str] | None = None) -> list[Clinic]:
    """Every department at every hospital (or those with one of `codes`), suspended ones included."""
    return [_clinic(d, h) for d, h in _departments(sessions, codes)]


def match_hospital(sessions: sessionmaker, text: str) -> tuple[str | None, str]:
    """The hospital a text names (full name, alias such as 一院 / 中医院, or district), and the text without it."""
    lowered = text.lower().replace("’", "'")
    with sessions() as db:
        candidates = []
        for h in db.scalars(select(Hospital)):
            names = [h.name["zh"], h.name["en"], h.name["zh"].removeprefix("澄湾市"),
                     h.name["en"].removeprefix("Chengwan "), h.district["zh"], h.district["en"]]
            candidates += [(alias, h.id) for alias in names + HOSPITAL_ALIASES.get(h.id, [])]
    alias, ids = _longest(candidates, lowered)
    return (ids[0], _blank(lowered, alias)) if ids else (None, lowered)


def match_departments(sessions: sessionmaker, text: str) -> tuple[list[str], str]:
    """The department codes a text names ("心内科", "牙科", "ENT"), and the text without the name."""
    lowered = text.lower()
    candidates = []
    for c in clinics(sessions):
        en = c.name["en"]
        names = [c.name["zh"], en, en.split(" (")[0]] + re.findall(r"\(([^)]+)\)", en)
        candidates += [(alias, c.code) for alias in names + DEPARTMENT_ALIASES.get(c.code, [])]
    alias, codes = _longest(candidates, lowered)
    return codes, _blank(lowered, alias) if codes else lowered


def match_doctor(sessions: sessionmaker, text: str, department_id: int | None = None) -> tuple[str, Clinic] | None:
    """The doctor a text names and their clinic; without a department, only when it speaks of a doctor (医生, Dr)."""
    if department_id is None and not _DOCTOR_CUE.search(text):
        return None
    query = select(Doctor, Department, Hospital).join(Department, Doctor.department_id == Department.id) \
        .join(Hospital, Department.hospital_id == Hospital.id)
    if department_id is not None:
        query = query.where(Doctor.department_id == department_id)
    with sessions() as db:
        candidates = [(alias, (doc.id, _clinic(d, h))) for doc, d, h in db.execute(query)
                      for alias in (doc.name["zh"], doc.name["en"])]
    _, found = _longest(candidates, text.lower())
    return found[0] if len(found) == 1 else None


def suggest(sessions: sessionmaker, text: str, limit: int = 3) -> list[tuple[str, list[Clinic], tuple]]:
    """Departments for the symptoms in a text, best first: (symptom matched, open clinics, score)."""
    wanted, child = _norm(text), bool(_CHILD.search(text))
    groups: dict[str, tuple[tuple, str, list[Clinic]]] = {}
    for d, h in _departments(sessions):
        hits = [t for t in d.treats["zh"] + d.treats["en"] if _symptom_in(_norm(t), wanted)]
        if d.suspended or not hits:
            continue
        symptom = max(hits, key=len)
        pediatric = h.id == "cw-children" or bool(_CHILD.search(d.name["zh"] + d.name["en"]))
        score = (pediatric == child, len(symptom))
        best, best_symptom, members = groups.get(d.name["zh"], ((), "", []))
        groups[d.name["zh"]] = (max(score, best), symptom if score > best else best_symptom, members + [_clinic(d, h)])
    ranked = sorted(groups.values(), key=lambda g: (g[0], len(g[2])), reverse=True)
    return [(symptom, members, score) for score, symptom, members in ranked[:limit]]


def _symptom_in(term: str, text: str) -> bool:
    if not term.isascii():
        return term in text
    words = re.findall(r"[a-z']+", text)
    return all(any(w.startswith(t) for w in words) for t in re.findall(r"[a-z']+", term))


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
    return Appointment(b.code, b.status, s.day, s.start, _clinic(dep, h), d.name, d.title, d.fee_yuan, b.patient_name,
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
