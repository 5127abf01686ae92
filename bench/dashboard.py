"""The operations dashboard's queries at scale: 1 million messages and 100,000 work orders on SQLite.

    nice -n 15 python bench/dashboard.py [--db FILE] [--turns 500000] [--orders 100000] [--days 90]
                                         [--periods 30 90] [--runs 5] [--without-indexes]

Generates once, into a fresh SQLite file (--db, reused when it exists), --days days of history up to
now: turns (a citizen's message and the reply) in sessions of one to six turns, mostly in the city's
day-time hours and fewer at weekends; replies with a realistic mix of statuses, of domains (the real
guides' folders and titles as citations) and of emergency kinds; about 2 % of replies rated; and work
orders of the seeded departments and districts whose histories follow their states, due times from
each department's limit, some of them overdue. Everything is inserted with executemany in one
transaction (about half a minute for the default size, some 700 MB), and the hourly reply counts are
built from it, as on an older database's first start (printed: how long opening the database took).
Then `dashboard.ensure_indexes` runs (or its indexes are dropped, with --without-indexes) and each
chart's query is timed (median of --runs, after one warm-up run) over the last --periods days, for every district and, for the
work-order charts, for one district. Printed: query, period, district, rows, median wall-clock and CPU
ms, and whether it is within 300 ms; then, over the longest period, how far the sampled charts (topics,
unanswered questions, response times) are from the exact ones (bench/results/dashboard.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
from pathlib import Path

from common import RESULTS, ROOT, write_json
from sqlalchemy import text

from assistant.services import dashboard, dashboard_orders
from assistant.services.database import make_session_factory, rebuild_reply_counts
from assistant.services.places import districts
from assistant.services.workorders import departments
from assistant.core.config import Settings

BUDGET_MS = 300
STATUSES = {"answered": 66, "asking": 12, "booked": 3, "cancelled": 1, "refused": 8, "handoff": 3.5,
            "emergency": 1.5, "rejected": 1.5, "error": 0.5, "smalltalk": 3}  # smalltalk: a greeting answered
KINDS = {"medical": 40, "traffic": 14, "fire": 10, "violence": 8, "gas": 6, "self_harm": 5, "flood": 5,
         "trapped": 4, "drowning": 3, "collapse": 2, "typhoon": 2, "earthquake": 1}
ASKING_SKILLS = ("health_booking", "report_issue", "permits")
HOURS = [1, 1, 0.5, 0.5, 0.5, 1, 2, 4, 8, 10, 10, 9, 7, 8, 9, 9, 8, 7, 6, 6, 5, 4, 3, 2]  # by local hour
UNANSWERABLE = ["深圳的公积金怎么贷款", "帮我写一首诗", "北京户口怎么落", "明天股票会涨吗", "能帮我订机票吗", "宠物狗可以上地铁吗",
                "电动车上牌要多少钱", "外卖小哥撞了人怎么办", "How do I get a Shanghai hukou?", "can you book me a taxi",
                "房东不退押金怎么办", "小区停车费标准是多少", "社区医院几点开门", "孩子转学需要什么手续", "失业了可以领多少钱"]
SUFFIXES = ("", "？", "?", " ", "。", "!!")
ANSWER = ("根据《{title}》，您需要准备：\n1. 本人身份证原件及复印件；\n2. 填写完整的申请表（可在窗口领取或网上下载）；\n"
          "3. 近期免冠一寸照片两张；\n4. 其他相关证明材料（如户口簿、居住证明等）。[1]\n\n办理地点：市政务服务中心一楼综合窗口，"
          "也可以通过“澄湾政务”网上办理。工作日上午9:00-12:00、下午13:30-17:00受理，一般5个工作日内办结，"
          "办结后可选择邮寄或窗口领取。如材料不齐，窗口会一次性告知需要补充的内容。具体以窗口最新要求为准。[2]")


def guides() -> list[tuple[str, str, str]]:
    """(doc, folder, title) of every Markdown guide in knowledge/."""
    found = []
    for path in sorted((ROOT / "knowledge").rglob("*.md")):
        head = re.search(r"^title:\s*(.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
        doc = path.relative_to(ROOT / "knowledge").as_posix()
        found.append((doc, doc.split("/")[0], head.group(1).strip() if head else path.stem))
    return found


class History:
    """Random turns and work orders; string values come from small pools, as in a real database."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.guides = guides()
        self.rng.shuffle(self.guides)
        self.speed = {}  # each department's pace: some stay well within their limit, some do not
        self.guide_weights = [1 / (rank + 1) for rank in range(len(self.guides))]  # a few guides are asked most
        self.citations = {g[0]: json.dumps([{"n": n, "doc": g[0], "title": g[2], "section": section,  # as SQLAlchemy writes it
                                             "source_url": f"https://www.chengwan.gov.example/{g[0][:-3]}"}
                                            for n, section in ((1, "所需材料"), (2, "办理流程"))]) for g in self.guides}
        self.emergency_doc = next(g for g in self.guides if g[1] == "emergency")

    def pick(self, weights: dict):
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def reply(self, status: str) -> tuple:
        """(question, text, status, skill, citations, domain, kind) of one reply."""
        if status == "answered":
            doc, folder, title = self.rng.choices(self.guides, self.guide_weights)[0]
            return (f"{title}怎么办理", ANSWER.format(title=title), status, "guide_qa", self.citations[doc], folder, "")
        if status == "emergency":
            doc = self.emergency_doc[0]
            return "救命！有人受伤了", "请立即拨打120。[1]", status, "emergency", self.citations[doc], "emergency", self.pick(KINDS)
        if status in ("refused", "handoff"):
            asked = self.rng.choices(UNANSWERABLE, [1 / (i + 1) for i in range(len(UNANSWERABLE))])[0]
            skill = "guide_qa" if status == "refused" else "handoff"
            return asked + self.rng.choice(SUFFIXES), "抱歉，指南中没有找到相关内容。", status, skill, "[]", skill, ""
        if status == "smalltalk":
            return "谢谢", "不客气！", "answered", "smalltalk", "[]", "smalltalk", ""
        skill = {"booked": "health_booking", "cancelled": "health_booking", "rejected": "rejected",
                 "error": "guide_qa"}.get(status) or self.rng.choice(ASKING_SKILLS)
        return "我想办一下", "请问您想预约哪家医院？", status, skill, "[]", skill, ""

    def day(self, start: float, turns: int, first_session: int) -> tuple[list, list]:
        """The sessions and turns of one local day starting at `start`."""
        sessions, out, n = [], [], first_session
        while len(out) < turns:
            began = start + 3600 * self.rng.choices(range(24), HOURS)[0] + self.rng.uniform(0, 3600)
            sid = f"s{n:08d}"
            sessions.append((sid, "zh", "{}", began, began))
            moment = began
            for _ in range(self.rng.choices(range(1, 7), (30, 25, 18, 12, 9, 6))[0]):
                out.append((moment, sid, *self.reply(self.pick(STATUSES))))
                moment += self.rng.uniform(20, 180)
            n += 1
        return sessions, sorted(out)

    def order(self, i: int, created: float, now: float, depts: dict, names: list[str]) -> tuple:
        """One work order whose history has reached what `now` allows."""
        dept = self.rng.choices(list(depts), [8 if d == "dispatch" else 10 for d in depts])[0]
        limit, pace = 3600 * depts[dept]["hours"], self.speed.setdefault(dept, self.rng.uniform(0.4, 1.5))
        events = [("received", created)] + ([] if dept == "dispatch" else [("dispatched", created)])
        if self.rng.random() > 0.03:  # some are never touched
            moment = created + limit * pace * self.rng.uniform(0.02, 0.5)
            for state in ("in_progress", "resolved", "closed"):
                if moment > now or (state == "closed" and self.rng.random() < 0.3):
                    break
                events.append((state, moment))
                moment += limit * pace * self.rng.uniform(0.05, 0.9 if state == "in_progress" else 0.3)
        history = json.dumps([{"state": s, "at": at, "department": dept, "note": "", "by": ""} for s, at in events])
        district = self.rng.choice(names) if self.rng.random() > 0.08 else ""
        return (f"GD2026-{i:08d}", f"key{i:012d}", "", "zh", self.rng.choice(("complaint", "help", "suggestion", "question")),
                dept, 0.5, "路灯坏了好几天了", district, "人民路12号", "上周", "", "", events[-1][0], "", history,
                created, created + limit, events[-1][1])


MESSAGE_SQL = ("INSERT INTO messages (session_id, role, text, status, skill, citations, latency_ms, created, domain, kind) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
ORDER_SQL = ("INSERT INTO work_orders (number, request_key, session_id, lang, kind, department, confidence, description, "
             "district, address, since, phone_hash, phone_masked, state, reply, history, created, due, updated) "
             "VALUES (" + ", ".join("?" * 19) + ")")


def generate(path: Path, turns: int, orders: int, days: int, timezone: str) -> None:
    """Write the whole history into a fresh database at `path`."""
    sessions = make_session_factory(f"sqlite:///{path}")
    history, now = History(), time.time()
    first_day, _ = dashboard.last_days(days, timezone, now)
    weights = [0.6 if (d + 3) % 7 in (5, 6) else 1.0 for d in range(days)]
    message_id, session_n, rated = 0, 0, []
    began = time.perf_counter()
    with sessions.kw["bind"].begin() as connection:
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        for d in range(days):
            start = first_day + d * dashboard.DAY
            made, rows = history.day(start, round(turns * weights[d] / sum(weights)), session_n)
            session_n += len(made)
            connection.exec_driver_sql("INSERT INTO sessions (id, lang, state, created, updated) VALUES (?, ?, ?, ?, ?)", made)
            messages = []
            for moment, sid, question, answer, status, skill, citations, domain, kind in rows:
                messages += [(sid, "user", question, "", "", "[]", 0.0, moment, "", ""),
                             (sid, "assistant", answer, status, skill, citations, 850.0, moment + 1.2, domain, kind)]
                message_id += 2
                if history.rng.random() < 0.02:
                    good = history.rng.random() < (0.8 if status == "answered" else 0.25)
                    rated.append((sid, message_id, good, "" if good else "没有回答我的问题", moment + 60))
            connection.exec_driver_sql(MESSAGE_SQL, messages)
        connection.exec_driver_sql("INSERT INTO feedback (session_id, message_id, helpful, comment, created) "
                                   "VALUES (?, ?, ?, ?, ?)", rated)
        depts, names = departments(), [d.zh for d in districts()]
        span = now - first_day
        stamps = sorted(first_day + history.rng.uniform(0, span) for _ in range(orders))
        connection.exec_driver_sql(ORDER_SQL, [history.order(i, t, now, depts, names) for i, t in enumerate(stamps)])
    rebuild_reply_counts(sessions.kw["bind"])  # raw SQL bypassed the hook that counts each stored reply
    print(f"generated {message_id:,} messages, {len(rated):,} ratings, {orders:,} work orders "
          f"in {time.perf_counter() - began:.0f} s -> {path} ({path.stat().st_size / 1e6:.0f} MB)")


def charts(sessions, start: float, end: float, district: str, timezone: str) -> dict:
    """Each chart's query as a function of nothing; None for the district when it does not apply."""
    d, o = dashboard, dashboard_orders
    messages = {"questions_per_day": lambda: d.questions_per_day(sessions, start, end, timezone),
                "outcomes_per_day": lambda: d.outcomes_per_day(sessions, start, end, timezone),
                "top_topics": lambda: d.top_topics(sessions, start, end),
                "unanswered": lambda: d.unanswered(sessions, start, end),
                "ratings_by_domain": lambda: d.ratings_by_domain(sessions, start, end),
                "worst_rated": lambda: d.worst_rated(sessions, start, end),
                "emergencies_per_day": lambda: d.emergencies_per_day(sessions, start, end, timezone)}
    orders = {"orders_by_department": lambda: o.orders_by(sessions, start, end, district, "department"),
              "orders_by_district": lambda: o.orders_by(sessions, start, end, district, "district"),
              "overdue": lambda: o.overdue(sessions, end, district),
              "overdue_by_department": lambda: o.overdue_by_department(sessions, end, district),
              "response_times": lambda: o.response_times(sessions, start, end, district)}
    return orders if district else {**messages, **orders}


def timed(run, runs: int) -> tuple[float, float, int]:
    """Median wall-clock and CPU milliseconds of `run` (SQLite runs in this process: CPU time is the query's
    work, less sensitive than wall time to other processes on a busy machine), and its rows."""
    run()
    wall, cpu, rows = [], [], 0
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        rows = len(run())
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu), rows


def sampling_error(sessions, start: float, end: float) -> dict:
    """How far the sampled charts are from the exact ones over the period: the same queries again with the
    caps lifted. Per chart: the largest relative error of a count, whether the order of the top rows is kept
    (topics, unanswered), and the largest relative error of a median (response times)."""
    caps = ((dashboard, "TOPIC_SAMPLE"), (dashboard, "UNANSWERED_SAMPLE"), (dashboard_orders, "RESPONSE_SAMPLE"))
    runs = {"top_topics": (lambda: dashboard.top_topics(sessions, start, end), "title"),
            "unanswered": (lambda: dashboard.unanswered(sessions, start, end), "question"),
            "response_times": (lambda: dashboard_orders.response_times(sessions, start, end, ""), "department")}
    sampled = {name: run() for name, (run, _) in runs.items()}
    saved = [getattr(module, cap) for module, cap in caps]
    try:
        for module, cap in caps:
            setattr(module, cap, 10**9)
        exact = {name: run() for name, (run, _) in runs.items()}
    finally:
        for (module, cap), value in zip(caps, saved):
            setattr(module, cap, value)
    out = {}
    for name, (_, key) in runs.items():
        guess, truth = sampled[name].set_index(key), exact[name].set_index(key)
        count = "closed" if name == "response_times" else "count"
        both = guess.index.intersection(truth.index)
        error = ((guess.loc[both, count] - truth.loc[both, count]).abs() / truth.loc[both, count].clip(lower=1)).max()
        out[name] = {"sampled": bool(guess["sampled"].any()), "max_count_error": round(float(error), 4)}
        if name == "response_times":
            out[name]["max_median_error"] = round(float(max(
                ((guess.loc[both, c] - truth.loc[both, c]).abs() / truth.loc[both, c]).max()
                for c in ("first_response_h", "close_h"))), 4)
        else:
            out[name]["same_top_5"] = list(guess.index[:5]) == list(truth.index[:5])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=RESULTS / "dashboard" / "history.sqlite")
    parser.add_argument("--turns", type=int, default=500_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--periods", type=int, nargs="+", default=[30, 90])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--without-indexes", action="store_true", help="drop the dashboard's own indexes first")
    args = parser.parse_args()
    timezone = Settings.from_env(env_file=None).timezone
    if not args.db.exists():
        generate(args.db, args.turns, args.orders, args.days, timezone)
    began = time.perf_counter()
    sessions = make_session_factory(f"sqlite:///{args.db}")  # a database from before the hourly counts gets them
    print(f"open the database: {time.perf_counter() - began:.1f} s")
    engine = sessions.kw["bind"]
    began = time.perf_counter()
    with engine.begin() as connection:
        for name in dashboard.INDEXES:
            if args.without_indexes:
                connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
        now = connection.execute(text("SELECT max(created) FROM messages")).scalar() or time.time()
        counts = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("messages", "feedback", "work_orders")}
    if not args.without_indexes:
        dashboard.ensure_indexes(engine)
        print(f"ensure_indexes: {time.perf_counter() - began:.1f} s")
    print(f"{counts['messages']:,} messages, {counts['feedback']:,} ratings, {counts['work_orders']:,} work orders; "
          f"indexes: {'without' if args.without_indexes else 'with'} the dashboard's own; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    district = districts()[0].zh
    results = []
    print(f"\n{'query':24s} {'period':>6s} {'district':>8s} {'rows':>5s} {'median ms':>10s} {'cpu ms':>8s}  ≤{BUDGET_MS} ms")
    for days in args.periods:
        start, end = dashboard.last_days(days, timezone, now)
        for where in ("", district):
            for name, run in charts(sessions, start, end, where, timezone).items():
                ms, cpu, rows = timed(run, args.runs)
                results.append({"query": name, "days": days, "district": where or "all", "rows": rows,
                                "median_ms": round(ms, 1), "cpu_ms": round(cpu, 1), "within": ms <= BUDGET_MS})
                print(f"{name:24s} {days:>5d}d {where or 'all':>8s} {rows:5d} {ms:10.1f} {cpu:8.1f}  "
                      f"{'yes' if ms <= BUDGET_MS else 'NO'}")
    for days in args.periods:
        total = sum(r["median_ms"] for r in results if r["days"] == days and r["district"] == "all")
        print(f"all charts of one refresh, {days} days, every district: {total:.0f} ms")
    errors = sampling_error(sessions, *dashboard.last_days(max(args.periods), timezone, now))
    print(f"\nsampled charts against exact ones, {max(args.periods)} days:")
    for name, found in errors.items():
        print(f"  {name:16s} " + ", ".join(f"{k} {v}" for k, v in found.items()))
    write_json("dashboard", {"counts": counts, "indexes": not args.without_indexes, "results": results,
                             "sampling_error": errors})


if __name__ == "__main__":
    main()
