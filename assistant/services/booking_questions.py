"""What a booking conversation asks next: the first missing or unusable detail (department, hospital,
date), then a free slot, the patient's name, ID and phone, and at last the confirmation.

Works on the slots, the clock's reading and the language; what cannot be used is told in `notes`, before
the question.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from assistant.core import dates
from assistant.services import booking
from assistant.services.booking import Clinic, Opening
from assistant.services.booking_flow import doctor_groups, say, where
from assistant.services.seeds import BOOKING_DAYS


@dataclass(frozen=True)
class Question:
    """What to ask for: the slot, the template (ask_<slot> when empty) and the values that fill it."""

    slot: str
    template: str = ""
    values: dict = field(default_factory=dict)


def free_days(sessions: sessionmaker, clinic: Clinic, now: dt.datetime, near: dt.date, lang: str) -> list[str]:
    """Up to three days with free slots at this clinic, nearest to `near`, as a citizen reads them."""
    last = now.date() + dt.timedelta(BOOKING_DAYS - 1)
    free = booking.free_days(sessions, clinic.department_id, now, last)
    nearest = sorted(free, key=lambda d: abs((dt.date.fromisoformat(d) - near).days))[:3]
    return [dates.format_day(dt.date.fromisoformat(d), lang) for d in sorted(nearest)]


def next_question(sessions: sessionmaker, s: dict, now: dt.datetime, lang: str, notes: list[str]) -> Question:
    """The first missing or unusable detail to ask for: department, hospital, date; then the slot."""
    if not s.get("codes"):
        return Question("department", values={"offer": s.get("offer", [])})
    every = sorted(booking.clinics(sessions, s["codes"]), key=lambda c: bool(c.suspended))
    open_ = [c for c in every if not c.suspended]
    if not open_:
        notes.append(say("closed_everywhere", lang, department=every[0].name[lang]))
        s.pop("codes")
        return Question("department", values={"offer": []})
    if not s.get("hospital") and len({c.hospital_id for c in open_}) == 1:
        s["hospital"] = open_[0].hospital_id
        notes.append(say("only_hospital", lang, **where(open_[0], lang)))
    clinic = next((c for c in every if c.hospital_id == s.get("hospital")), None)
    if s.get("hospital") and (clinic is None or clinic.suspended):
        if clinic:
            notes.append(say("closed", lang, reason=clinic.suspended[lang], **where(clinic, lang)))
        else:
            named = next(c for c in booking.clinics(sessions) if c.hospital_id == s["hospital"])
            notes.append(say("hospital_lacks", lang, hospital=named.hospital[lang], department=open_[0].name[lang]))
        s.pop("hospital")
    if not s.get("hospital"):
        s["offered"] = [c.hospital_id for c in open_]
        return Question("hospital", values={"department": open_[0].name[lang],
                                            "clinics": [where(c, lang) for c in open_]})
    s["department_id"] = clinic.department_id
    return _on_day(sessions, s, clinic, open_, now, lang, notes)


def _on_day(sessions: sessionmaker, s: dict, clinic: Clinic, open_: list[Clinic], now: dt.datetime, lang: str,
            notes: list[str]) -> Question:
    """The date question, or the slot question when the chosen day has free slots at the clinic."""
    place = where(clinic, lang)
    if not s.get("day"):
        days = free_days(sessions, clinic, now, now.date(), lang)
        return Question("date", values={"window": BOOKING_DAYS, "days": days, **place})
    day, last = dt.date.fromisoformat(s["day"]), now.date() + dt.timedelta(BOOKING_DAYS - 1)
    free = booking.openings(sessions, clinic.department_id, day, now) if now.date() <= day <= last else []
    if free:
        return choose_slot(s, clinic, day, free, lang, notes)
    suggested = []
    if day < now.date() or day > last:
        key = "date_past" if day < now.date() else "date_too_far"
        suggested = free_days(sessions, clinic, now, now.date(), lang)
    else:
        key = "day_full" if booking.has_clinic(sessions, clinic.department_id, day) else "no_clinic"
        place["elsewhere"] = [c.hospital[lang] for c in open_ if c.hospital_id != clinic.hospital_id
                              and booking.openings(sessions, c.department_id, day, now)]
    notes.append(say(key, lang, day=dates.format_day(day, lang), window=BOOKING_DAYS, last=dates.format_day(last, lang),
                     days=free_days(sessions, clinic, now, day, lang), **place))
    s.pop("day")
    return Question("date", values={"window": BOOKING_DAYS, "days": suggested, **place})


def choose_slot(s: dict, clinic: Clinic, day: dt.date, free: list[Opening], lang: str, notes: list[str]) -> Question:
    """Narrow the free slots by period, doctor and time to one; then ask for the patient, then confirm."""
    place, earliest = {**where(clinic, lang), "day": dates.format_day(day, lang)}, s.pop("earliest", False)
    shown = [o for o in free if s.get("period") in (None, "morning" if o.start < "12:00" else "afternoon")]
    if not shown:
        notes.append(say("period_empty", lang, period=s.pop("period")))
        shown = free
    mine = [o for o in shown if o.doctor_id == s.get("doctor")]
    if s.get("doctor") and not mine:
        notes.append(say("doctor_busy", lang))
        s.pop("doctor")
    shown = mine or shown
    chosen = next((o for o in free if o.slot_id == s.get("slot")), None)
    if s.get("slot") and not chosen:
        notes.append(say("taken", lang))
        s.pop("slot")
    at = [o for o in shown if o.start == s.get("time")]
    if not chosen and s.get("time") and not at:
        notes.append(say("time_unavailable", lang, time=s.pop("time")))
    elif not chosen and len(at) > 1:
        return Question("time", "ask_doctor", {"time": s["time"], "groups": doctor_groups(at, lang)})
    chosen = chosen or (at[0] if at else None) or (shown[0] if earliest else None)
    if not chosen:
        return Question("time", values={"groups": doctor_groups(shown, lang), **place})
    s.update(slot=chosen.slot_id, time=chosen.start)
    for slot, key in (("name", "name"), ("id", "id_masked"), ("phone", "phone_hash")):
        if not s.get(key):
            return Question(slot)
    s.setdefault("request", secrets.token_hex(8))
    return Question("confirm", values={**place, "doctor": chosen.doctor[lang], "title": chosen.title[lang],
                                       "time": chosen.start, "fee": chosen.fee, "name": s["name"],
                                       "id_masked": s["id_masked"], "phone_masked": s["phone_masked"]})
