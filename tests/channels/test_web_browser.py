"""The web chat and the staff page in Debian's Chromium, against `python app.py` on a free port.

Screenshots for review are written to tests/output/. Every request any page makes must go to
127.0.0.1: no fonts, CDNs or analytics from elsewhere.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from assistant.channels.api import create_app
from tests.conftest import MARRIAGE, PASSPORT, PASSPORT_EN, write_guides
from tests.live import serve_app_py, serve_in_thread
from tests.test_crash import citydesk_serve
from tests.channels.test_staff import DOG

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = Path(__file__).resolve().parents[1] / "output"
TOKEN = "staff-secret-token"
CHROMIUM = "/usr/bin/chromium"
TURN_TIMEOUT = 90_000
FOREIGN: list[str] = []


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    knowledge = write_guides(root / "knowledge", {"permits/passport.md": PASSPORT, "permits/passport.en.md": PASSPORT_EN,
                                                  "civil_affairs/marriage.md": MARRIAGE})
    OUTPUT.mkdir(exist_ok=True)
    env = {"CITYDESK_HOME": str(root / "home"), "CITYDESK_KNOWLEDGE": str(knowledge), "CITYDESK_STAFF_TOKEN": TOKEN}
    with serve_app_py(env, OUTPUT / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
    assert FOREIGN == [], f"requests left the machine: {FOREIGN}"


def open_page(browser, url: str, locale: str = "zh-CN", width: int = 1100, height: int = 900, mobile: bool = False):
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height}, is_mobile=mobile,
                                  has_touch=mobile)
    page = context.new_page()
    page.on("request", lambda r: FOREIGN.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", None)
            and not r.url.startswith(("data:", "blob:")) else None)
    page.goto(url)
    page.wait_for_selector("#cd-input textarea, #cd-staff", timeout=60_000)
    return page


def turns(page) -> int:
    found = page.query_selector(".cd-status")
    return int(found.get_attribute("data-turns")) if found else 0


def send(page, text: str | None = None, button: str = "#cd-send") -> dict:
    """Type `text` (or just press `button`) and wait for the reply; returns the status attributes."""
    before = turns(page)
    if text is not None:
        page.fill("#cd-input textarea", text)
    page.click(button)
    page.wait_for_selector(f'.cd-status[data-turns="{before + 1}"]', timeout=TURN_TIMEOUT)
    status = page.query_selector(".cd-status")
    return {k: status.get_attribute(f"data-{k}") for k in ("status", "skill", "asks")}


def wait_text(page, selector: str, text: str, timeout: float = 30_000) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)", arg=[selector, text],
                           timeout=timeout)


def last_answer(page) -> str:
    return page.query_selector_all("#cd-chat .message.bot")[-1].inner_text()


def test_chinese_question_gets_a_cited_answer(browser, app_url):
    page = open_page(browser, app_url)
    assert "办护照" in page.get_attribute("#cd-input textarea", "placeholder")
    assert send(page, "办护照要多少钱")["status"] == "answered"
    assert "每本120元" in last_answer(page)
    card = page.query_selector_all(".cd-card")[0]
    assert "普通护照申领" in card.inner_text() and "收费标准" in card.inner_text()
    guide = page.context.request.get(app_url + card.get_attribute("href"))
    assert guide.ok and "每本120元" in guide.text()
    page.screenshot(path=str(OUTPUT / "chat.png"), full_page=True)


def test_english_browser_gets_english_page_and_answer(browser, app_url):
    page = open_page(browser, app_url, locale="en-US")
    page.wait_for_function("document.querySelector('#cd-send').innerText.trim() === 'Send'")
    assert send(page, "How much does a passport cost?")["status"] == "answered"
    assert "120 yuan" in last_answer(page) and "Sources" in last_answer(page)
    assert "Ordinary passport" in page.query_selector_all(".cd-card")[0].inner_text()


def test_language_switch_changes_the_page(browser, app_url):
    page = open_page(browser, app_url)
    page.wait_for_function("document.querySelector('#cd-send').innerText.trim() === '发送'")
    page.click("#cd-lang label:has-text('English')")
    page.wait_for_function("document.querySelector('#cd-send').innerText.trim() === 'Send'")
    assert "Talk to a person" in page.inner_text("#cd-handoff")
    assert "passport" in page.get_attribute("#cd-input textarea", "placeholder")
    assert send(page, button="#cd-quick-passport")["status"] == "answered"
    assert "Required materials" in last_answer(page)
    page.click("#cd-lang label:has-text('中文')")
    page.wait_for_function("document.querySelector('#cd-handoff').innerText.includes('转人工')")


def test_emergency_shows_a_red_banner_with_the_number(browser, app_url):
    page = open_page(browser, app_url)
    assert not page.is_visible(".cd-banner")
    assert send(page, "着火了，楼道里全是烟")["status"] == "emergency"
    banner = page.wait_for_selector(".cd-banner", state="visible")
    assert "119" in banner.inner_text() and banner.get_attribute("role") == "alert"
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(176, 0, 32)"
    number = page.query_selector(".cd-banner-number")
    assert number.get_attribute("href") == "tel:119" and number.bounding_box()["height"] >= 40
    page.screenshot(path=str(OUTPUT / "chat-emergency.png"), full_page=True)
    send(page, "办护照要多少钱")
    assert not page.is_visible(".cd-banner")


def test_booking_is_completed_with_the_buttons(browser, app_url):
    page = open_page(browser, app_url)
    state = send(page, button="#cd-quick-booking")
    answers = {"department": "儿科", "hospital": "1", "time": "最早的", "name": "张三", "id": "11010519491231002X",
               "phone": "13812345678"}
    for _ in range(10):
        if state["asks"] == "confirm":
            break
        assert state["status"] == "asking", last_answer(page)
        days = re.findall(r"\d{1,2}月\d{1,2}日", last_answer(page))
        state = send(page, days[-1] if state["asks"] == "date" else answers[state["asks"]])
    assert page.is_visible("#cd-confirm") and "就诊人：张三" in last_answer(page)
    assert "13812345678" not in last_answer(page)
    page.screenshot(path=str(OUTPUT / "chat-booking.png"), full_page=True)
    assert page.inner_text("#cd-yes") == "确认预约" and page.inner_text("#cd-no") == "不约了"
    assert send(page, button="#cd-yes")["status"] == "booked"
    assert "预约成功" in last_answer(page) and re.search(r"BK[A-Z0-9]{6}", last_answer(page))
    assert not page.is_visible("#cd-confirm")
    # cancelling: the buttons say what they do, and keeping the appointment keeps it
    code = re.search(r"BK[A-Z0-9]{6}", last_answer(page)).group(0)
    state = send(page, f"取消预约 {code} 手机13812345678")
    assert state["asks"] == "confirm" and page.is_visible("#cd-confirm")
    assert page.inner_text("#cd-yes") == "确认取消这个预约" and page.inner_text("#cd-no") == "保留预约"
    page.screenshot(path=str(OUTPUT / "chat-cancel-confirm.png"), full_page=True)
    state = send(page, button="#cd-no")
    assert state["status"] == "answered" and "保留" in last_answer(page)
    assert "已取消" not in page.inner_text(".cd-status")
    state = send(page, f"取消预约 {code} 手机13812345678")
    state = send(page, button="#cd-yes")
    assert state["status"] == "cancelled" and code in last_answer(page) and "已取消" in page.inner_text(".cd-status")


def test_thumbs_down_with_a_comment_is_stored(browser, app_url):
    page = open_page(browser, app_url, locale="en-US")  # Gradio's own button labels follow the locale
    send(page, "结婚登记要什么材料")
    before = httpx.get(app_url + "/api/stats").json()["feedback"]["down"]
    page.query_selector_all("#cd-chat button[aria-label='Dislike']")[-1].click()
    page.wait_for_selector("#cd-comment textarea", state="visible")
    page.fill("#cd-comment textarea", "想知道在哪里办")
    page.click("#cd-comment-send")
    page.wait_for_selector("#cd-comment textarea", state="hidden")
    assert httpx.get(app_url + "/api/stats").json()["feedback"]["down"] == before + 1
    gaps = httpx.get(app_url + "/api/staff/gaps", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert "想知道在哪里办" in str(gaps["civil_affairs"])


def test_phone_sized_screen(browser, app_url):
    page = open_page(browser, app_url, width=375, height=740, mobile=True)
    send(page, "办护照需要什么材料")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for selector in ("#cd-send", "#cd-handoff", "#cd-quick-booking", ".cd-card"):
        box = page.query_selector(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["height"] >= 40, selector
    page.screenshot(path=str(OUTPUT / "chat-phone.png"), full_page=True)
    # the conversation gets the screen: two thirds of its height, answers nearly its whole width
    chat = page.query_selector("#cd-chat").bounding_box()
    bubble = page.query_selector_all("#cd-chat .message.bot")[-1].bounding_box()
    assert chat["height"] >= 0.62 * 740 and bubble["width"] >= 0.84 * chat["width"], (chat, bubble)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_quick_buttons_on_a_phone_are_one_height(browser, app_url, locale):
    page = open_page(browser, app_url, locale=locale, width=375, height=740, mobile=True)
    heights = {round(b.bounding_box()["height"]) for b in page.query_selector_all("#cd-quick > button")}
    assert len(heights) == 1 and heights.pop() >= 44, heights
    page.screenshot(path=str(OUTPUT / f"chat-phone-buttons-{locale}.png"), full_page=True)


def test_staff_page_uploads_a_guide_that_the_chat_then_answers(browser, app_url, tmp_path):
    chat = open_page(browser, app_url)
    assert send(chat, button="#cd-handoff")["status"] == "handoff"
    ticket = re.search(r"T\d{6}[0-9A-F]{6}", last_answer(chat)).group(0)

    page = open_page(browser, app_url + "/staff")  # as documented, without the slash
    assert not page.is_visible("#cd-staff-main")
    page.fill("#cd-token input", "wrong")
    page.click("#cd-sign-in")
    wait_text(page, "#cd-login-note", "令牌不正确")
    page = open_page(browser, f"{app_url}/staff/?token={TOKEN}")
    page.wait_for_selector("#cd-staff-main", state="visible", timeout=30_000)
    wait_text(page, "#cd-files", "permits/passport.md")
    guide = tmp_path / "dog.md"
    guide.write_text(DOG, encoding="utf-8")
    page.set_input_files("#cd-upload input[type=file]", str(guide))
    page.wait_for_selector("#cd-upload :text('dog.md')")
    page.fill("#cd-domain input", "pets")
    page.keyboard.press("Enter")
    page.click("#cd-upload-btn")
    wait_text(page, "#cd-guides-note", "pets/dog.md", timeout=TURN_TIMEOUT)
    wait_text(page, "#cd-files", "pets/dog.md")
    assert "已保存" in page.inner_text("#cd-guides-note")
    # the new upload comes first, states in Chinese, the table filters
    table = page.inner_text("#cd-files")
    assert table.index("pets/dog.md") < table.index("permits/passport.md"), "the newest upload first"
    assert "已索引" in table and "indexed" not in table
    page.fill("#cd-files-filter textarea, #cd-files-filter input", "passport")
    page.wait_for_function("() => !document.querySelector('#cd-files').innerText.includes('pets/dog.md')",
                           timeout=30_000)
    assert "permits/passport.md" in page.inner_text("#cd-files")
    page.fill("#cd-files-filter textarea, #cd-files-filter input", "")
    wait_text(page, "#cd-files", "pets/dog.md")
    page.screenshot(path=str(OUTPUT / "staff.png"), full_page=True)

    page.click("#cd-tab-tickets-button, button[role=tab]:has-text('人工工单')")
    wait_text(page, "#cd-tickets", ticket)
    page.fill("#cd-staff-name input", "王工")
    page.click("#cd-ticket input")
    page.click(f"li[role=option]:has-text('{ticket}')")
    wait_text(page, "#cd-transcript", "转人工")
    page.click("#cd-claim")
    wait_text(page, "#cd-tickets", "王工")
    page.screenshot(path=str(OUTPUT / "staff-tickets.png"), full_page=True)

    assert send(chat, "养狗登记要多少钱")["status"] == "answered"
    assert "50元" in last_answer(chat) and "犬只登记" in chat.query_selector_all(".cd-card")[0].inner_text()


def test_staff_page_is_disabled_without_accounts_or_token(browser, small_assistant):
    with serve_in_thread(create_app(small_assistant, staff_token="")) as url:
        page = open_page(browser, url + "/staff/")
        wait_text(page, "#cd-login-note", "citydesk staff add")
        assert not page.is_visible("#cd-token") and not page.is_visible("#cd-upload")


def test_sigterm_with_chat_tabs_open_stops_the_server_within_seconds(browser, _small_template, tmp_path):
    """Open tabs hold event streams that never end by themselves: before the grace period the server
    released its port on SIGTERM but kept running for minutes."""
    shutil.copytree(_small_template, tmp_path / "desk")
    with citydesk_serve(tmp_path / "desk" / "home", tmp_path / "desk" / "knowledge", tmp_path / "serve.log") \
            as (url, process):
        for _ in range(2):
            page = open_page(browser, url)
            assert send(page, "办护照要多少钱")["status"] == "answered"
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        assert time.monotonic() - began < 30


def test_the_eval_report_fits_the_window_with_every_suite(browser, small_assistant, tmp_path):
    from assistant.evaluation import report as evalreport
    from tests.evaluation.test_evaluation import SUITE, args_for, run_cli, write

    run_cli(small_assistant, args_for(write(tmp_path / "tiny.yaml", SUITE), report=tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    report["suites"] = [{**report["suites"][0], "name": f"answers_suite_number_{n}"} for n in range(16)]
    page_file = tmp_path / "wide.html"
    page_file.write_text(evalreport.html(report), encoding="utf-8")
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(page_file.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 1100, "the metrics table scrolls on its own"
    clipped = page.evaluate("""() => [...document.querySelectorAll('svg text')].filter(t => {
        const b = t.getBBox(), w = t.ownerSVGElement.width.baseVal.value;
        return b.x < 0 || b.x + b.width > w; }).map(t => t.textContent)""")
    assert clipped == [], clipped
    page.screenshot(path=str(OUTPUT / "eval-report.png"), full_page=True)


def test_the_chat_shows_the_guide_answer_at_once_and_only_checked_llm_text(browser, tmp_path, _small_template):
    """With an LLM on a CPU an answer takes long: the extractive answer shows at once, marked as such,
    and is replaced by the LLM's when attribution passes it; text that fails never appears."""
    from assistant import Assistant
    from tests.conftest import make_settings
    from tests.llm_server import Response, ScriptedLLM

    shutil.copytree(_small_template, tmp_path / "desk")
    with ScriptedLLM() as llm:
        assistant = Assistant.from_settings(make_settings(
            tmp_path / "desk" / "home", tmp_path / "desk" / "knowledge", llm_base_url=llm.url, llm_model="test",
            llm_timeout=30, llm_retries=0))
        with serve_in_thread(create_app(assistant, rate_limit=0)) as url:
            page = open_page(browser, url)
            llm.script(Response(text="普通护照每本120元[1]。", delay=3))
            page.fill("#cd-input textarea", "办护照要多少钱")
            page.click("#cd-send")
            wait_text(page, "#cd-chat", "正在生成并核对", timeout=10_000)  # the draft, long before the LLM is done
            assert "每本120元" in last_answer(page) and "普通护照每本120元" not in last_answer(page)
            page.screenshot(path=str(OUTPUT / "chat-llm-draft.png"), full_page=True)
            page.wait_for_selector('.cd-status[data-turns="1"]', timeout=TURN_TIMEOUT)
            assert last_answer(page).startswith("普通护照每本120元") and "正在生成" not in last_answer(page)
            llm.script(Response(text="普通护照每本999元[1]。", chunk_chars=2, chunk_delay=0.2))
            page.fill("#cd-input textarea", "护照费用是多少")
            page.click("#cd-send")
            seen = []
            while not page.query_selector('.cd-status[data-turns="2"]'):
                seen.append(page.inner_text("#cd-chat"))
                time.sleep(0.1)
            assert not any("999" in text for text in seen) and "999" not in last_answer(page)
            assert "每本120元" in last_answer(page)
