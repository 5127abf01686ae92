"""Degraded operation of a real server: the LLM down or slow, the index missing or damaged, the database locked."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.services import booking
from assistant.services.database import make_session_factory
from assistant.core.prompts import render
from tests.live import ROOT
from tests.llm_server import Response, ScriptedLLM
from tests.test_crash import Session, citizen, citydesk_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def ask(url: str, message: str, lang: str | None = None, session_id: str | None = None) -> dict:
    body = {"message": message, "session_id": session_id, **({"lang": lang} if lang else {})}
    return httpx.post(url + "/api/chat", json=body, timeout=120).json()


def cli(*args: str, home: Path, knowledge: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env.update(CITYDESK_HOME=str(home), CITYDESK_KNOWLEDGE=str(knowledge), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def desk(tmp_path, _small_template) -> Path:
    shutil.copytree(_small_template, tmp_path / "desk")
    return tmp_path / "desk"


def test_with_the_llm_slow_then_down_the_extractive_answer_is_served(desk):
    with ScriptedLLM(default=Response(text="护照每本999元[1]。", delay=30)) as llm:
        with citydesk_serve(desk / "home", desk / "knowledge", desk / "serve.log", CITYDESK_LLM_BASE_URL=llm.url,
                            CITYDESK_LLM_MODEL="test", CITYDESK_LLM_TIMEOUT="2", CITYDESK_LLM_RETRIES="0") as (url, _):
            for phase in ("slow", "down"):
                if phase == "down":
                    llm.close()
                for question, lang in (("办护照要多少钱", "zh"), ("How much does a passport cost?", "en")):
                    began = time.monotonic()
                    reply = ask(url, question)
                    assert reply["status"] == "answered" and reply["lang"] == lang, (phase, reply)
                    assert "120" in reply["reply"] and "999" not in reply["reply"]
                    assert reply["citations"][0]["doc"].startswith("permits/passport")
                    assert time.monotonic() - began < 15
            assert llm.requests, "the server never tried the LLM"


def test_without_an_index_the_server_starts_says_so_and_still_books(tmp_path):
    home, knowledge = tmp_path / "home", tmp_path / "knowledge"
    with citydesk_serve(home, knowledge, tmp_path / "serve.log") as (url, _):
        health = httpx.get(url + "/healthz", timeout=30)
        assert health.status_code == 503
        assert health.json()["index"] == "missing, run citydesk ingest" and health.json()["database"] == "ok"
        for question, lang in (("办护照要多少钱", "zh"), ("How much does a passport cost?", "en")):
            reply = ask(url, question)
            assert reply["status"] == "error" and reply["reply"] == render("index_missing", lang)
        with httpx.Client(timeout=120) as client:
            text, status, data = Session(client, url)(f"查一下我的预约 {citizen(1)['phone']}")
            assert status == "answered" and data["count"] == 0  # skills that need no guide still work


def damage(chroma: Path) -> None:
    with open(chroma / "chroma.sqlite3", "r+b") as f:
        f.write(b"not a database!!" * 256)


def test_a_damaged_vector_store_names_the_rebuild_command_and_the_server_starts_degraded(desk):
    home, knowledge = desk / "home", desk / "knowledge"
    damage(home / "index" / "chroma")
    failed = cli("ingest", home=home, knowledge=knowledge)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    [line] = failed.stderr.strip().splitlines()
    assert "cannot open the vector store" in line and "citydesk ingest --rebuild" in line
    with citydesk_serve(home, knowledge, desk / "serve.log") as (url, process):
        health = httpx.get(url + "/healthz", timeout=30).json()
        assert health["ok"] is False and health["index"].startswith("unusable: cannot open the vector store")
        assert "citydesk ingest --rebuild" in health["index"]
        for question, lang in (("办护照要多少钱", "zh"), ("How much does a passport cost?", "en")):
            reply = ask(url, question)
            assert reply["status"] == "error" and reply["reply"] == render("index_missing", lang)
        assert process.poll() is None  # serving, not crashing and restarting
    rebuilt = cli("ingest", "--rebuild", "--json", home=home, knowledge=knowledge)
    assert rebuilt.returncode == 0, rebuilt.stderr
    asked = cli("ask", "办护照要多少钱", home=home, knowledge=knowledge)
    assert asked.returncode == 0 and "120" in asked.stdout


def test_a_damaged_manifest_is_also_mended_by_rebuild(desk):
    home, knowledge = desk / "home", desk / "knowledge"
    for part in (home / "index").glob("manifest.sqlite-*"):
        part.unlink()
    (home / "index" / "manifest.sqlite").write_bytes(b"garbage" * 1000)
    failed = cli("retrieve", "护照", home=home, knowledge=knowledge)
    assert failed.returncode != 0 and "citydesk ingest --rebuild" in failed.stderr and "Traceback" not in failed.stderr
    assert cli("ingest", "--rebuild", home=home, knowledge=knowledge).returncode == 0
    assert "permits/passport" in cli("retrieve", "护照", home=home, knowledge=knowledge).stdout


def hold_write_lock(db_path: Path, seconds: float, held: threading.Event, release: threading.Event | None = None) -> None:
    """Another process's writer, as SQLite sees it: a write transaction kept open for `seconds`, or until
    `release` is set when one is given (at most `seconds`)."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    held.set()
    if release is None:
        time.sleep(seconds)
    else:
        release.wait(seconds)
    connection.execute("ROLLBACK")
    connection.close()


def first_free_slot(sessions, desk_assistant) -> int:
    clinic = next(c for c in booking.clinics(sessions, ["cardiology"]) if c.hospital_id == "cw-first")
    now = desk_assistant.now()
    for ahead in range(1, 8):
        free = booking.openings(sessions, clinic.department_id, now.date() + dt.timedelta(days=ahead), now)
        if free:
            return free[0].slot_id
    raise AssertionError("no free slot in the seed schedule")


def test_a_locked_database_is_retried_and_the_booking_goes_through(small_assistant):
    db_path = small_assistant.settings.home / "citydesk.db"
    small_assistant.sessions  # the seed data
    sessions = make_session_factory(small_assistant.settings.db_url, busy_timeout=0.1)
    slot = first_free_slot(sessions, small_assistant)
    held = threading.Event()
    locker = threading.Thread(target=hold_write_lock, args=(db_path, 0.6, held))
    locker.start()
    held.wait()
    began = time.monotonic()
    outcome = booking.book(sessions, slot_id=slot, request_key="busy-1", patient_name="王芳", id_masked="110105********002X",
                           phone_hash="h", phone_masked="138****1234")
    locker.join()
    assert outcome.status == "booked" and 0.5 < time.monotonic() - began < 5


# the days with free slots that the date question lists (as in tests/test_workers.py)
FREE_DAYS = {"zh": re.compile(r"最近有号的日期：(.+)"), "en": re.compile(r"The next days with free slots at [^:]+: (.+)")}
FREE_DAY = {"zh": re.compile(r"\d+月\d+日"), "en": re.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d+ [A-Z][a-z]+")}


@pytest.mark.parametrize("lang, yes", [("zh", "是"), ("en", "yes")])
def test_a_database_locked_for_too_long_gives_the_canned_error_not_a_trace(small_assistant, lang, yes):
    db_path = small_assistant.settings.home / "citydesk.db"
    person = citizen(3)
    request = {"zh": f"帮我约第一人民医院心内科，就诊人{person['name']}，身份证{person['id']}，手机{person['phone']}",
               "en": f"Book cardiology at Chengwan First People's Hospital, patient Li Lei, "
                     f"ID {person['id']}, phone {person['phone']}"}[lang]
    reply = small_assistant.ask(request, lang=lang)
    if reply.data.get("asks_for") == "date":  # a day the clinic opens, whatever weekday the test runs on
        reply = small_assistant.ask(FREE_DAY[lang].findall(FREE_DAYS[lang].search(reply.text).group(1))[0],
                                    session_id=reply.session_id)
    while reply.data.get("asks_for") == "time":
        reply = small_assistant.ask("最早的" if lang == "zh" else "earliest", session_id=reply.session_id)
    assert reply.data.get("asks_for") == "confirm", reply.text
    small_assistant._sessions = make_session_factory(small_assistant.settings.db_url, busy_timeout=0.1)
    held, release = threading.Event(), threading.Event()
    # the lock is held until the turn has answered (at most 10 minutes, so a turn that waited for it
    # instead of giving up would book and fail below), however slow the machine is
    locker = threading.Thread(target=hold_write_lock, args=(db_path, 600, held, release))
    locker.start()
    held.wait()
    try:
        failed = small_assistant.ask(yes, session_id=reply.session_id)
    finally:
        release.set()
        locker.join()
    assert failed.status == "error" and failed.text == render("error", lang)
    again = small_assistant.ask(yes, session_id=reply.session_id)  # the lock is gone: the same yes now books
    assert again.status == "booked"
