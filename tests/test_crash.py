"""Bookings survive `kill -9` of a real server and concurrent citizens racing for one slot over HTTP.

The server is `citydesk serve` in a subprocess on a free 127.0.0.1 port with its own CITYDESK_HOME;
citizens are httpx clients that talk to the OpenAI-compatible API, whose reply carries the skill's
state (what it asks for, the booking code). After each crash the database is checked directly.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from assistant.services.database import make_session_factory
from assistant.services.db import Booking, Slot
from tests.live import ROOT, free_port, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
CLINICS = (("第一人民医院", "心内科"), ("中心医院", "神经内科"), ("第一人民医院", "呼吸内科"), ("中心医院", "消化内科"))
TIME_LINE = re.compile(r"^- (.+?)[（(].*?[：:]\s*(.+)$", re.MULTILINE)
CLOCK = re.compile(r"\b\d{2}:\d{2}\b")
DAY_ZH = re.compile(r"\d{1,2}月\d{1,2}日")
HOSPITAL = re.compile(r"澄湾市\S+?医院")


def resident_id(n: int) -> str:
    """A valid resident ID number (with its check digit) for citizen `n`."""
    base = f"110105{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return base + "10X98765432"[sum(int(d) * w for d, w in zip(base, WEIGHTS)) % 11]


def citizen(n: int) -> dict:
    return {"name": SURNAMES[n % 20] + GIVEN[(n // 20) % 20] + GIVEN[(n // 400) % 20],
            "id": resident_id(n), "phone": f"139{n:08d}"}


@contextmanager
def citydesk_serve(home: Path, knowledge: Path, log: Path, **env: str):
    """`citydesk serve` in a subprocess; yields (base URL, process) once /healthz answers at all."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    full.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", CITYDESK_HOME=str(home),
                CITYDESK_KNOWLEDGE=str(knowledge), CITYDESK_RATE_LIMIT="0", **env)
    with open(log, "a") as out:
        process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], cwd=ROOT,
                                   env=full, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"citydesk serve exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                httpx.get(url + "/healthz", timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"citydesk serve did not answer: {log.read_text()[-2000:]}") from None
                time.sleep(0.5)
        yield url, process
    finally:
        stop(process)


class Session:
    """One citizen's conversation over /v1/chat/completions; each call returns (text, status, data)."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client, self.url, self.id = client, url, None

    def __call__(self, text: str) -> tuple[str, str, dict]:
        headers = {"X-Session-Id": self.id} if self.id else {}
        response = self.client.post(self.url + "/v1/chat/completions", headers=headers,
                                    json={"messages": [{"role": "user", "content": text}]})
        response.raise_for_status()
        body = response.json()
        self.id = body["citydesk"]["session_id"]
        return body["choices"][0]["message"]["content"], body["citydesk"]["status"], body["citydesk"]["data"]


def answer_for(asks: str, text: str, person: dict, rng: random.Random) -> str | None:
    """What a citizen says when the booking skill asks for `asks`, read from the question's text."""
    if asks == "time":
        lines = TIME_LINE.findall(text)
        if lines:
            doctor, times = rng.choice(lines)
            return f"{doctor} {rng.choice(CLOCK.findall(times) or ['最早的'])}"
        return "最早的"
    if asks == "date":
        days = DAY_ZH.findall(text)
        return rng.choice(days) if days else "后天"
    if asks == "hospital":
        names = HOSPITAL.findall(text)
        return rng.choice(names) if names else None
    return {"name": person["name"], "id": person["id"], "phone": person["phone"], "confirm": "是"}.get(asks)


def book_one(session: Session, person: dict, rng: random.Random) -> str | None:
    """A whole booking conversation; the booking code once the server has acknowledged it, else None."""
    hospital, department = rng.choice(CLINICS)
    text, status, data = session(f"帮我约{rng.choice(['明天', '后天'])}{hospital}{department}")
    for _ in range(12):
        if status == "booked":
            return data["code"]
        said = answer_for(data.get("asks_for", ""), text, person, rng) if status == "asking" else None
        if said is None:
            return None
        text, status, data = session(said)
    return None


def check_bookings(db_url: str, acknowledged: dict[str, str]) -> dict:
    """Every acknowledged booking is there once, holding its slot; no slot is held without its booking."""
    sessions = make_session_factory(db_url)
    with sessions() as db:
        bookings = db.scalars(select(Booking)).all()
        held = {s.id: s.booking_code for s in db.scalars(select(Slot).where(Slot.booking_code.is_not(None)))}
    by_code = {b.code: b for b in bookings}
    active = [b for b in bookings if b.status == "booked"]
    return {
        "lost": sorted(c for c in acknowledged if c not in by_code or by_code[c].status != "booked"),
        "doubled": len(active) - len({b.slot_id for b in active}),
        "half_bookings": sorted(c for c in by_code if by_code[c].status == "booked"
                                and (held.get(by_code[c].slot_id) != c or by_code[c].active_slot_id != by_code[c].slot_id)),
        "orphan_slots": sorted(s for s, code in held.items() if code not in by_code or by_code[code].status != "booked"),
        "active": len(active),
    }


@pytest.fixture
def home(tmp_path, _small_template) -> tuple[Path, Path]:
    shutil.copytree(_small_template, tmp_path / "desk")
    return tmp_path / "desk" / "home", tmp_path / "desk" / "knowledge"


def test_kill_9_during_a_stream_of_bookings_loses_and_halves_nothing(home, tmp_path):
    home_dir, knowledge = home
    db_url = f"sqlite:///{home_dir / 'citydesk.db'}"
    acknowledged: dict[str, str] = {}
    lock, counter = threading.Lock(), iter(range(10**6))
    for round_ in range(3):
        with citydesk_serve(home_dir, knowledge, tmp_path / "serve.log") as (url, process):
            stop, cut = threading.Event(), []

            def citizens(seed: int) -> None:
                rng = random.Random(seed)
                with httpx.Client(timeout=60) as client:
                    while not stop.is_set():
                        with lock:
                            person = citizen(next(counter))
                        try:
                            code = book_one(Session(client, url), person, rng)
                        except httpx.HTTPError as exc:
                            if not isinstance(exc, httpx.ConnectError):
                                cut.append(seed)  # a request was in flight when the server died
                            return
                        if code:
                            with lock:
                                acknowledged[code] = person["phone"]

            threads = [threading.Thread(target=citizens, args=(round_ * 100 + i,)) for i in range(6)]
            for thread in threads:
                thread.start()
            before = len(acknowledged)
            deadline = time.monotonic() + 120
            while len(acknowledged) < before + 4 + round_ and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(random.Random(round_).uniform(0, 0.5))  # land the kill at a different point each round
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert len(acknowledged) >= before + 4 + round_, "too few bookings were made before the kill"
        assert cut, "the kill came when no request was in flight"
        found = check_bookings(db_url, acknowledged)
        print(f"round {round_ + 1}: {len(acknowledged)} bookings acknowledged, {len(cut)} conversations cut: {found}")
        assert found["lost"] == [] and found["doubled"] == 0
        assert found["half_bookings"] == [] and found["orphan_slots"] == []
        assert found["active"] >= len(acknowledged)
    with citydesk_serve(home_dir, knowledge, tmp_path / "serve.log") as (url, _):
        code, phone = next(iter(acknowledged.items()))
        with httpx.Client(timeout=60) as client:
            text, status, data = Session(client, url)(f"查一下我的预约 {phone}")
            assert status == "answered" and code in text
            assert book_one(Session(client, url), citizen(10**6 - 1), random.Random(7))  # it books again


def test_citizens_confirming_the_last_slot_at_once_get_exactly_one_booking(home, tmp_path):
    from assistant.services import booking
    from assistant.assistant import Assistant
    from tests.conftest import make_settings

    home_dir, knowledge = home
    desk = Assistant.from_settings(make_settings(home_dir, knowledge))
    clinic = next(c for c in booking.clinics(desk.sessions, ["cardiology"]) if c.hospital_id == "cw-first")
    now = desk.now()
    day, opening = None, None
    for ahead in range(1, 7):
        free = booking.openings(desk.sessions, clinic.department_id, now.date() + dt.timedelta(days=ahead), now)
        alone = [o for o in free if sum(p.start == o.start for p in free) == 1]
        if alone:
            day, opening = now.date() + dt.timedelta(days=ahead), alone[-1]
            break
    assert opening is not None
    people = [citizen(500 + i) for i in range(12)]
    with citydesk_serve(home_dir, knowledge, tmp_path / "serve.log") as (url, _), httpx.Client(timeout=120) as client:
        sessions = [Session(client, url) for _ in people]
        for session, person in zip(sessions, people):
            text, status, data = session(f"帮我约{day.month}月{day.day}日第一人民医院心内科{opening.start}，"
                                         f"就诊人{person['name']}，身份证{person['id']}，手机{person['phone']}")
            assert data.get("asks_for") == "confirm" and opening.start in text
        start = threading.Barrier(len(sessions))
        results: list[tuple[str, str, dict]] = [None] * len(sessions)

        def confirm(i: int) -> None:
            start.wait()
            results[i] = sessions[i]("是")

        threads = [threading.Thread(target=confirm, args=(i,)) for i in range(len(sessions))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    booked = [r for r in results if r[1] == "booked"]
    assert len(booked) == 1
    assert all(status == "asking" and "刚刚被别人约走了" in text for text, status, _ in results if status != "booked")
    with desk.sessions() as db:
        holders = db.scalars(select(Booking).where(Booking.slot_id == opening.slot_id)).all()
    assert [b.code for b in holders] == [booked[0][2]["code"]]
    assert check_bookings(desk.settings.db_url, {booked[0][2]["code"]: ""})["orphan_slots"] == []

