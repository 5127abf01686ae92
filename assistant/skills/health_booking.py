"""Hospital appointments: suggest a department from symptoms, book after an explicit yes, cancel, list.

Booking fills its slots in order (department, hospital, date, time, name, resident ID, phone), taking
every one a message already gives, and books only after a "yes" to a summary. Cancelling needs the
booking code and the phone it was booked with; listing needs the phone. The state keeps only the
masked ID and the phone's keyed hash; the database work is in `assistant.services.booking`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from assistant.services import booking

from assistant.services import booking_words as words

from assistant.core import dates

from assistant.safety import guardrails
from assistant.core.prompts import render
from assistant.services.seeds import BOOKING_DAYS
from assistant.skills.registry import skill

CANCEL_BEFORE = dt.timedelta(hours=2)
_TRACKED = ("codes", "hospital", "day", "period", "time", "doctor", "name", "id_masked", "phone_hash")
_CLEARS = {"codes": ("doctor", "offer"), "hospital": ("doctor",), "period": ("time",)}


@skill(name="health_booking", title={"zh": "预约挂号", "en": "Hospital appointments"}, domains=["health"],
       examples=["帮我预约心内科", "帮我约第一人民医院心内科的号", "我要挂中心医院的消化内科",
                 "预约一个眼科的号", "想约个儿科医生", "给孩子挂儿童医院的号", "我要挂金浩然医生的号", "帮我挂一个专家号",
                 "头疼挂什么科", "头疼得厉害挂什么科", "咳嗽好几天了应该看哪个科", "胃痛去医院挂哪个科室", "牙疼挂什么科",
                 "皮肤痒挂什么科", "取消我的预约", "我要取消挂号", "预约的号去不了了，帮我退掉", "查一下我的预约",
                 "我约了哪些号", "看看我挂的号", "book a doctor for Friday", "I'd like to make a hospital appointment",
                 "book cardiology at the First People's Hospital tomorrow morning", "I need to see a dentist next week",
                 "can I get an appointment with a paediatrician", "which department should I see for a headache",
                 "I have a bad cough, what kind of doctor should I see", "cancel my appointment",
                 "I want to cancel my booking", "show my bookings", "what appointments do I have"],
       cues=[r"挂号|预约|挂.{0,3}科|看病|看医生|退号|门诊|appointment|book (a|an) (doctor|appointment)|\bbookings?\b"
             r"|which department|see a doctor|dentist|^\s*(please\s+)?book\b|\b[a-z]+ology\b",
             # short answers to this skill's questions, so that small talk does not take them mid-flow
             r"^\s*(是的?|好的?|对的?|可以|行|嗯|不|不要|不用了?|否|确认|确定|上午|下午|最早的?|yes|no|ok|okay|sure|confirm)"
             r"\s*[。.!！]?\s*$|^\s*(换成|改成|改到|换到)"])
def handle(ctx) -> None:
    """Carry on the flow in progress, or start one: book, cancel, list, or suggest a department."""
    s, awaiting, text = ctx.slots, ctx.state.get("awaiting"), ctx.query
    fresh = ctx.state.get("active") != ctx.skill or not s.get("mode")
    suggested = ctx.state.pop("health_suggested", None) if fresh else None
    if fresh and (words.NO.fullmatch(words.short(text)) or (words.YES.fullmatch(words.short(text)) and not suggested)):
        return ctx.finish(_t(ctx, "idle"), "answered")  # a bare "ok" or "no" with nothing pending
    if not fresh and s["mode"] == "book" and words.CANCEL.search(text) and not words.CODE.search(text):
        ctx.end_skill()
        return ctx.finish(render("stopped", ctx.lang), "cancelled")
    rules = fresh and words.RULES_QUESTION.search(text) and not (words.BOOK_NOW.search(text) or words.QUESTION.search(text))
    if (rules or (not fresh and words.ASIDE.search(text))) and not words.CODE.search(text):
        return ctx.hand_to("guide_qa")
    mode = _mode(text)
    if fresh or (mode != s["mode"] and (mode in ("cancel", "list") or words.BOOK.search(text))):
        ctx.state["slots"] = s = {"mode": mode, **({"codes": suggested} if suggested and mode == "book" else {})}
        awaiting = None
    {"book": _book, "cancel": _cancel, "list": _list, "suggest": _suggest}[s["mode"]](ctx, s, awaiting)


def _mode(text: str) -> str:
    if words.CANCEL.search(text):
        return "cancel"
    if words.LIST.search(text):
        return "list"
    return "suggest" if words.QUESTION.search(text) and not words.BOOK.search(text) else "book"


def _t(ctx, key: str, **values) -> str:
    return render(key, ctx.lang, file="booking", **values)


def _ask(ctx, slot: str, notes: list[str], template: str = "", **values) -> None:
    if slot == "date":  # the example date in the question is always a few days from today
        values["example"] = dates.example_day(ctx.desk.today(), ctx.lang)
    # what a "yes" would do, so that the page's buttons can say it ("确认取消这个预约" / "保留预约")
    data = {"confirming": "cancel_booking" if template == "cancel_summary" else "booking"} if slot == "confirm" else {}
    ctx.ask(slot, "\n".join(notes + [_t(ctx, template or f"ask_{slot}", **values)]), **data)


def _where(ctx, c: booking.Clinic) -> dict:
    return {"hospital": c.hospital[ctx.lang], "district": c.district[ctx.lang], "department": c.name[ctx.lang]}


def _shown(ctx, a: booking.Appointment) -> dict:
    """What a citizen reads about their own appointment."""
    return {**_where(ctx, a.clinic), "code": a.code, "doctor": a.doctor[ctx.lang], "title": a.title[ctx.lang],
            "day": dates.format_day(dt.date.fromisoformat(a.day), ctx.lang), "time": a.start, "fee": a.fee,
            "name": a.patient_name}


def _suggest(ctx, s, awaiting) -> None:
    """Departments for the symptoms described; "好的" / "book it" next turn books the first one."""
    found = booking.suggest(ctx.desk.sessions, ctx.query)
    ctx.end_skill()
    if not found:
        return ctx.finish(_t(ctx, "suggest_none"), "answered")
    ctx.state["health_suggested"] = sorted({c.code for c in found[0][1]})
    ctx.state["offer"] = "health_booking"  # a bare "好的" next turn accepts the offer to book
    groups = [{"department": cs[0].name[ctx.lang], "symptom": symptom, "hospitals": [_where(ctx, c) for c in cs]}
              for symptom, cs, _ in found]
    ctx.finish(_t(ctx, "suggest", groups=groups), "answered", departments=[g["department"] for g in groups])


def _identity(ctx, s, text: str, awaiting, notes: list[str]) -> str:
    """Take a resident ID and a mobile number out of the text into the slots, masked and hashed."""
    m = words.ID.search(text)
    if m and guardrails.valid_resident_id(m.group(0)):
        s["id_masked"] = guardrails.mask_resident_ids(m.group(0).upper())
    elif m or awaiting == "id":
        notes.append(_t(ctx, "id_invalid"))
    text = words.ID.sub(" ", text)
    phone = guardrails.phone_digits(text)
    if phone:
        s["phone_hash"], s["phone_masked"] = ctx.desk.phone_digest(phone), guardrails.mask_pii(phone)
    elif awaiting == "phone":
        notes.append(_t(ctx, "phone_invalid"))
    return words.MOBILE.sub(" ", text)


def _set(s: dict, key: str, value) -> None:
    """A new value for a detail: the chosen slot, the confirmation and what depended on the old value go."""
    if s.get(key) != value:
        s[key] = value
        for dependent in _CLEARS.get(key, ()) + ("slot", "request"):
            s.pop(dependent, None)


def _absorb(ctx, s, awaiting, notes: list[str]) -> bool:
    """Fill every detail this message gives; returns whether any of them changed."""
    sessions, text = ctx.desk.sessions, ctx.query
    before = [s.get(k) for k in _TRACKED]
    if awaiting == "name" and not words.CHANGE.search(text) and words.FILLER.sub("", dates.remove(text)):
        name = words.patient_name(_identity(ctx, s, text, awaiting, notes))
        if name:
            s["name"] = name
        else:
            notes.append(_t(ctx, "name_invalid"))
        return before != [s.get(k) for k in _TRACKED]
    hospital, rest = booking.match_hospital(sessions, text)
    doctor = booking.match_doctor(sessions, rest, s.get("department_id") if awaiting == "time" else None)
    codes, rest = booking.match_departments(sessions, rest)
    hospital = hospital or (words.pick(text, s.get("offered", [])) if awaiting == "hospital" else None)
    if awaiting == "department" and not codes:
        codes = words.pick(text, [o["codes"] for o in s.get("offer", [])]) or []
    offered, other, earliest = False, words.OTHER_TIME.search(text), awaiting == "time" and words.EARLIEST.search(text)
    if not codes and not doctor and (awaiting == "department" or not s.get("codes")):
        found = booking.suggest(sessions, rest)
        if len(found) == 1 or (found and found[0][2] > found[1][2]):
            codes = sorted({c.code for c in found[0][1]})
            notes.append(_t(ctx, "suggested", symptom=found[0][0], department=found[0][1][0].name[ctx.lang]))
        elif found:
            s["offer"], offered = [{"codes": sorted({c.code for c in cs}), "department": cs[0].name[ctx.lang],
                                    "symptom": symptom} for symptom, cs, _ in found], True
    for key, value in (("codes", codes), ("hospital", hospital)):
        if value:
            _set(s, key, value)
    day = dates.parse_date(rest, ctx.desk.today())
    if day and s.get("day") not in (None, day.isoformat()):
        notes.append(_t(ctx, "date_changed", day=dates.format_day(day, ctx.lang)))
    if day:
        _set(s, "day", day.isoformat())
    when = dates.parse_time(rest) if not other else None
    if when and when.clock:  # a clock time stands for itself, whatever period was asked for before
        s.pop("period", None)
        _set(s, "time", when.clock)
    elif when:
        _set(s, "period", when.period)
    if doctor:
        _set(s, "codes", [doctor[1].code])
        _set(s, "hospital", doctor[1].hospital_id)
        _set(s, "doctor", doctor[0])
    for key in ("time", "period", "doctor", "slot", "request") if other else ():
        s.pop(key, None)
    if earliest:
        s["earliest"] = True
    _identity(ctx, s, rest, awaiting, notes)
    named = words.NAME_IN.search(ctx.query)
    name = words.patient_name(named.group(1) or named.group(2)) if named else None
    if name:
        s["name"] = name
    changed = before != [s.get(k) for k in _TRACKED]
    if awaiting in ("department", "hospital", "date", "time") and not (changed or any(
            (codes, hospital, doctor, day, when, offered, other, earliest))):
        notes.append(_t(ctx, f"{awaiting}_unknown"))
    return changed


def _book(ctx, s, awaiting) -> None:
    notes: list[str] = []
    changed = _absorb(ctx, s, awaiting, notes)
    if awaiting == "confirm" and not changed and "slot" in s:
        answer = words.short(ctx.query)
        if words.YES.fullmatch(answer):
            return _commit(ctx, s)
        if words.NO.fullmatch(answer):
            ctx.end_skill()
            return ctx.finish(_t(ctx, "declined"), "cancelled")
        notes.append(_t(ctx, "confirm_unclear"))
    _advance(ctx, s, notes)
    s.pop("earliest", None)


def _days(ctx, clinic: booking.Clinic, near: dt.date) -> list[str]:
    """Up to three days with free slots at this clinic, nearest to `near`, as a citizen reads them."""
    now = ctx.desk.now()
    last = now.date() + dt.timedelta(BOOKING_DAYS - 1)
    free = booking.free_days(ctx.desk.sessions, clinic.department_id, now, last)
    nearest = sorted(free, key=lambda d: abs((dt.date.fromisoformat(d) - near).days))[:3]
    return [dates.format_day(dt.date.fromisoformat(d), ctx.lang) for d in sorted(nearest)]


def _advance(ctx, s, notes: list[str]) -> None:
    """Ask for the first missing or unusable detail: department, hospital, date; then the slot."""
    sessions, now, lang = ctx.desk.sessions, ctx.desk.now(), ctx.lang
    if not s.get("codes"):
        return _ask(ctx, "department", notes, offer=s.get("offer", []))
    every = sorted(booking.clinics(sessions, s["codes"]), key=lambda c: bool(c.suspended))
    open_ = [c for c in every if not c.suspended]
    if not open_:
        notes.append(_t(ctx, "closed_everywhere", department=every[0].name[lang]))
        s.pop("codes")
        return _ask(ctx, "department", notes, offer=[])
    if not s.get("hospital") and len({c.hospital_id for c in open_}) == 1:
        s["hospital"] = open_[0].hospital_id
        notes.append(_t(ctx, "only_hospital", **_where(ctx, open_[0])))
    clinic = next((c for c in every if c.hospital_id == s.get("hospital")), None)
    if s.get("hospital") and (clinic is None or clinic.suspended):
        if clinic:
            notes.append(_t(ctx, "closed", reason=clinic.suspended[lang], **_where(ctx, clinic)))
        else:
            named = next(c for c in booking.clinics(sessions) if c.hospital_id == s["hospital"])
            notes.append(_t(ctx, "hospital_lacks", hospital=named.hospital[lang], department=open_[0].name[lang]))
        s.pop("hospital")
    if not s.get("hospital"):
        s["offered"] = [c.hospital_id for c in open_]
        return _ask(ctx, "hospital", notes, department=open_[0].name[lang], clinics=[_where(ctx, c) for c in open_])
    s["department_id"], where = clinic.department_id, _where(ctx, clinic)
    if not s.get("day"):
        return _ask(ctx, "date", notes, window=BOOKING_DAYS, days=_days(ctx, clinic, now.date()), **where)
    day, last = dt.date.fromisoformat(s["day"]), now.date() + dt.timedelta(BOOKING_DAYS - 1)
    free = booking.openings(sessions, clinic.department_id, day, now) if now.date() <= day <= last else []
    if free:
        return _choose_slot(ctx, s, clinic, day, free, notes)
    suggested = []
    if day < now.date() or day > last:
        key, suggested = ("date_past" if day < now.date() else "date_too_far"), _days(ctx, clinic, now.date())
    else:
        key = "day_full" if booking.has_clinic(sessions, clinic.department_id, day) else "no_clinic"
        where["elsewhere"] = [c.hospital[lang] for c in open_ if c.hospital_id != clinic.hospital_id
                              and booking.openings(sessions, c.department_id, day, now)]
    notes.append(_t(ctx, key, day=dates.format_day(day, lang), window=BOOKING_DAYS, last=dates.format_day(last, lang),
                    days=_days(ctx, clinic, day), **where))
    s.pop("day")
    _ask(ctx, "date", notes, window=BOOKING_DAYS, days=suggested, **where)


def _groups(ctx, openings: list[booking.Opening]) -> list[dict]:
    """Free times grouped by doctor, with the doctor's title and fee."""
    groups: dict[str, dict] = {}
    for o in openings:
        groups.setdefault(o.doctor_id, {"doctor": o.doctor[ctx.lang], "title": o.title[ctx.lang], "fee": o.fee,
                                        "times": []})["times"].append(o.start)
    return list(groups.values())


def _choose_slot(ctx, s, clinic, day: dt.date, free: list[booking.Opening], notes: list[str]) -> None:
    """Narrow the free slots by period, doctor and time to one; then ask for the patient, then confirm."""
    where, earliest = {**_where(ctx, clinic), "day": dates.format_day(day, ctx.lang)}, s.pop("earliest", False)
    shown = [o for o in free if s.get("period") in (None, "morning" if o.start < "12:00" else "afternoon")]
    if not shown:
        notes.append(_t(ctx, "period_empty", period=s.pop("period")))
        shown = free
    mine = [o for o in shown if o.doctor_id == s.get("doctor")]
    if s.get("doctor") and not mine:
        notes.append(_t(ctx, "doctor_busy"))
        s.pop("doctor")
    shown = mine or shown
    chosen = next((o for o in free if o.slot_id == s.get("slot")), None)
    if s.get("slot") and not chosen:
        notes.append(_t(ctx, "taken"))
        s.pop("slot")
    at = [o for o in shown if o.start == s.get("time")]
    if not chosen and s.get("time") and not at:
        notes.append(_t(ctx, "time_unavailable", time=s.pop("time")))
    elif not chosen and len(at) > 1:
        return _ask(ctx, "time", notes, template="ask_doctor", time=s["time"], groups=_groups(ctx, at))
    chosen = chosen or (at[0] if at else None) or (shown[0] if earliest else None)
    if not chosen:
        return _ask(ctx, "time", notes, groups=_groups(ctx, shown), **where)
    s.update(slot=chosen.slot_id, time=chosen.start)
    for slot, key in (("name", "name"), ("id", "id_masked"), ("phone", "phone_hash")):
        if not s.get(key):
            return _ask(ctx, slot, notes)
    s.setdefault("request", secrets.token_hex(8))
    _ask(ctx, "confirm", notes, **where, doctor=chosen.doctor[ctx.lang], title=chosen.title[ctx.lang],
         time=chosen.start, fee=chosen.fee, name=s["name"], id_masked=s["id_masked"], phone_masked=s["phone_masked"])


def _commit(ctx, s) -> None:
    """Book the confirmed slot; a repeated confirmation gets the same booking, a lost race other times."""
    key = hashlib.sha256(f"{ctx.conversation.id}|{s['request']}|{s['slot']}".encode()).hexdigest()
    started = f"{s['day']} {s['time']}" <= ctx.desk.now().strftime("%Y-%m-%d %H:%M")
    outcome = booking.Outcome("taken") if started else booking.book(
        ctx.desk.sessions, slot_id=s["slot"], request_key=key, patient_name=s["name"], id_masked=s["id_masked"],
        phone_hash=s["phone_hash"], phone_masked=s["phone_masked"], session_id=ctx.conversation.id)
    if outcome.status == "taken":
        for gone in ("slot", "time", "request"):
            s.pop(gone, None)
        return _advance(ctx, s, [_t(ctx, "taken")])
    ctx.end_skill()
    if outcome.status in ("duplicate", "limit"):  # the earlier booking is named only to the phone that made it
        return ctx.finish(_t(ctx, outcome.status, code=outcome.appointment.code if outcome.appointment else ""),
                          "answered")
    shown = _shown(ctx, outcome.appointment)
    # this chat made it: cancelling it here needs neither its code nor its phone again
    ctx.state["booked"] = {"code": shown["code"], "phone_hash": s["phone_hash"]}
    ctx.finish(_t(ctx, "booked", **shown), "booked", code=shown["code"])


def _cancel(ctx, s, awaiting) -> None:
    """Cancel a booking given its code and the phone it was booked with, after a yes to what will go."""
    sessions, notes, code = ctx.desk.sessions, [], words.CODE.search(ctx.query)
    made_here = ctx.state.get("booked")
    if made_here and not s.get("code") and not code:
        s.update(made_here)  # "取消刚才的预约": the booking this chat made (a code given goes the usual way)
    if code:
        s["code"] = code.group(0).upper()
    elif awaiting == "code":
        notes.append(_t(ctx, "code_invalid"))
    before = s.get("phone_hash")
    _identity(ctx, s, words.CODE.sub(" ", ctx.query), awaiting, notes)
    answer = words.short(ctx.query) if awaiting == "confirm" and not code and s.get("phone_hash") == before else ""
    if answer and words.NO.fullmatch(answer):
        ctx.end_skill()
        return ctx.finish(_t(ctx, "kept"), "answered")
    if answer and not words.YES.fullmatch(answer):
        notes.append(_t(ctx, "confirm_unclear"))
        answer = ""
    if not s.get("code"):
        return _ask(ctx, "code", notes)
    if not s.get("phone_hash"):
        return _ask(ctx, "phone", notes, template="ask_lookup")
    if guardrails.lookups_blocked(ctx.state):
        ctx.end_skill()
        return ctx.finish(render("too_many_lookups", ctx.lang), "refused")
    found, now = booking.find(sessions, s["code"], s["phone_hash"]), ctx.desk.now()
    starts = dt.datetime.fromisoformat(f"{found.day}T{found.start}").replace(tzinfo=now.tzinfo) if found else now
    if found and starts - now < CANCEL_BEFORE:
        ctx.end_skill()
        return ctx.finish(_t(ctx, "too_late", code=found.code), "answered")
    if found and answer:
        found = booking.cancel(sessions, s["code"], s["phone_hash"])
        if found:
            ctx.end_skill()
            if (ctx.state.get("booked") or {}).get("code") == found.code:
                ctx.state.pop("booked")
            return ctx.finish(_t(ctx, "cancelled", code=found.code), "cancelled", code=found.code)
    if not found:  # the same reply for a wrong code and a wrong phone, so codes cannot be probed
        guardrails.note_failed_lookup(ctx.state)
        ctx.end_skill()
        return ctx.finish("\n".join(notes + [_t(ctx, "not_found")]), "answered")
    _ask(ctx, "confirm", notes, template="cancel_summary", **_shown(ctx, found))


def _list(ctx, s, awaiting) -> None:
    """The active bookings made with the phone the citizen gives, and nobody else's."""
    notes: list[str] = []
    _identity(ctx, s, ctx.query, awaiting, notes)
    if not s.get("phone_hash"):
        return _ask(ctx, "phone", notes, template="ask_lookup")
    items = booking.bookings_for(ctx.desk.sessions, s["phone_hash"], ctx.desk.today())
    ctx.end_skill()
    ctx.finish(_t(ctx, "bookings" if items else "no_bookings", phone=s["phone_masked"],
                  items=[_shown(ctx, a) for a in items]), "answered", count=len(items))
