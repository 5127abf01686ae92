"""Load: concurrent simulated citizens against the HTTP API, then an audit of every booking in the database.

    nice -n 15 python bench/load.py [--levels 10,50,100] [--seconds 20] [--files 40] [--home DIR] [--url URL]

Each level runs that many citizens at once for --seconds. A citizen holds one conversation after
another, chosen at random: guide questions in Chinese or English with a follow-up (REST /api/chat),
a whole booking (ask, hospital and department, date, time, name, ID, phone, an explicit yes), a
booking and then its cancellation, or a look-up of their bookings (the OpenAI-compatible /v1, whose
reply carries what the skill asks for). It prints per level: conversations, requests/s, p50/p95/p99
latency and the error rate (HTTP errors, timeouts and `error` replies), and writes
bench/results/load.json. Afterwards it checks the database: every booking acknowledged to a citizen
exists exactly once in the state the citizen was told (booked, or cancelled), no slot is held by two
bookings, no booking lacks its slot and no slot is held without its booking.

Without --url it starts `citydesk serve` itself on a free 127.0.0.1 port over a temporary home with
the first --files guides of knowledge/ (0 = all) indexed, or over --home if given; the server runs
with CITYDESK_RATE_LIMIT=1000000 so that the per-client rate limit (all citizens share 127.0.0.1)
does not turn the measurement into a measurement of the limiter. With --url, pass --home too for the audit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from common import ROOT, percentile, temporary_home, write_json
from sqlalchemy import select

from assistant.services import booking
from assistant.core.config import Settings
from assistant.services.database import make_session_factory
from assistant.services.db import Booking, Slot

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
NAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"), ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋")
GUIDE_QUESTIONS = [("办护照需要什么材料", "要多少钱"), ("公积金怎么提取", "需要带什么"), ("社保卡丢了怎么补办", "多久能拿到"),
                   ("How do I apply for a passport?", "How much does it cost?"),
                   ("How can I withdraw my housing fund?", "Where do I apply?"), ("结婚登记要带什么", "收费吗")]
TIME_LINE = re.compile(r"^- (.+?)[（(].*?[：:]\s*(.+)$", re.MULTILINE)
CLOCK = re.compile(r"\b\d{2}:\d{2}\b")
DAY_ZH = re.compile(r"\d{1,2}月\d{1,2}日")
HOSPITAL = re.compile(r"澄湾市\S+?医院")
TIMEOUT = 120.0


def resident_id(n: int) -> str:
    base = f"3101{n % 90 + 10:02d}{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return base + "10X98765432"[sum(int(d) * w for d, w in zip(base, WEIGHTS)) % 11]


def person(n: int) -> dict:
    """Citizen number `n`: a name, a valid resident ID and a phone number no other citizen has."""
    return {"name": NAMES[0][n % 10] + NAMES[1][(n // 10) % 10] + NAMES[1][(n // 100) % 10],
            "id": resident_id(n), "phone": f"13{n % 7 + 3}{n:08d}"[-11:]}


class Stats:
    """Every request's latency and outcome, and what the citizens were told about their bookings."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.conversations = 0
        self.elapsed = 0.0
        self.told: dict[str, str] = {}  # booking code -> "booked" or "cancelled", as the citizen was told


class Citizen:
    """One simulated citizen: conversations over REST and /v1 until the level's deadline."""

    def __init__(self, *, client: httpx.AsyncClient, url: str, stats: Stats, rng: random.Random, clinics, people) -> None:
        self.client, self.url, self.stats, self.rng, self.clinics, self.people = client, url, stats, rng, clinics, people
        self.session: str | None = None

    async def rest(self, message: str) -> dict | None:
        return await self._post("/api/chat", {"message": message, "session_id": self.session}, {},
                                lambda body: (body["session_id"], body["status"], body))

    async def v1(self, message: str) -> tuple[str, str, dict] | None:
        headers = {"X-Session-Id": self.session} if self.session else {}
        return await self._post("/v1/chat/completions", {"messages": [{"role": "user", "content": message}]}, headers,
                                lambda body: (body["citydesk"]["session_id"], body["citydesk"]["status"],
                                              (body["choices"][0]["message"]["content"], body["citydesk"]["status"],
                                               body["citydesk"]["data"])))

    async def _post(self, path: str, body: dict, headers: dict, read):
        began = time.perf_counter()
        try:
            response = await self.client.post(self.url + path, json=body, headers=headers)
            response.raise_for_status()
            self.session, status, out = read(response.json())
        except (httpx.HTTPError, ValueError, KeyError):
            self.stats.latencies.append(time.perf_counter() - began)
            self.stats.errors += 1
            return None
        self.stats.latencies.append(time.perf_counter() - began)
        if status == "error":
            self.stats.errors += 1
        return out

    async def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self.session = None
            kind = self.rng.choices(["guide", "book", "book_cancel", "status"], weights=[4, 3, 2, 1])[0]
            if kind == "guide":
                for question in self.rng.choice(GUIDE_QUESTIONS):
                    if await self.rest(question) is None:
                        break
            elif kind == "status":
                await self.v1(f"查一下我的预约 {self.people()['phone']}")
            else:
                who = self.people()
                code = await self.book(who, deadline)
                if code and kind == "book_cancel":
                    self.session = None
                    await self.cancel(code, who)
            self.stats.conversations += 1

    async def book(self, who: dict, deadline: float) -> str | None:
        hospital, department = self.rng.choice(self.clinics)
        got = await self.v1(f"帮我约{self.rng.choice(['明天', '后天', '下周一'])}{hospital}{department}")
        for _ in range(12):
            if got is None:
                return None
            text, status, data = got
            if status == "booked":
                self.stats.told[data["code"]] = "booked"
                return data["code"]
            said = self.answer(data.get("asks_for", ""), text, who) if status == "asking" else None
            if said is None or time.monotonic() > deadline + 30:
                return None
            got = await self.v1(said)
        return None

    def answer(self, asks: str, text: str, who: dict) -> str | None:
        if asks == "time":
            lines = TIME_LINE.findall(text)
            if not lines:
                return "最早的"
            doctor, times = self.rng.choice(lines)
            return f"{doctor} {self.rng.choice(CLOCK.findall(times) or ['最早的'])}"
        if asks == "date":
            days = DAY_ZH.findall(text)
            return self.rng.choice(days) if days else "后天"
        if asks == "hospital":
            names = HOSPITAL.findall(text)
            return self.rng.choice(names) if names else None
        return {"name": who["name"], "id": who["id"], "phone": who["phone"], "confirm": "是"}.get(asks)

    async def cancel(self, code: str, who: dict) -> None:
        for message in (f"取消预约 {code}", who["phone"], "确认"):
            got = await self.v1(message)
            if got is None:
                return
            if got[1] == "cancelled":
                self.stats.told[code] = "cancelled"
                return


async def run_level(url: str, level: int, seconds: float, clinics, counter) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=level, max_keepalive_connections=level)
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:
        deadline = time.monotonic() + seconds
        citizens = [Citizen(client=client, url=url, stats=stats, rng=random.Random(level * 1000 + i), clinics=clinics,
                            people=lambda: person(next(counter))) for i in range(level)]
        began = time.monotonic()
        await asyncio.gather(*(c.run(deadline) for c in citizens))
        stats.elapsed = time.monotonic() - began
    return stats


def audit(db_url: str, told: dict[str, str]) -> dict:
    """Bookings told to citizens against the database: nothing lost, doubled or half-made."""
    sessions = make_session_factory(db_url)
    with sessions() as db:
        bookings = db.scalars(select(Booking)).all()
        held = {s.id: s.booking_code for s in db.scalars(select(Slot).where(Slot.booking_code.is_not(None)))}
    codes = [b.code for b in bookings]
    by_code = {b.code: b for b in bookings}
    active = [b for b in bookings if b.status == "booked"]
    return {"acknowledged": len(told), "cancelled_acknowledged": sum(1 for s in told.values() if s == "cancelled"),
            "bookings_in_database": len(bookings), "active": len(active),
            "lost": sorted(c for c, state in told.items() if c not in by_code or by_code[c].status != state),
            "duplicated_codes": len(codes) - len(set(codes)),
            "slots_held_twice": len(active) - len({b.slot_id for b in active}),
            "bookings_without_slot": sorted(b.code for b in active if held.get(b.slot_id) != b.code),
            "slots_without_booking": sorted(s for s, c in held.items() if c not in by_code or by_code[c].status != "booked")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(home: Path, knowledge: Path):
    """`citydesk serve` on a free port over `home`, until the block ends; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env.update(CITYDESK_HOME=str(home), CITYDESK_KNOWLEDGE=str(knowledge), CITYDESK_RATE_LIMIT="1000000",
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    log = open(home / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                sys.exit(f"the server exited: {(home / 'serve.log').read_text()[-2000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def prepare_home(args, stack) -> tuple[Path, Path]:
    if args.home:
        return args.home, args.knowledge
    home, knowledge = stack.enter_context(temporary_home(args.files or None))
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env.update(CITYDESK_HOME=str(home), CITYDESK_KNOWLEDGE=str(knowledge), HF_HUB_OFFLINE="1")
    print(f"indexing {sum(1 for p in knowledge.rglob('*') if p.is_file())} guides in {home} …", flush=True)
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return home, knowledge


def clinic_names(db_url: str) -> list[tuple[str, str]]:
    sessions = make_session_factory(db_url)
    return sorted({(c.hospital["zh"], c.name["zh"]) for c in booking.clinics(sessions) if not c.suspended})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="10,50,100", help="concurrent citizens per level, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each level runs")
    parser.add_argument("--files", type=int, default=40, help="guides of knowledge/ to index (0 = all)")
    parser.add_argument("--home", type=Path, help="an indexed CITYDESK_HOME to serve (and audit) instead")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge", help="with --home: its knowledge folder")
    parser.add_argument("--url", help="a running server; pass --home as well for the database audit")
    parser.add_argument("--name", default="load", help="results file bench/results/<name>.json")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    with ExitStack() as stack:
        home, knowledge = prepare_home(args, stack) if not args.url or args.home else (None, None)
        db_url = Settings.from_env(environ={}, env_file=None, home=home).db_url if home else ""
        url = args.url or stack.enter_context(server(home, knowledge))
        clinics = clinic_names(db_url) if db_url else [("第一人民医院", "心内科"), ("中心医院", "神经内科")]
        counter, rows, told = iter(range(1, 10**7)), [], {}
        print(f"{'level':>6} {'convs':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for level in levels:
            stats = asyncio.run(run_level(url, level, args.seconds, clinics, counter))
            told.update(stats.told)
            n = len(stats.latencies) or 1
            row = {"level": level, "conversations": stats.conversations, "requests": len(stats.latencies),
                   "seconds": round(stats.elapsed, 1), "requests_per_s": round(len(stats.latencies) / stats.elapsed, 1),
                   **{f"p{q}_ms": round(percentile(stats.latencies, q) * 1000) if stats.latencies else None
                      for q in (50, 95, 99)},
                   "error_rate": round(stats.errors / n, 4), "bookings_acknowledged": len(stats.told)}
            rows.append(row)
            print(f"{level:>6} {row['conversations']:>6} {row['requests_per_s']:>7} {row['p50_ms']:>8} "
                  f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['error_rate']:>7.2%}", flush=True)
        checked = audit(db_url, told) if db_url else {"skipped": "no --home given with --url"}
        problems = [k for k in ("lost", "bookings_without_slot", "slots_without_booking") if checked.get(k)]
        problems += [k for k in ("duplicated_codes", "slots_held_twice") if checked.get(k)]
        print("database audit:", "OK" if not problems and db_url else "PROBLEMS: " + ", ".join(problems) if problems
              else checked.get("skipped"), {k: v if not isinstance(v, list) else len(v) for k, v in checked.items()})
        path = write_json(args.name, {"levels": rows, "seconds_per_level": args.seconds, "rate_limit": 1000000,
                                      "guides": args.files, "cpus": os.cpu_count(), "audit": checked})
        print(f"written to {path.relative_to(ROOT)}")
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
