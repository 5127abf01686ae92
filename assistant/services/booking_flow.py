"""The booking conversation on plain values: what a message asks for, yes-or-no answers, how a changed
detail clears what hung on it, booking the confirmed slot, and how clinics, appointments and free times
are shown.

The health_booking skill keeps the turn; these work on text, a dict of slots, a language and the sessionmaker.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import sessionmaker

from assistant.core import dates
from assistant.core.prompts import render
from assistant.services import booking
from assistant.services import booking_words as words
from assistant.services.booking import Appointment, Clinic, Opening

CANCEL_BEFORE = dt.timedelta(hours=2)
CLEARS = {"codes": ("doctor", "offer"), "hospital": ("doctor",), "period": ("time",)}


def say(key: str, lang: str, **values) -> str:
    """A reply of the booking conversation (prompts/booking.yaml) in `lang`."""
    return render(key, lang, file="booking", **values)


def mode(text: str) -> str:
    """What a message asks for: 'cancel', 'list', 'suggest' (which department?) or 'book'."""
    if words.CANCEL.search(text):
        return "cancel"
    if words.LIST.search(text):
        return "list"
    return "suggest" if words.QUESTION.search(text) and not words.BOOK.search(text) else "book"


def for_the_guides(text: str, fresh: bool) -> bool:
    """Whether a message is a question for the guides rather than for the booking.

    A question on the rules at the start ("挂号费多少钱"), or an aside in the middle of a booking
    ("对了，办护照要多少钱？"); never a message that gives a booking code.
    """
    rules = fresh and words.RULES_QUESTION.search(text) and not (words.BOOK_NOW.search(text) or words.QUESTION.search(text))
    return bool((rules or (not fresh and words.ASIDE.search(text))) and not words.CODE.search(text))


def yes_or_no(text: str) -> str:
    """A reply to a yes-or-no question: 'yes', 'no', 'unclear', or '' when only spaces and punctuation."""
    answer = words.short(text)
    if not answer:
        return ""
    return "yes" if words.YES.fullmatch(answer) else "no" if words.NO.fullmatch(answer) else "unclear"


def set_detail(s: dict, key: str, value) -> None:
    """A new value for a detail: the chosen slot, the confirmation and what depended on the old value go."""
    if s.get(key) != value:
        s[key] = value
        for dependent in CLEARS.get(key, ()) + ("slot", "request"):
            s.pop(dependent, None)


def book_confirmed(sessions: sessionmaker, s: dict, session_id: str, now: dt.datetime) -> booking.Outcome:
    """Book the confirmed slot in `s`; a repeated confirmation gets the same booking.

    A slot that has started or that someone else holds is 'taken': it is forgotten with its time and the
    confirmation, so that another one is chosen.
    """
    key = hashlib.sha256(f"{session_id}|{s['request']}|{s['slot']}".encode()).hexdigest()
    started = f"{s['day']} {s['time']}" <= now.strftime("%Y-%m-%d %H:%M")
    outcome = booking.Outcome("taken") if started else booking.book(
        sessions, slot_id=s["slot"], request_key=key, patient_name=s["name"], id_masked=s["id_masked"],
        phone_hash=s["phone_hash"], phone_masked=s["phone_masked"], session_id=session_id)
    if outcome.status == "taken":
        for gone in ("slot", "time", "request"):
            s.pop(gone, None)
    return outcome


def too_late_to_cancel(appointment: Appointment, now: dt.datetime) -> bool:
    """Whether the appointment starts less than CANCEL_BEFORE after `now` (its day and time are local)."""
    starts = dt.datetime.fromisoformat(f"{appointment.day}T{appointment.start}").replace(tzinfo=now.tzinfo)
    return starts - now < CANCEL_BEFORE


def where(clinic: Clinic, lang: str) -> dict:
    """The hospital, district and department of a clinic, as a citizen reads them."""
    return {"hospital": clinic.hospital[lang], "district": clinic.district[lang], "department": clinic.name[lang]}


def shown(appointment: Appointment, lang: str) -> dict:
    """What a citizen reads about their own appointment."""
    a = appointment
    return {**where(a.clinic, lang), "code": a.code, "doctor": a.doctor[lang], "title": a.title[lang],
            "day": dates.format_day(dt.date.fromisoformat(a.day), lang), "time": a.start, "fee": a.fee,
            "name": a.patient_name}


def doctor_groups(openings: list[Opening], lang: str) -> list[dict]:
    """Free times grouped by doctor, with the doctor's title and fee."""
    groups: dict[str, dict] = {}
    for o in openings:
        groups.setdefault(o.doctor_id, {"doctor": o.doctor[lang], "title": o.title[lang], "fee": o.fee,
                                        "times": []})["times"].append(o.start)
    return list(groups.values())


def suggestion_groups(found: list[tuple[str, list[Clinic], tuple]], lang: str) -> list[dict]:
    """Suggested departments as shown: each with the symptom it treats and the hospitals that hold it."""
    return [{"department": cs[0].name[lang], "symptom": symptom, "hospitals": [where(c, lang) for c in cs]}
            for symptom, cs, _ in found]
