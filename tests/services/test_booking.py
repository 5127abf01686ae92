"""The booking transaction layer on a real SQLite database: races, repeats, cancelling, listing, look-ups."""

import datetime as dt
import hashlib
import multiprocessing
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.services import booking, clinic_match
from assistant.services.database import make_session_factory
from assistant.services.db import Booking, Department, Doctor, Slot
from assistant.services.seeds import ensure_slots, load_seeds

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Tuesday, before the clinics open
RACERS = 8


def digest(phone: str) -> str:
    return hashlib.sha256(phone.encode()).hexdigest()


def seeded(path) -> str:
    url = f"sqlite:///{path / 'booking.db'}"
    sessions = make_session_factory(url)
    load_seeds(sessions, phone_digest=digest)
    ensure_slots(sessions, NOW.date())
    return url


@pytest.fixture
def db_url(tmp_path) -> str:
    return seeded(tmp_path)


@pytest.fixture
def sessions(db_url):
    return make_session_factory(db_url)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """A database the look-up tests only read."""
    return make_session_factory(seeded(tmp_path_factory.mktemp("catalogue")))


def clinic(sessions, hospital_id: str, code: str) -> booking.Clinic:
    return next(c for c in booking.clinics(sessions, [code]) if c.hospital_id == hospital_id)


def last_free_slot(sessions) -> int:
    """The genetic counselling clinic has one slot a week: Wednesday 2 December, 13:30."""
    free = booking.openings(sessions, clinic(sessions, "cw-mch", "genetic-counselling").department_id,
                            dt.date(2026, 12, 2), NOW)
    assert [o.start for o in free] == ["13:30"]
    return free[0].slot_id


def attempt(sessions, slot_id: int, n: int, request_key: str | None = None) -> booking.Outcome:
    return booking.book(sessions, slot_id=slot_id, request_key=request_key or f"request-{n}",
                        patient_name=f"患者{n}", id_masked=f"110105********{n:03d}X",
                        phone_hash=digest(f"1380000{n:04d}"), phone_masked="138****0000")


def race_in_process(url: str, slot_id: int, n: int, barrier, results) -> None:
    sessions = make_session_factory(url)
    barrier.wait()
    outcome = attempt(sessions, slot_id, n)
    results.put((outcome.status, outcome.appointment.code if outcome.appointment else None))


def held_by(sessions, slot_id: int) -> tuple[list[Booking], str | None]:
    with sessions() as db:
        return (db.scalars(select(Booking).where(Booking.slot_id == slot_id)).all(),
                db.get(Slot, slot_id).booking_code)


def race(act):
    """Run act(n) in RACERS threads released at the same moment; their results in order."""
    barrier, outcomes = threading.Barrier(RACERS), [None] * RACERS

    def run(n):
        barrier.wait()
        outcomes[n] = act(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.slow
def test_threads_racing_for_the_last_slot_give_exactly_one_booking(sessions):
    slot_id = last_free_slot(sessions)
    outcomes = race(lambda n: attempt(sessions, slot_id, n))
    assert Counter(o.status for o in outcomes) == {"booked": 1, "taken": RACERS - 1}
    winner = next(o.appointment for o in outcomes if o.status == "booked")
    rows, code = held_by(sessions, slot_id)
    assert [b.code for b in rows] == [winner.code] == [code]
    assert rows[0].active_slot_id == slot_id


@pytest.mark.slow
def test_processes_racing_for_the_last_slot_give_exactly_one_booking(db_url, sessions):
    slot_id = last_free_slot(sessions)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(RACERS), context.Queue()
    workers = [context.Process(target=race_in_process, args=(db_url, slot_id, n, barrier, results))
               for n in range(RACERS)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert Counter(status for status, _ in outcomes) == {"booked": 1, "taken": RACERS - 1}
    rows, code = held_by(sessions, slot_id)
    assert len(rows) == 1 and rows[0].code == code == next(c for s, c in outcomes if s == "booked")


@pytest.mark.slow
def test_one_request_sent_many_times_at_once_books_once(sessions):
    slot_id = last_free_slot(sessions)
    outcomes = race(lambda n: attempt(sessions, slot_id, 1, request_key="the-same-confirmation"))
    assert Counter(o.status for o in outcomes) == {"booked": 1, "repeated": RACERS - 1}
    assert len({o.appointment.code for o in outcomes}) == 1
    assert len(held_by(sessions, slot_id)[0]) == 1


def test_a_repeated_request_returns_the_booking_it_made(sessions):
    slot_id = last_free_slot(sessions)
    first = attempt(sessions, slot_id, 1, request_key="k1")
    again = attempt(sessions, slot_id, 1, request_key="k1")
    other = attempt(sessions, slot_id, 2, request_key="k2")
    assert (first.status, again.status, other.status) == ("booked", "repeated", "taken")
    assert again.appointment.code == first.appointment.code and first.appointment.code.startswith("BK")
    assert len(held_by(sessions, slot_id)[0]) == 1


def test_the_database_itself_refuses_two_active_bookings_for_one_slot(sessions):
    slot_id = last_free_slot(sessions)
    with pytest.raises(IntegrityError), sessions.begin() as db:
        for n in (1, 2):
            db.add(Booking(code=f"BKTEST0{n}", slot_id=slot_id, active_slot_id=slot_id, request_key=f"r{n}",
                           patient_name="x", id_masked="x", phone_hash="x", phone_masked="x"))
            db.flush()


def test_the_booking_keeps_no_clear_id_or_phone(sessions):
    made = booking.book(sessions, slot_id=last_free_slot(sessions), request_key="k", patient_name="张伟",
                        id_masked="110105********002X", phone_hash=digest("13800001234"), phone_masked="138****1234")
    assert made.status == "booked"
    with sessions() as db:
        row = db.scalar(select(Booking))
    stored = " ".join(str(getattr(row, c.key)) for c in Booking.__table__.columns)
    assert "13800001234" not in stored and "11010519491231002X" not in stored
    assert made.appointment.clinic.name["zh"] == "遗传咨询门诊" and made.appointment.fee == 35


def test_one_patient_gets_one_booking_per_department_and_day(sessions):
    cardiology = clinic(sessions, "cw-first", "cardiology")
    first, second = booking.openings(sessions, cardiology.department_id, dt.date(2026, 12, 2), NOW)[:2]
    kept = attempt(sessions, first.slot_id, 1)
    again = attempt(sessions, second.slot_id, 1, request_key="another-request")
    assert again.status == "duplicate" and again.appointment.code == kept.appointment.code
    assert held_by(sessions, second.slot_id) == ([], None)
    other_phone = booking.book(sessions, slot_id=second.slot_id, request_key="k3", patient_name="患者1",
                               id_masked="110105********001X", phone_hash=digest("13700000000"),
                               phone_masked="137****0000")
    assert other_phone.status == "duplicate" and other_phone.appointment is None  # not shown to another phone


def test_cancel_needs_the_phone_it_was_booked_with_and_frees_the_slot(sessions):
    slot_id = last_free_slot(sessions)
    made = attempt(sessions, slot_id, 1).appointment
    assert booking.cancel(sessions, made.code, digest("13900009999")) is None
    assert booking.find(sessions, made.code, digest("13900009999")) is None
    assert booking.find(sessions, made.code, digest("13800000001")).code == made.code
    gone = booking.cancel(sessions, made.code.lower(), digest("13800000001"))
    assert gone.code == made.code and gone.status == "cancelled"
    assert booking.cancel(sessions, made.code, digest("13800000001")) is None  # only once
    assert held_by(sessions, slot_id)[1] is None
    assert attempt(sessions, slot_id, 2).status == "booked"  # the slot can be booked again


def test_bookings_for_a_phone_are_only_its_own(sessions):
    cardiology = clinic(sessions, "cw-first", "cardiology")
    free = booking.openings(sessions, cardiology.department_id, dt.date(2026, 12, 2), NOW)
    mine, theirs = attempt(sessions, free[0].slot_id, 1), attempt(sessions, free[1].slot_id, 2)
    listed = booking.bookings_for(sessions, digest("13800000001"), NOW.date())
    assert [a.code for a in listed] == [mine.appointment.code] != [theirs.appointment.code]
    assert booking.bookings_for(sessions, digest("13700000000"), NOW.date()) == []


def test_openings_skip_slots_that_have_started(sessions):
    cardiology = clinic(sessions, "cw-first", "cardiology")
    wednesday = dt.date(2026, 12, 2)
    later = NOW.replace(day=2, hour=9, minute=10)
    assert booking.openings(sessions, cardiology.department_id, wednesday, NOW)[0].start == "08:00"
    assert booking.openings(sessions, cardiology.department_id, wednesday, later)[0].start == "09:30"
    assert booking.openings(sessions, cardiology.department_id, dt.date(2026, 11, 30), NOW) == []
    days = booking.free_days(sessions, cardiology.department_id, NOW, dt.date(2026, 12, 14))
    assert "2026-12-05" not in days and days["2026-12-02"] == 12  # no Saturday clinic; 7 + 5 slots on Wednesday


@pytest.mark.parametrize("text, hospital_id", [
    ("帮我约一院的号", "cw-first"), ("澄湾市第一人民医院", "cw-first"), ("中医院", "cw-tcm"), ("中心医院", "cw-central"),
    ("儿童医院的儿内科", "cw-children"), ("去妇幼", "cw-mch"), ("高新区人民医院", "cw-hitech"),
    ("Chengwan Central Hospital", "cw-central"), ("the children's hospital", "cw-children"),
    ("First People's Hospital", "cw-first"), ("我想挂个号", None),
])
def test_hospitals_by_name_alias_or_district(catalogue, text, hospital_id):
    assert clinic_match.match_hospital(catalogue, text)[0] == hospital_id


@pytest.mark.parametrize("text, codes", [
    ("心内科", ["cardiology"]), ("牙科", ["stomatology"]), ("儿童眼科", ["pediatric-ophthalmology"]),
    ("眼科", ["ophthalmology"]), ("ENT please", ["ent"]), ("Cardiology", ["cardiology"]),
    ("make an appointment", []), ("妇科", ["obgyn", "gynecology"]),
])
def test_departments_by_name_or_alias(catalogue, text, codes):
    assert sorted(clinic_match.match_departments(catalogue, text)[0]) == sorted(codes)


def test_symptoms_suggest_departments_without_closed_clinics(catalogue):
    symptom, clinics, _ = clinic_match.suggest(catalogue, "头疼得厉害挂什么科")[0]
    assert symptom == "头痛" and {c.code for c in clinics} == {"neurology"}
    child = clinic_match.suggest(catalogue, "孩子发烧咳嗽挂什么科")[0][1]
    assert all(c.hospital_id == "cw-children" or "pediatrics" in c.code for c in child)
    teeth = clinic_match.suggest(catalogue, "I have a toothache")[0][1]
    assert {c.hospital_id for c in teeth} == {"cw-first", "cw-hitech"}  # Central's dental clinic is closed
    assert clinic_match.suggest(catalogue, "办护照要什么材料") == []


def test_doctors_by_name(catalogue):
    doctor_id, found = clinic_match.match_doctor(catalogue, "我要挂金浩然医生的号")
    assert doctor_id == "cw-first-cardio-01" and found.hospital_id == "cw-first"
    assert clinic_match.match_doctor(catalogue, "金浩然") is None  # no mention of a doctor: could be anyone's name
    with catalogue() as db:
        department_id = db.scalar(select(Doctor.department_id).where(Doctor.id == "cw-first-cardio-02"))
        assert db.get(Department, department_id).code == "cardiology"
    assert clinic_match.match_doctor(catalogue, "Ni Yan", department_id)[0] == "cw-first-cardio-02"
