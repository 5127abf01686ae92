"""The seed loader: tables filled once, slots for the next 14 days, nothing duplicated on a second start."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from assistant import Assistant
from assistant.services.database import make_session_factory
from assistant.services.db import Application, Department, Doctor, Hospital, Slot
from assistant.services.seeds import BOOKING_DAYS, ensure_slots, load_seeds, read

pytestmark = pytest.mark.integration


def counts(sessions):
    with sessions() as db:
        return [db.scalar(select(func.count()).select_from(t)) for t in (Hospital, Department, Doctor, Application, Slot)]


def test_loading_twice_adds_nothing_and_every_slot_belongs_to_a_real_doctor(tmp_path):
    sessions = make_session_factory(f"sqlite:///{tmp_path}/seed.db")
    today = dt.date(2026, 11, 28)
    load_seeds(sessions, phone_digest=lambda phone: "h" + phone)
    added = ensure_slots(sessions, today)
    first = counts(sessions)
    load_seeds(sessions, phone_digest=lambda phone: "h" + phone)
    assert ensure_slots(sessions, today) == 0 and counts(sessions) == first
    hospitals = read("hospitals")["hospitals"]
    assert first[0] == len(hospitals) and first[3] == len(read("applications")["applications"])
    assert added == first[4] > 0
    with sessions() as db:
        orphans = db.scalar(select(func.count()).select_from(Slot).outerjoin(Doctor, Slot.doctor_id == Doctor.id)
                            .where(Doctor.id.is_(None)))
        days = sorted({d for (d,) in db.execute(select(Slot.day).distinct())})
        mismatched = db.scalar(select(func.count()).select_from(Slot).join(Doctor, Slot.doctor_id == Doctor.id)
                               .where(Slot.department_id != Doctor.department_id))
    assert orphans == 0 and mismatched == 0
    assert days[0] >= today.isoformat() and days[-1] <= (today + dt.timedelta(days=BOOKING_DAYS - 1)).isoformat()


def test_the_next_day_adds_only_its_slots(tmp_path):
    sessions = make_session_factory(f"sqlite:///{tmp_path}/seed.db")
    load_seeds(sessions, phone_digest=lambda phone: "h" + phone)
    ensure_slots(sessions, dt.date(2026, 11, 28))
    before = counts(sessions)[4]
    added = ensure_slots(sessions, dt.date(2026, 11, 29))
    with sessions() as db:
        last = db.scalar(select(Slot.day).order_by(Slot.day.desc()).limit(1))
    assert counts(sessions)[4] == before + added and last == "2026-12-12"


def test_a_database_made_on_a_later_day_gets_the_earlier_days_of_the_window(tmp_path):
    # a test database copied from a template made today, used with a clock set to an earlier day
    sessions = make_session_factory(f"sqlite:///{tmp_path}/seed.db")
    load_seeds(sessions, phone_digest=lambda phone: "h" + phone)
    ensure_slots(sessions, dt.date(2026, 12, 3))
    assert ensure_slots(sessions, dt.date(2026, 12, 1)) > 0
    with sessions() as db:
        days = {d for (d,) in db.execute(select(Slot.day).distinct())}
    assert {"2026-12-01", "2026-12-02"} <= days
    assert ensure_slots(sessions, dt.date(2026, 12, 1)) == 0


def test_two_assistants_on_one_home_share_the_seeded_database(tmp_path):
    from tests.conftest import make_settings

    first = Assistant.from_settings(make_settings(tmp_path / "home", tmp_path / "k"))
    second = Assistant.from_settings(make_settings(tmp_path / "home", tmp_path / "k"))
    assert counts(first.sessions) == counts(second.sessions)
    assert first.phone_digest("13800001532") == second.phone_digest("13800001532")
