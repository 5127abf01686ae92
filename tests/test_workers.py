"""Two `citydesk serve` processes sharing one home and one SQLite database, driven over HTTP.

A citizen may land on either worker at every turn (as behind a load balancer): the conversation,
the bookings and the slots must be the same whichever worker answers.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from assistant import Assistant
from assistant.services.db import Booking
from tests.conftest import ROOT, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CODE = re.compile(r"BK[A-Z0-9]{6}")
TAKEN = {"zh": "被别人约走", "en": "just taken by someone else"}
START = {"zh": "帮我约第一人民医院心内科", "en": "I'd like to book Cardiology at Chengwan First People's Hospital"}
# the days with free slots that the date question lists (not the example date in its first sentence)
ASK_DOCTOR = re.compile(r"(?:有几位医生可约|Several doctors are free at)[^\n]*\n- ([^（(\n]+)[（(]")
FREE_DAYS = {"zh": re.compile(r"最近有号的日期：(.+)"), "en": re.compile(r"The next days with free slots at [^:]+: (.+)")}
DAY = {"zh": re.compile(r"\d+月\d+日"), "en": re.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d+ [A-Z][a-z]+")}
YES = {"zh": "是", "en": "yes"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workers(tmp_path, small_knowledge):
    """Two servers on one indexed home; yields (assistant on the same home, [client A, client B])."""
    home = tmp_path / "home"
    desk = Assistant.from_settings(make_settings(home, small_knowledge))
    desk.ingest()
    desk.sessions  # creates the shared database with its seed data before the workers start
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env |= {"CITYDESK_HOME": str(home), "CITYDESK_KNOWLEDGE": str(small_knowledge), "CITYDESK_RATE_LIMIT": "0",
            "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"worker-{p}.log" for p in ports]
    processes = [subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(p)], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
                 for p, log in zip(ports, logs)]
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=60) for p in ports]
    try:
        deadline = time.monotonic() + 900
        for client, process, log in zip(clients, processes, logs):
            while True:
                assert process.poll() is None, f"a worker exited during start-up: {log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, f"a worker did not start within 900 s: {log.read_text()[-2000:]}"
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
        yield desk, clients
    finally:
        for client in clients:
            client.close()
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def say(client: httpx.Client, message: str, session: str | None = None) -> dict:
    response = client.post("/api/chat", json={"message": message, "session_id": session})
    assert response.status_code == 200, response.text
    return response.json()


def up_to_confirmation(a: httpx.Client, b: httpx.Client, name: str, resident_id: str, phone: str,
                       first_time: bool = True, lang: str = "zh") -> tuple[str, str]:
    """Alternate workers turn by turn up to the summary; returns (session id, the time chosen)."""
    reply = say(a, START[lang])
    session = reply["session_id"]
    listed = FREE_DAYS[lang].search(reply["reply"])
    assert listed, reply["reply"]
    day = DAY[lang].findall(listed.group(1))[0]
    reply = say(b, day, session)
    times = re.findall(r"\d\d:\d\d", reply["reply"])
    chosen = times[0] if first_time else times[1]
    picked = say(a, chosen, session)
    assert picked["status"] == "asking"
    doctor = ASK_DOCTOR.search(picked["reply"])  # on some days several doctors are free at that time
    if doctor:
        assert say(b, doctor.group(1).strip(), session)["status"] == "asking"
    say(b, name, session)
    say(a, resident_id, session)
    summary = say(b, phone, session)
    assert summary["status"] == "asking" and chosen in summary["reply"] and name in summary["reply"]
    return session, chosen


def bookings(desk) -> list[Booking]:
    with desk.sessions() as db:
        return db.scalars(select(Booking).order_by(Booking.id)).all()


def test_a_conversation_moves_between_workers_and_its_booking_is_seen_by_both(workers):
    desk, (a, b) = workers
    session, chosen = up_to_confirmation(a, b, "王芳", "11010519491231002X", "13800001234")
    booked = say(a, YES["zh"], session)
    assert booked["status"] == "booked" and chosen in booked["reply"]
    code = CODE.search(booked["reply"]).group(0)
    history = b.get(f"/api/sessions/{session}").json()["messages"]
    assert any(code in str(m) for m in history)  # written by worker A, read back by worker B
    other, _ = up_to_confirmation(b, a, "Li Na", "440306198506123212", "13900005678", first_time=False, lang="en")
    assert say(b, YES["en"], other)["status"] == "booked"
    rows = bookings(desk)
    assert [r.code for r in rows][0] == code and len(rows) == 2
    assert {r.patient_name for r in rows} == {"王芳", "Li Na"}
    for client in (a, b):
        assert client.get("/api/stats").json()["by_status"]["booked"] == 2


def test_two_workers_confirming_the_same_slot_at_once_book_it_once(workers):
    desk, (a, b) = workers
    first, chosen = up_to_confirmation(a, b, "王芳", "11010519491231002X", "13800001234")
    second, same = up_to_confirmation(b, a, "Li Na", "440306198506123212", "13900005678", lang="en")
    assert chosen == same
    barrier, replies = threading.Barrier(2), {}

    def confirm(client, session, lang):
        barrier.wait()
        replies[session] = say(client, YES[lang], session) | {"asked_in": lang}

    threads = [threading.Thread(target=confirm, args=(a, first, "zh")),
               threading.Thread(target=confirm, args=(b, second, "en"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted(r["status"] for r in replies.values())
    assert statuses.count("booked") == 1, statuses
    with desk.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Booking)) == 1
    loser = next(r for r in replies.values() if r["status"] != "booked")
    assert TAKEN[loser["asked_in"]] in loser["reply"] and not CODE.search(loser["reply"])
