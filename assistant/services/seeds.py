"""Seed data: loads hospitals, doctors and applications into the database once, and keeps 14 days
of bookable slots generated from the weekly schedules; shelters and hotlines are read as they are."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from assistant.core.config import ROOT

from assistant.services.db import Application, Department, Doctor, Hospital, Slot
from assistant.safety.guardrails import mask_pii

SEEDS_DIR = ROOT / "seeds"
BOOKING_DAYS = 14
SLOT_MINUTES = 30


@lru_cache(maxsize=None)
def read(name: str) -> dict:
    """One seed file, parsed (cached: the files do not change while the server runs)."""
    return yaml.safe_load((SEEDS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def shelters() -> list[dict]:
    return read("shelters")["shelters"]


def hotlines() -> list[dict]:
    return read("hotlines")["hotlines"]


def load_seeds(sessions: sessionmaker, *, phone_digest) -> None:
    """Create what is missing from the seed files; running twice adds nothing."""
    try:
        _load(sessions, phone_digest)
    except IntegrityError:
        with sessions() as db:  # another worker loaded them at the same moment; anything else is a bug
            if db.scalar(select(Application.number).limit(1)) is None:
                raise


def _load(sessions: sessionmaker, phone_digest) -> None:
    with sessions.begin() as db:
        if db.scalar(select(Hospital.id).limit(1)) is None:
            for h in read("hospitals")["hospitals"]:
                db.add(Hospital(id=h["id"], name=h["name"], level=h["level"], district=h["district"],
                                address=h["address"], phone=h["phone"]))
                db.flush()
                for d in h["departments"]:
                    department = Department(hospital_id=h["id"], code=d["id"], name=d["name"], treats=d["treats"],
                                            suspended=d.get("suspended"))
                    db.add(department)
                    db.flush()
                    for doc in d["doctors"]:
                        db.add(Doctor(id=doc["id"], department_id=department.id, name=doc["name"],
                                      title=doc["title"], fee_yuan=doc["fee_yuan"], schedule=doc["schedule"]))
        if db.scalar(select(Application.number).limit(1)) is None:
            for a in read("applications")["applications"]:
                db.add(Application(number=a["number"], type=a["type"], type_name=a["type_name"],
                                   applicant=a["applicant"], phone_hash=phone_digest(a["phone"]),
                                   phone_masked=mask_pii(a["phone"]), status=a["status"],
                                   submitted=str(a["submitted"]), updated=str(a["updated"]), note=a["note"],
                                   history=[{"status": x["status"], "at": str(x["at"])} for x in a["history"]]))


def slot_times(period: str, count: int) -> list[str]:
    """Start times of `count` 30-minute slots from the start of a clinic period."""
    start = dt.datetime.strptime(read("hospitals")["periods"][period]["start"], "%H:%M")
    return [(start + dt.timedelta(minutes=SLOT_MINUTES * i)).strftime("%H:%M") for i in range(count)]


def ensure_slots(sessions: sessionmaker, today: dt.date) -> int:
    """Generate the slots of the next BOOKING_DAYS days that do not exist yet; returns how many were added."""
    try:
        return _generate_slots(sessions, today)
    except IntegrityError:
        return 0  # another worker generated them at the same moment


def _generate_slots(sessions: sessionmaker, today: dt.date) -> int:
    days = [(today + dt.timedelta(days=n)) for n in range(BOOKING_DAYS)]
    added = 0
    with sessions.begin() as db:
        # every missing day of the window, not only those after the last one: a database made on a
        # later day (a copied template, a clock set back) gets the earlier days of its window too
        have = set(db.scalars(select(Slot.day).where(Slot.day >= days[0].isoformat(),
                                                     Slot.day <= days[-1].isoformat()).distinct()))
        missing = [d for d in days if d.isoformat() not in have]
        if not missing:
            return 0
        doctors = db.scalars(select(Doctor)).all()
        for day in missing:
            for doctor in doctors:
                for entry in doctor.schedule:
                    if entry["weekday"] == day.isoweekday():
                        for start in slot_times(entry["period"], entry["slots"]):
                            db.add(Slot(doctor_id=doctor.id, department_id=doctor.department_id,
                                        day=day.isoformat(), start=start))
                            added += 1
    return added
