"""The suite runner: every case through the real pipeline, in a temporary home, with a fresh database each.

The knowledge index is copied once per run from the configured home (and brought up to date, so
only changed guides are embedded); every case gets its own copy of a seeded database and a fresh
session, so cases cannot disturb each other or production data.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from tqdm import tqdm

from assistant.assistant import Assistant
from assistant.evaluation.suite import Case, Suite, SuiteError, Turn
from assistant.search.store import StoreError
from assistant.core.types import Reply

JOBS = min(2, os.cpu_count() or 1)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CaseAssistant(Assistant):
    """An Assistant with its own database and, optionally, a fixed clock; index, router, classifiers and LLM are shared."""

    def __init__(self, *, base: Assistant, database_url: str, clock: dt.datetime | None = None) -> None:
        super().__init__(settings=replace(base.settings, database_url=database_url), embedder=base.embedder)
        self._shared = base
        self._fixed_now = clock

    @property
    def index(self):
        return self._shared.index

    @property
    def retriever(self):
        return self._shared.retriever

    @property
    def router(self):
        return self._shared.router

    @property
    def llm(self):
        return self._shared.llm

    @property
    def composer(self):
        return self._shared.composer

    @property
    def scope(self):
        return self._shared.scope

    @property
    def triager(self):
        return self._shared.triager

    @property
    def intake(self):
        return self._shared.intake

    def now(self) -> dt.datetime:
        return self._fixed_now or super().now()

    def close(self) -> None:
        """Release the database file."""
        self.sessions.kw["bind"].dispose()


def reusable_index(settings) -> bool:
    """Whether the configured home holds an embedded index the run can copy instead of embedding everything."""
    return not settings.chroma_url and (settings.index_dir / "manifest.sqlite").exists()


def temporary_assistant(assistant: Assistant, home: Path, *, llm: bool, progress: bool) -> Assistant:
    """An Assistant over a copy of `assistant`'s index in `home`: embedded store, SQLite, LLM only if asked."""
    if reusable_index(assistant.settings):
        shutil.copytree(assistant.settings.index_dir, home / "index", ignore=shutil.ignore_patterns("ingest.lock"))
    settings = replace(assistant.settings, home=home, chroma_url="", database_url="",
                       **({} if llm else {"llm_base_url": ""}))
    base = Assistant(settings=settings, embedder=assistant.embedder)
    try:
        base.ingest(progress=progress)
    except StoreError:
        base.ingest(rebuild=True, progress=progress)  # the copied index was built with another embedder
    base.route("预热 warm up")  # loads the models and example vectors, so that no case's latency pays for it
    return base


def check_cites(suites: list[Suite], base: Assistant) -> None:
    """Every guide a case expects to be cited exists in the index (a typo would fail the case silently)."""
    known = {f["path"] for f in base.index.files() if f["status"] == "indexed"}
    for suite in suites:
        for case in suite.cases:
            for turn in case.turns:
                missing = [d for item in turn.expect.get("cites", []) for d in _alternatives(item) if d not in known]
                if missing:
                    raise SuiteError(f"{case.file}:{turn.line}: cites {', '.join(missing)}, which is not an "
                                     f"indexed guide in {base.settings.knowledge}")


def normalise(text: str) -> str:
    """For fact matching: NFKC, lower case, no white space (so "8210 0100" matches "82100100")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())


def _alternatives(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def fill(text: str, captured: dict[str, str]) -> str:
    """`{code}` in a message becomes the value an earlier reply of the case gave (a booking code, a ticket)."""
    return _PLACEHOLDER.sub(lambda m: captured.get(m.group(1), m.group(0)), text)


def _filled(expect: dict, captured: dict[str, str]) -> dict:
    """The expectations with `{code}`-style placeholders in the expected texts filled in."""
    def each(value):
        return [each(v) for v in value] if isinstance(value, list) else fill(value, captured)

    return {k: each(v) if k in ("contains_all", "contains_any", "not_contains") else v for k, v in expect.items()}


def check_turn(turn: Turn, reply: Reply, said: str, captured: dict[str, str] | None = None) -> dict:
    """The turn's outcome: what happened, which expectations failed, and the counts metrics need."""
    e, text = _filled(turn.expect, captured or {}), normalise(reply.text)
    docs = list(dict.fromkeys(c.doc for c in reply.citations))
    asks_for = reply.data.get("asks_for", "")
    failures = []
    for key, actual in (("status", reply.status), ("skill", reply.skill), ("asks_for", asks_for), ("lang", reply.lang)):
        if key in e and actual not in _alternatives(e[key]):
            why = f" ({reply.data['refusal']})" if key == "status" and reply.data.get("refusal") else ""
            failures.append(f"{key}: expected {' or '.join(_alternatives(e[key]))}, got {actual or '(none)'}{why}")
    rank = None
    if "cites" in e:
        wanted = [_alternatives(item) for item in e["cites"]]
        ranks = [docs.index(d) + 1 for alternatives in wanted for d in alternatives if d in docs]
        rank = min(ranks) if ranks else None
        missing = [" or ".join(a) for a in wanted if not set(a) & set(docs)]
        if missing:
            failures.append(f"cites: {', '.join(missing)} not among the citations ({', '.join(docs) or 'none'})")
    facts = [_alternatives(f) for f in e.get("contains_all", [])]
    if "contains_any" in e:
        facts.append(e["contains_any"])
    found = [any(normalise(a) in text for a in alternatives) for alternatives in facts]
    for alternatives, ok in zip(facts, found):
        if not ok:
            failures.append(f"missing fact: {' / '.join(alternatives)}")
    for banned in e.get("not_contains", []):
        if normalise(banned) in text:
            failures.append(f"must not contain: {banned}")
    if "max_latency_ms" in e and reply.latency_ms > e["max_latency_ms"]:
        failures.append(f"latency {reply.latency_ms:.0f} ms over {e['max_latency_ms']:.0f} ms")
    return {"say": said, "line": turn.line, "expect": e, "reply": reply.text, "status": reply.status,
            "skill": reply.skill, "citations": docs, "lang": reply.lang, "asks_for": asks_for,
            "ticket": reply.data.get("ticket", ""), "latency_ms": round(reply.latency_ms, 1), "rank": rank,
            "answer_source": reply.data.get("answer_source", ""), "verification": reply.data.get("verification", ""),
            "refusal": reply.data.get("refusal", ""),
            "facts": len(facts), "facts_found": sum(found), "failures": failures, "passed": not failures}


class Runner:
    """Runs suites against a base assistant; one seeded database template per clock, copied per case."""

    def __init__(self, *, base: Assistant, directory: Path, judge=None, jobs: int = JOBS) -> None:
        self.base = base
        self.directory = directory
        self.judge = judge
        self.jobs = jobs
        self._templates: dict[dt.datetime | None, Path] = {}
        self._lock = threading.Lock()
        self._count = 0

    def _clock(self, suite: Suite) -> dt.datetime | None:
        if suite.clock is None:
            return None
        zone = ZoneInfo(self.base.settings.timezone)
        return suite.clock if suite.clock.tzinfo else suite.clock.replace(tzinfo=zone)

    def _database(self, clock: dt.datetime | None) -> str:
        """A fresh copy of the seeded database (seeds and slots for `clock`), as a SQLAlchemy URL."""
        with self._lock:
            if clock not in self._templates:
                path = self.directory / f"template-{len(self._templates)}.db"
                template = CaseAssistant(base=self.base, database_url=f"sqlite:///{path}", clock=clock)
                template.sessions  # creates the tables, the seed data and the slots
                template.close()
                self._templates[clock] = path
            self._count += 1
            target = self.directory / f"case-{self._count}.db"
        with sqlite3.connect(self._templates[clock]) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return f"sqlite:///{target}"

    def run_case(self, case: Case, clock: dt.datetime | None) -> dict:
        url = self._database(clock)
        assistant = CaseAssistant(base=self.base, database_url=url, clock=clock)
        turns, session, captured = [], None, {}
        try:
            for turn in case.turns:
                said = fill(turn.say, captured)
                try:
                    reply = assistant.ask(said, session_id=session)
                except Exception as exc:  # a crash is a failed case, not a failed run
                    reply = Reply(text=f"{type(exc).__name__}: {exc}", status="error", session_id=session or "")
                session = reply.session_id
                captured.update({k: v for k, v in reply.data.items() if isinstance(v, str)})
                outcome = check_turn(turn, reply, said, captured)
                if self.judge is not None:
                    outcome["judge"] = self.judge.score(turn.say, reply, self.base.index)
                turns.append(outcome)
        finally:
            assistant.close()
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return {"id": case.id, "suite": case.suite, "file": case.file, "line": case.line, "tags": case.tags,
                "passed": all(t["passed"] for t in turns), "turns": turns}

    def run(self, suites: list[Suite], progress: bool = True) -> list[dict]:
        """Every case of every suite, in parallel; results in suite and case order."""
        work = [(case, self._clock(suite)) for suite in suites for case in suite.cases]
        results: dict[int, dict] = {}
        with ThreadPoolExecutor(max_workers=self.jobs) as pool, \
                tqdm(total=len(work), desc="cases", unit="case", disable=not progress, mininterval=1.0) as bar:
            futures = {pool.submit(self.run_case, case, clock): i for i, (case, clock) in enumerate(work)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
        return [results[i] for i in range(len(work))]
