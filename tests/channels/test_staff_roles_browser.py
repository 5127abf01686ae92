"""Signing in to the staff page in Debian's Chromium as each role: each sees only its tabs, a department's
work orders are fixed to its own department, signing out ends the session, and a disabled account's page
stops working at once; states are in the page's language and times in the city's zone. The admin's page
(dashboard open) is saved as tests/output/staff-dashboard.png, the hand-off tab as staff-tickets.png."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from assistant.channels.api import create_app
from assistant.core.prompts import render
from assistant.services import accounts, staff, workorders
from assistant.services.access import ROLES
from tests.channels.test_web_browser import OUTPUT, TURN_TIMEOUT, browser, wait_text  # noqa: F401
from tests.live import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a long enough passphrase"
TABS = ("guides", "tickets", "orders", "gaps", "dashboard", "audit")
SEES = {"admin": set(TABS), "editor": {"guides", "gaps", "dashboard"}, "dispatcher": {"orders", "dashboard"},
        "department": {"orders"}, "agent": {"tickets"}}


def sign_in(browser, url: str, name: str, locale: str = "zh-CN"):  # noqa: F811
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(url + "/staff/login")
    page.fill("#cd-login-name", name)
    page.fill("#cd-login-password", PASSWORD)
    page.click("#cd-login-submit")
    page.wait_for_selector("#cd-staff-main", state="visible", timeout=60_000)
    return page


def label(tab: str, lang: str) -> str:
    return render("tab_" + tab, lang, file="dashboard" if tab == "dashboard" else "web")


def visible_tabs(page, lang: str = "zh") -> set[str]:
    page.wait_for_selector("button[role=tab]", timeout=30_000)
    shown = {b.inner_text().strip() for b in page.query_selector_all("button[role=tab]") if b.is_visible()}
    return {tab for tab in TABS if label(tab, lang) in shown}


@pytest.fixture
def served(small_assistant):
    for role in ROLES:
        accounts.add(small_assistant.sessions, name=role, password=PASSWORD, role=role,
                     department="housing" if role == "department" else "", departments={"housing"})
    with serve_in_thread(create_app(small_assistant, staff_token="", rate_limit=10_000)) as url:
        yield url


def test_each_role_sees_only_its_tabs(browser, served, small_assistant):  # noqa: F811
    for question in ("办护照要多少钱", "护照多久能拿到", "结婚登记要什么材料", "地铁末班车几点", "地铁末班车几点",
                     "How much is a passport?", "转人工"):
        small_assistant.ask(question)
    for department, district in (("housing", "江北区"), ("urban-management", "东湖区"), ("urban-management", "江北区")):
        workorders.file_order(small_assistant, session_id=department + district, lang="zh", kind="help",
                              department=department, confidence=0.9, description="路灯坏了", district=district,
                              address="", since="", phone_hash="", phone_masked="")
    for role in ROLES:
        page = sign_in(browser, served, role)
        assert visible_tabs(page) == SEES[role], role
        wait_text(page, "#cd-signed-in-line", f"已登录：{role}")
        assert not page.is_visible("#cd-token") and not page.is_visible("#cd-staff-name")
        if role == "admin":
            page.click(f"button[role=tab]:has-text('{label('dashboard', 'zh')}')")
            wait_text(page, "#cd-dash-unanswered", "地铁末班车几点")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(OUTPUT / "staff-dashboard.png"), full_page=True)
            page.click(f"button[role=tab]:has-text('{label('audit', 'zh')}')")
            wait_text(page, "#cd-audit", "sign_in")  # every account above signed in, the admin last
            assert "agent" in page.inner_text("#cd-audit")
        page.context.close()


def test_a_department_account_works_its_own_orders_and_signs_out(browser, served, small_assistant):  # noqa: F811
    mine, _ = workorders.file_order(small_assistant, session_id="a", lang="zh", kind="help", department="housing",
                                    confidence=0.9, description="电梯坏了三天", district="江北区", address="",
                                    since="", phone_hash="", phone_masked="")
    other, _ = workorders.file_order(small_assistant, session_id="b", lang="zh", kind="help",
                                     department="urban-management", confidence=0.9, description="路灯不亮",
                                     district="江北区", address="", since="", phone_hash="", phone_masked="")
    page = sign_in(browser, served, "department")
    page.click("button[role=tab]:has-text('市民诉求工单')")
    wait_text(page, "#cd-orders", mine.number)
    assert other.number not in page.inner_text("#cd-orders") and not page.is_visible("#cd-reassign")
    page.click("#cd-order input")
    page.click(f"li[role=option]:has-text('{mine.number}')")
    page.click("#cd-start")
    wait_text(page, "#cd-orders-note", mine.number, timeout=TURN_TIMEOUT)
    assert workorders.find(small_assistant, mine.number).history[-1]["by"] == "department"
    page.click("#cd-sign-out")
    page.wait_for_selector("#cd-login-name", timeout=30_000)
    page.goto(served + "/staff/")
    page.wait_for_selector("#cd-sign-in-link", state="visible", timeout=60_000)
    assert not page.is_visible("#cd-staff-main")


def test_a_disabled_account_page_stops_at_once(browser, served, small_assistant):  # noqa: F811
    page = sign_in(browser, served, "editor", locale="en-GB")
    assert visible_tabs(page, "en") == SEES["editor"]
    accounts.set_disabled(small_assistant.sessions, "editor", actor="admin")
    page.click("#cd-reindex")
    page.wait_for_selector(".toast-body, .toast-wrap", timeout=30_000)
    assert "sign in first" in page.inner_text("body")


def test_wrong_password_is_refused_in_the_page_language(browser, served):  # noqa: F811
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(served + "/staff/login")
    page.fill("#cd-login-name", "agent")
    page.fill("#cd-login-password", "not it at all")
    page.click("#cd-login-submit")
    wait_text(page, "#cd-login-error", "Wrong account name or password")
    context.close()


def test_the_chinese_page_shows_states_in_chinese_and_times_in_the_city_zone(browser, served, small_assistant):  # noqa: F811
    first = small_assistant.ask("办护照要多少钱")
    small_assistant.ask("转人工", session_id=first.session_id)
    small_assistant.ask("帮我写一首关于秋天的诗")
    [ticket] = staff.tickets(small_assistant)
    city_time = dt.datetime.fromtimestamp(ticket["created"], ZoneInfo(small_assistant.settings.timezone))
    utc_time = dt.datetime.fromtimestamp(ticket["created"], dt.timezone.utc)
    page = sign_in(browser, served, "admin")
    wait_text(page, "#cd-files", "已索引")  # the guides' state in the page's language
    assert "indexed" not in page.inner_text("#cd-files")
    page.click(f"button[role=tab]:has-text('{label('tickets', 'zh')}')")
    wait_text(page, "#cd-tickets", "市民要求转人工")
    shown = page.inner_text("#cd-tickets")
    assert "待处理" in shown and "open" not in shown
    assert city_time.strftime("%Y-%m-%d %H:%M") in shown, "the hand-off time in the city's time zone"
    assert city_time.utcoffset() and utc_time.strftime("%H:%M") not in shown
    page.screenshot(path=str(OUTPUT / "staff-tickets.png"), full_page=True)
    page.click(f"button[role=tab]:has-text('{label('gaps', 'zh')}')")
    wait_text(page, "#cd-gaps", "不属于本市办事范围")  # its own group, not filed under a domain
    assert "帮我写一首关于秋天的诗" in page.inner_text("#cd-gaps") and "emergency" not in page.inner_text("#cd-gaps")
    page.context.close()


def test_an_editor_deletes_a_guide_by_clicking_its_row(browser, served, small_assistant):  # noqa: F811
    page = sign_in(browser, served, "editor", locale="en-US")
    wait_text(page, "#cd-files", "civil_affairs/marriage.md")
    page.locator("#cd-files span:visible", has_text="civil_affairs/marriage.md").first.click()
    page.wait_for_function("document.querySelector('#cd-guide-path textarea, #cd-guide-path input').value"
                           " === 'civil_affairs/marriage.md'", timeout=30_000)
    page.click("#cd-delete")
    wait_text(page, "#cd-guides-note", "Deleted: civil_affairs/marriage.md")
    page.wait_for_function("!document.querySelector('#cd-files').innerText.includes('civil_affairs/marriage.md')",
                           timeout=TURN_TIMEOUT)
    assert not (small_assistant.settings.knowledge / "civil_affairs" / "marriage.md").exists()
    assert list((small_assistant.settings.home / "deleted").rglob("marriage.md")), "kept for restoring"
    assert "marriage" not in " ".join(c.doc for c in small_assistant.ask("结婚登记要什么材料").citations)
    page.context.close()
