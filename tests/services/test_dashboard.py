"""The operations dashboard on a real SQLite database: a small hand-made history whose counts are known."""

import datetime as dt
import json
import time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import gradio as gr
import pytest
from sqlalchemy import insert

from assistant.services import dashboard, dashboard_orders
from assistant.services.database import make_session_factory, rebuild_reply_counts
from assistant.services.db import Conversation, Feedback, Message, ReplyCount, WorkOrder
from assistant.channels import staff_dashboard

pytestmark = pytest.mark.integration

TZ = "Asia/Shanghai"


def at(day: int, hour: int, minute: int = 0, tz: str = TZ) -> float:
    """An epoch time given in the city's time zone (March 2026; day 0 is 28 February)."""
    return (dt.datetime(2026, 3, 1, hour, minute, tzinfo=ZoneInfo(tz)) + dt.timedelta(days=day - 1)).timestamp()


def period(tz: str = TZ) -> tuple[float, float]:
    return at(1, 0, tz=tz), at(4, 0, tz=tz)


@pytest.fixture
def sessions(tmp_path):
    return make_session_factory(f"sqlite:///{tmp_path / 'dashboard.db'}")


def add_turn(db, sid: str, when: float, question: str, status: str = "answered", domain: str = "permits",
             title: str = "", kind: str = "") -> Message:
    """A citizen's message and the reply one second later; the reply is returned (with its id)."""
    if db.get(Conversation, sid) is None:
        db.add(Conversation(id=sid))
    citations = [{"n": 1, "doc": f"{domain}/guide.md", "title": title, "section": "所需材料"}] if title else []
    reply = Message(session_id=sid, role="assistant", text=f"答复：{question}", status=status, skill=domain,
                    citations=citations, created=when + 1, domain=domain, kind=kind)
    db.add_all([Message(session_id=sid, role="user", text=question, created=when), reply])
    db.flush()
    return reply


def history(sessions, tz: str = TZ) -> None:
    """Ten turns on 1-3 March (and one either side), four ratings."""
    with sessions.begin() as db:
        passport = add_turn(db, "a", at(1, 10, tz=tz), "办护照要什么", title="办护照")
        late = add_turn(db, "a", at(1, 23, 30, tz=tz), "办护照多少钱", title="办护照")
        add_turn(db, "b", at(1, 12, tz=tz), "深圳公积金？", status="refused", domain="guide_qa")
        add_turn(db, "c", at(2, 0, 30, tz=tz), "深圳公积金", status="handoff", domain="handoff")
        add_turn(db, "d", at(2, 7, 30, tz=tz), "着火了", status="emergency", domain="emergency", kind="fire",
                 title="火灾逃生")
        booking = add_turn(db, "e", at(2, 9, tz=tz), "挂号", domain="health", title="预约挂号指南")
        add_turn(db, "f", at(3, 8, tz=tz), "有人晕倒了", status="emergency", domain="emergency", kind="medical")
        add_turn(db, "f", at(3, 8, 10, tz=tz), "又着火了", status="emergency", domain="emergency", kind="fire")
        add_turn(db, "g", at(3, 12, tz=tz), " 帮我写诗！", status="refused", domain="guide_qa")
        add_turn(db, "h", at(0, 23, tz=tz), "办护照", title="办护照")  # before the period
        add_turn(db, "h", at(4, 0, 10, tz=tz), "办护照", title="办护照")  # after it
        db.add_all([Feedback(session_id="a", message_id=passport.id, helpful=True, created=at(1, 11, tz=tz)),
                    Feedback(session_id="a", message_id=late.id, helpful=False, comment="没用", created=at(2, 8, tz=tz)),
                    Feedback(session_id="e", message_id=booking.id, helpful=False, created=at(2, 10, tz=tz)),
                    Feedback(session_id="e", message_id=booking.id, helpful=False, created=at(2, 11, tz=tz)),
                    Feedback(session_id="a", message_id=passport.id, helpful=False, created=at(5, 1, tz=tz))])


def order(db, number: str, department: str, district: str, created: float, hours: int, *events) -> None:
    """A work order with its history: received (and dispatched) when filed, then (state, hours later) events."""
    steps = [("received", created), ("dispatched", created)] + [(s, created + h * 3600) for s, h in events]
    db.add(WorkOrder(number=number, request_key=number, kind="help", department=department, description="路灯坏了",
                     district=district, state=steps[-1][0], created=created, updated=steps[-1][1],
                     due=created + hours * 3600,
                     history=[{"state": s, "at": t, "department": department, "note": "", "by": ""} for s, t in steps]))


def orders(sessions) -> None:
    with sessions.begin() as db:
        order(db, "A", "urban-management", "江北区", at(1, 10), 72, ("in_progress", 2), ("resolved", 10), ("closed", 20))
        order(db, "B", "urban-management", "江南区", at(1, 12), 72, ("in_progress", 4), ("resolved", 30), ("closed", 40))
        order(db, "C", "transport", "江北区", at(2, 0), 72)
        order(db, "D", "public-security", "江北区", at(1, 0, 30), 48)  # due 3 March 00:30: overdue on the 4th
        order(db, "E", "public-security", "江南区", at(-8, 9), 48, ("in_progress", 1))  # filed before the period
        order(db, "F", "urban-management", "", at(3, 9), 72, ("in_progress", 6))


def rows(frame, *columns) -> list[tuple]:
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York"])
def test_questions_are_counted_per_local_day(sessions, tz):
    history(sessions, tz)
    found = dashboard.questions_per_day(sessions, *period(tz), tz)
    # 23:30 on the 1st stays on the 1st, 00:30 and 07:30 on the 2nd are the 2nd, whatever the UTC date
    assert rows(found, "day", "domain", "count") == [
        ("2026-03-01", "guide_qa", 1), ("2026-03-01", "permits", 2),
        ("2026-03-02", "emergency", 1), ("2026-03-02", "handoff", 1), ("2026-03-02", "health", 1),
        ("2026-03-03", "emergency", 2), ("2026-03-03", "guide_qa", 1)]


def test_outcomes_share_per_day(sessions):
    history(sessions)
    found = dashboard.outcomes_per_day(sessions, *period(), TZ)
    assert rows(found, "day", "outcome", "count") == [
        ("2026-03-01", "answered", 2), ("2026-03-01", "refused", 1),
        ("2026-03-02", "answered", 1), ("2026-03-02", "emergency", 1), ("2026-03-02", "handoff", 1),
        ("2026-03-03", "emergency", 2), ("2026-03-03", "refused", 1)]
    assert found.groupby("day")["share"].sum().round(3).tolist() == [1.0, 1.0, 1.0]
    assert found["share"].iloc[0] == pytest.approx(2 / 3, abs=1e-3)


def test_topics_unanswered_and_emergencies(sessions):
    history(sessions)
    start, end = period()
    topics = dashboard.top_topics(sessions, start, end)
    assert rows(topics, "title", "domain", "count") == [("办护照", "permits", 2), ("预约挂号指南", "health", 1)]
    assert not topics["sampled"].any()
    unanswered = dashboard.unanswered(sessions, start, end)
    assert unanswered["count"].tolist() == [2, 1]  # "深圳公积金？" and "深圳公积金" are one question
    assert unanswered["question"].iloc[0].startswith("深圳公积金") and unanswered["last"].iloc[0] == at(2, 0, 30) + 1
    assert unanswered["question"].iloc[1].strip() == "帮我写诗！"
    assert rows(dashboard.emergencies_per_day(sessions, start, end, TZ), "day", "kind", "count") == [
        ("2026-03-02", "fire", 1), ("2026-03-03", "fire", 1), ("2026-03-03", "medical", 1)]


def test_ratings_per_domain_and_the_worst_rated_answers(sessions):
    history(sessions)
    start, end = period()
    ratings = dashboard.ratings_by_domain(sessions, start, end)
    assert rows(ratings, "domain", "rating", "count") == [("health", "down", 2), ("permits", "down", 1),
                                                         ("permits", "up", 1)]
    worst = dashboard.worst_rated(sessions, start, end)
    assert rows(worst, "question", "domain", "down", "up", "comment") == [("挂号", "health", 2, 0, ""),
                                                                       ("办护照多少钱", "permits", 1, 0, "没用")]
    assert worst["answer"].tolist() == ["答复：挂号", "答复：办护照多少钱"]


def test_work_orders_by_department_and_district_with_the_district_filter(sessions):
    orders(sessions)
    start, end = period()
    assert rows(dashboard_orders.orders_by(sessions, start, end, "", "department"), "department", "state", "count") == [
        ("public-security", "dispatched", 1), ("transport", "dispatched", 1),
        ("urban-management", "closed", 2), ("urban-management", "in_progress", 1)]
    north = dashboard_orders.orders_by(sessions, start, end, "江北区", "department")
    assert rows(north, "department", "state", "count") == [
        ("public-security", "dispatched", 1), ("transport", "dispatched", 1), ("urban-management", "closed", 1)]
    assert rows(dashboard_orders.orders_by(sessions, start, end, "", "district"), "district", "state", "count") == [
        ("", "in_progress", 1), ("江北区", "closed", 1), ("江北区", "dispatched", 2), ("江南区", "closed", 1)]


def test_overdue_is_open_and_past_due_now_whenever_filed(sessions):
    orders(sessions)
    now = period()[1]
    late = dashboard_orders.overdue(sessions, now, "")
    assert late["number"].tolist() == ["E", "D"]  # longest overdue first; E was filed before the period
    assert late["hours_over"].iloc[1] == pytest.approx(23.5)
    assert rows(dashboard_orders.overdue_by_department(sessions, now, ""), "department", "count") == [("public-security", 2)]
    assert dashboard_orders.overdue(sessions, now, "江北区")["number"].tolist() == ["D"]
    assert dashboard_orders.overdue(sessions, at(2, 0), "")["number"].tolist() == ["E"]


def test_median_times_to_first_response_and_to_close_against_the_limit(sessions):
    orders(sessions)
    start, end = period()
    found = dashboard_orders.response_times(sessions, start, end, "").set_index("department")
    urban = found.loc["urban-management"]
    assert (urban.first_response_h, urban.close_h, urban.closed, urban.limit_h) == (4.0, 30.0, 2, 72.0)
    assert found.loc["transport"].isna().first_response_h and found.loc["transport"].closed == 0
    north = dashboard_orders.response_times(sessions, start, end, "江北区").set_index("department").loc["urban-management"]
    assert (north.first_response_h, north.close_h, north.closed) == (2.0, 20.0, 1)
    assert not found["sampled"].any()


def test_topics_above_the_cap_are_estimated_from_a_uniform_sample(sessions, monkeypatch):
    with sessions.begin() as db:
        db.add(Conversation(id="s"))
    cite = [[{"n": 1, "doc": "tax/a.md", "title": "个税"}], [{"n": 1, "doc": "tax/b.md", "title": "发票"}]]
    replies = [dict(session_id="s", role="assistant", text="答", status="answered", citations=cite[i % 3 == 2],
                    created=at(1, 9) + i, domain="tax") for i in range(6000)]
    with sessions.begin() as db:
        db.execute(insert(Message), replies)  # raw rows, as a bulk load writes them: their counts are rebuilt after
    rebuild_reply_counts(sessions.kw["bind"])
    monkeypatch.setattr(dashboard, "TOPIC_SAMPLE", 1500)
    found = dashboard.top_topics(sessions, *period())
    assert found["sampled"].all() and found["title"].tolist() == ["个税", "发票"]
    assert found["count"].tolist() == pytest.approx([4000, 2000], rel=0.1)


def test_a_guide_cited_by_its_english_name_is_one_topic_under_its_chinese_title(sessions):
    with sessions.begin() as db:
        for i, title in enumerate(["养老机构入住", "Nursing Home Admission (养老机构入住)", "养老机构入住"]):
            add_turn(db, f"n{i}", at(1, 9 + i), "养老院怎么申请", domain="elderly", title=title)
        add_turn(db, "p", at(1, 13), "办护照", title="办护照")
    topics = dashboard.top_topics(sessions, *period())
    assert rows(topics, "title", "domain", "count") == [("养老机构入住", "elderly", 3), ("办护照", "permits", 1)]


def test_unanswered_questions_above_the_cap_are_estimated_from_a_uniform_sample(sessions, monkeypatch):
    with sessions.begin() as db:
        for i in range(3000):  # every third is "帮我写诗", the rest one question in two wordings
            add_turn(db, f"s{i % 50}", at(2, 9) + 10 * i, ["深圳公积金", "深圳公积金？", "帮我写诗"][i % 3],
                     status="refused" if i % 2 else "handoff", domain="guide_qa")
    exact = dashboard.unanswered(sessions, *period())
    assert exact["count"].tolist() == [2000, 1000] and not exact["sampled"].any()
    monkeypatch.setattr(dashboard, "UNANSWERED_SAMPLE", 600)
    found = dashboard.unanswered(sessions, *period())
    assert found["sampled"].all() and found["question"].str.strip("？").tolist() == ["深圳公积金", "帮我写诗"]
    assert found["count"].tolist() == pytest.approx([2000, 1000], rel=0.1)


def test_response_and_closing_times_above_the_cap_come_from_a_uniform_sample(sessions, monkeypatch):
    with sessions.begin() as db:  # 800 orders: an answer after 2 h, closed after 10 h; every fourth after 6 h and 30 h
        for i in range(800):
            slow = i % 4 == 0
            order(db, f"N{i}", "transport", "江北区", at(1, 8) + 60 * i, 72, ("in_progress", 6 if slow else 2),
                  ("closed", 30 if slow else 10))
    monkeypatch.setattr(dashboard_orders, "RESPONSE_SAMPLE", 200)
    found = dashboard_orders.response_times(sessions, *period(), "").set_index("department").loc["transport"]
    assert found.sampled and found.closed == pytest.approx(800, rel=0.15)
    assert (found.first_response_h, found.close_h) == (2.0, 10.0)  # the medians of a sample of a 3:1 mix


def test_the_hourly_reply_counts_follow_every_stored_reply_and_are_built_for_an_older_database(tmp_path):
    path = tmp_path / "older.db"
    sessions = make_session_factory(f"sqlite:///{path}")
    history(sessions)
    engine = sessions.kw["bind"]
    with engine.connect() as connection:
        replies = connection.exec_driver_sql("SELECT count(*) FROM messages WHERE role = 'assistant'").scalar()
        counted = connection.exec_driver_sql("SELECT sum(count) FROM reply_counts").scalar()
    assert replies == counted == 11
    before = dashboard.questions_per_day(sessions, *period(), TZ)
    with engine.begin() as connection:  # a database from before the counts: neither the table nor the column
        connection.exec_driver_sql("DROP TABLE reply_counts")
        connection.exec_driver_sql("ALTER TABLE messages DROP COLUMN copied")
    engine.dispose()
    reopened = make_session_factory(f"sqlite:///{path}")
    assert dashboard.questions_per_day(reopened, *period(), TZ).equals(before)
    with reopened() as db:
        assert db.query(ReplyCount).filter_by(domain="emergency", status="emergency", kind="fire").count() == 2


def test_a_turn_the_assistant_answers_is_counted_on_the_dashboard_at_once(small_assistant):
    tz = small_assistant.settings.timezone
    small_assistant.ask("我要办护照需要什么材料")
    small_assistant.ask("I need a passport, what documents?")
    found = dashboard.questions_per_day(small_assistant.sessions, *dashboard.last_days(1, tz, time.time()), tz)
    assert found["count"].sum() == 2


def test_an_empty_database_gives_empty_charts(sessions):
    start, end = period()
    frames = [dashboard.questions_per_day(sessions, start, end, TZ), dashboard.outcomes_per_day(sessions, start, end, TZ),
              dashboard.top_topics(sessions, start, end), dashboard.unanswered(sessions, start, end),
              dashboard.ratings_by_domain(sessions, start, end), dashboard.worst_rated(sessions, start, end),
              dashboard.emergencies_per_day(sessions, start, end, TZ),
              dashboard_orders.orders_by(sessions, start, end, "", "district"), dashboard_orders.overdue(sessions, end, ""),
              dashboard_orders.overdue_by_department(sessions, end, ""), dashboard_orders.response_times(sessions, start, end, "")]
    assert all(f.empty for f in frames)
    assert list(frames[0].columns) == ["day", "domain", "count"]


def test_indexes_and_the_period_of_the_last_days(sessions):
    engine = sessions.kw["bind"]
    dashboard.ensure_indexes(engine)
    dashboard.ensure_indexes(engine)  # again: nothing to do
    with engine.connect() as connection:
        names = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(dashboard.INDEXES) <= names
    assert dashboard.last_days(3, TZ, at(3, 15)) == (at(1, 0), at(3, 15))


def test_the_tab_builds_and_refreshes_in_both_languages(sessions):
    history(sessions)
    orders(sessions)
    desk = SimpleNamespace(sessions=sessions, settings=SimpleNamespace(timezone=TZ))
    with gr.Blocks() as page:
        with gr.Tabs():
            ui = staff_dashboard.dashboard_tab(desk)
        staff_dashboard.wire_dashboard(desk, ui, lambda signed_in, request: True)
    assert set(staff_dashboard.OUTPUTS) <= set(ui)
    assert [f.api_visibility for f in page.fns.values()] == ["private"] * 4  # opened, refresh, period, district
    assert staff_dashboard.I18N.translations["zh"]["tab_dashboard"] == "运营看板"
    for lang, day, domain, closed, note in (("zh", "日期", "证照办理", "已关闭", "只作用于工单"),
                                            ("en", "Day", "Permits", "closed", "work orders only")):
        out = dict(zip(staff_dashboard.OUTPUTS, staff_dashboard.refresh(desk, 30, "江北区", lang, now=at(4, 0))))
        assert len(out) == len(staff_dashboard.OUTPUTS) and TZ in out["dash_note"] and note in out["dash_note"]
        questions = out["dash_questions"]
        assert questions["x"] == day and domain in set(questions["value"].iloc[:, 1])
        states = out["dash_orders_department"]["value"].iloc[:, 1]
        assert closed in set(states)
        assert set(out["dash_period"]["choices"][0]) in ({"最近7天", 7}, {"Last 7 days", 7})
        assert out["dash_worst"].shape[0] == 2 and out["dash_overdue_list"].shape[0] == 1  # D, in 江北区


def test_the_refresh_runs_only_for_staff_the_check_allows(sessions):
    desk = SimpleNamespace(sessions=sessions, settings=SimpleNamespace(timezone=TZ))
    asked = []
    with gr.Blocks() as page:
        with gr.Tabs():
            ui = staff_dashboard.dashboard_tab(desk, visible=False)
        signed = gr.State(False)
        staff_dashboard.wire_dashboard(desk, ui, lambda value, request: asked.append(value) or value, authed=signed)
    run = next(iter(page.fns.values())).fn
    english = SimpleNamespace(headers={"accept-language": "en-US,en"})
    assert run(False, 7, "", english) == tuple(gr.skip() for _ in staff_dashboard.OUTPUTS)
    assert run(True, 7, "", english)[0].startswith("Period:") and asked == [False, True]


def test_the_tab_refreshes_an_empty_database(sessions):
    desk = SimpleNamespace(sessions=sessions, settings=SimpleNamespace(timezone=TZ))
    out = dict(zip(staff_dashboard.OUTPUTS, staff_dashboard.refresh(desk, 7, "", "zh")))
    assert out["dash_questions"]["value"].empty and out["dash_response_table"].empty
    assert "只作用于工单" not in out["dash_note"]


def test_every_label_exists_in_both_languages():
    data = staff_dashboard.I18N.translations
    assert set(data["zh"]) == set(data["en"]) == set(staff_dashboard.LABELS)
    for kind in ("columns", "domains", "outcomes", "states", "ratings", "within", "kinds"):
        assert set(staff_dashboard.names(kind, "zh")) == set(staff_dashboard.names(kind, "en"))
    assert staff_dashboard.kind_names("zh")["fire"] == "火灾" and json.dumps(staff_dashboard.kind_names("en"))
