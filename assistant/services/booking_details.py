"""What one message of a booking conversation gives: hospital, department, doctor, date, time, patient
name, resident ID and phone, taken into the slots.

Every detail a message holds is taken, whatever was asked for; a note in `notes` tells the citizen what
could not be used. The resident ID is kept masked and the phone as its keyed hash (`digest`) and masked form.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy.orm import sessionmaker

from assistant.core import dates
from assistant.safety import guardrails
from assistant.services import booking_words as words
from assistant.services import clinic_match
from assistant.services.booking_flow import say, set_detail, yes_or_no

TRACKED = ("codes", "hospital", "day", "period", "time", "doctor", "name", "id_masked", "phone_hash")


def _tracked(s: dict) -> list:
    return [s.get(k) for k in TRACKED]


def identity(s: dict, text: str, awaiting: str | None, lang: str, digest: Callable[[str], str],
             notes: list[str]) -> str:
    """Take a resident ID and a mobile number out of the text into the slots, masked and hashed; returns the rest."""
    m = words.ID.search(text)
    if m and guardrails.valid_resident_id(m.group(0)):
        s["id_masked"] = guardrails.mask_resident_ids(m.group(0).upper())
    elif m or awaiting == "id":
        notes.append(say("id_invalid", lang))
    text = words.ID.sub(" ", text)
    phone = guardrails.phone_digits(text)
    if phone:
        s["phone_hash"], s["phone_masked"] = digest(phone), guardrails.mask_pii(phone)
    elif awaiting == "phone":
        notes.append(say("phone_invalid", lang))
    return words.MOBILE.sub(" ", text)


def _places(sessions: sessionmaker, s: dict, text: str, awaiting: str | None, lang: str, notes: list[str]):
    """Take the hospital and department (named, picked from those offered, or suggested for symptoms).

    Returns the text without the names, and what was found: department codes, hospital, doctor, and
    whether departments were offered for the symptoms.
    """
    hospital, rest = clinic_match.match_hospital(sessions, text)
    doctor = clinic_match.match_doctor(sessions, rest, s.get("department_id") if awaiting == "time" else None)
    codes, rest = clinic_match.match_departments(sessions, rest)
    hospital = hospital or (words.pick(text, s.get("offered", [])) if awaiting == "hospital" else None)
    if awaiting == "department" and not codes:
        codes = words.pick(text, [o["codes"] for o in s.get("offer", [])]) or []
    offered = False
    if not codes and not doctor and (awaiting == "department" or not s.get("codes")):
        found = clinic_match.suggest(sessions, rest)
        if len(found) == 1 or (found and found[0][2] > found[1][2]):
            codes = sorted({c.code for c in found[0][1]})
            notes.append(say("suggested", lang, symptom=found[0][0], department=found[0][1][0].name[lang]))
        elif found:
            s["offer"], offered = [{"codes": sorted({c.code for c in cs}), "department": cs[0].name[lang],
                                    "symptom": symptom} for symptom, cs, _ in found], True
    for key, value in (("codes", codes), ("hospital", hospital)):
        if value:
            set_detail(s, key, value)
    return rest, (codes, hospital, doctor, offered)


def take_date_and_time(s: dict, text: str, today: dt.date, lang: str, other_time: bool, notes: list[str]):
    """Take the date and the time or period (not when another time is asked for); returns what was found."""
    day = dates.parse_date(text, today)
    if day and s.get("day") not in (None, day.isoformat()):
        notes.append(say("date_changed", lang, day=dates.format_day(day, lang)))
    if day:
        set_detail(s, "day", day.isoformat())
    when = dates.parse_time(text) if not other_time else None
    if when and when.clock:  # a clock time stands for itself, whatever period was asked for before
        s.pop("period", None)
        set_detail(s, "time", when.clock)
    elif when:
        set_detail(s, "period", when.period)
    return day, when


def absorb(sessions: sessionmaker, s: dict, text: str, *, awaiting: str | None, today: dt.date, lang: str,
           digest: Callable[[str], str], notes: list[str]) -> bool:
    """Fill every detail this message gives; returns whether any of them changed."""
    before = _tracked(s)
    if awaiting == "name" and not words.CHANGE.search(text) and words.FILLER.sub("", dates.remove(text)):
        name = words.patient_name(identity(s, text, awaiting, lang, digest, notes))
        if name:
            s["name"] = name
        else:
            notes.append(say("name_invalid", lang))
        return before != _tracked(s)
    rest, (codes, hospital, doctor, offered) = _places(sessions, s, text, awaiting, lang, notes)
    other, earliest = words.OTHER_TIME.search(text), awaiting == "time" and words.EARLIEST.search(text)
    day, when = take_date_and_time(s, rest, today, lang, bool(other), notes)
    if doctor:
        set_detail(s, "codes", [doctor[1].code])
        set_detail(s, "hospital", doctor[1].hospital_id)
        set_detail(s, "doctor", doctor[0])
    for key in ("time", "period", "doctor", "slot", "request") if other else ():
        s.pop(key, None)
    if earliest:
        s["earliest"] = True
    identity(s, rest, awaiting, lang, digest, notes)
    named = words.NAME_IN.search(text)
    name = words.patient_name(named.group(1) or named.group(2)) if named else None
    if name:
        s["name"] = name
    changed = before != _tracked(s)
    if awaiting in ("department", "hospital", "date", "time") and not (changed or any(
            (codes, hospital, doctor, day, when, offered, other, earliest))):
        notes.append(say(f"{awaiting}_unknown", lang))
    return changed


def cancel_request(s: dict, text: str, awaiting: str | None, made_here: dict | None, lang: str,
                   digest: Callable[[str], str], notes: list[str]) -> str:
    """Take the booking code (else the one this chat made) and the phone from a message about cancelling.

    Returns 'yes' or 'no' for a clear reply to the confirmation, else '' (with a note when it was unclear).
    """
    code = words.CODE.search(text)
    if made_here and not s.get("code") and not code:
        s.update(made_here)  # "取消刚才的预约": the booking this chat made (a code given goes the usual way)
    if code:
        s["code"] = code.group(0).upper()
    elif awaiting == "code":
        notes.append(say("code_invalid", lang))
    before = s.get("phone_hash")
    identity(s, words.CODE.sub(" ", text), awaiting, lang, digest, notes)
    answer = yes_or_no(text) if awaiting == "confirm" and not code and s.get("phone_hash") == before else ""
    if answer == "unclear":
        notes.append(say("confirm_unclear", lang))
    return answer if answer in ("yes", "no") else ""
