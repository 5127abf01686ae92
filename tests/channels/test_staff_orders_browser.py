"""The staff page's work-order tab in Debian's Chromium: list by department, overdue marked, reply and close."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.services import workorders
from assistant.channels.api import create_app
from assistant.services.db import WorkOrder
from tests.live import serve_in_thread
from tests.channels.test_web_browser import OUTPUT, TURN_TIMEOUT, browser, open_page, wait_text  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "orders-token"


def file(assistant, department: str, description: str, session: str):
    order, _ = workorders.file_order(assistant, session_id=session, lang="zh", kind="complaint", department=department,
                                     confidence=0.05, description=description, district="东湖区", address="湖滨路201号",
                                     since="上周", phone_hash=assistant.phone_digest("13800001234"),
                                     phone_masked="13800001234")
    return order


def test_staff_reply_and_close_a_work_order_with_overdue_ones_marked(browser, small_assistant):  # noqa: F811
    late = file(small_assistant, "fire-rescue", "消防通道被私家车堵住", "a")
    fresh = file(small_assistant, "fire-rescue", "楼道里堆满纸箱", "b")
    with small_assistant.sessions.begin() as db:
        db.query(WorkOrder).filter_by(number=late.number).one().due = 1.0
    with serve_in_thread(create_app(small_assistant, staff_token=TOKEN, rate_limit=1000)) as url:
        page = open_page(browser, f"{url}/staff/?token={TOKEN}")
        page.wait_for_selector("#cd-staff-main", state="visible", timeout=30_000)
        page.click("button[role=tab]:has-text('市民诉求工单')")
        wait_text(page, "#cd-orders", fresh.number)
        overdue_rows = page.query_selector_all("#cd-orders tr.cd-overdue")
        assert len(overdue_rows) == 1 and late.number in overdue_rows[0].inner_text()
        assert "已超时" in overdue_rows[0].inner_text()
        color = overdue_rows[0].query_selector("td").evaluate("e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(253, 226, 225)"
        page.fill("#cd-staff-name input", "赵工")
        page.click("#cd-order input")
        page.click(f"li[role=option]:has-text('{late.number}')")
        wait_text(page, "#cd-order-details", "消防通道被私家车堵住")
        assert "13800001234" not in page.inner_text("#cd-order-details")
        page.fill("#cd-order-reply textarea", "已清理通道并约谈物业")
        page.click("#cd-reply")
        wait_text(page, "#cd-orders-note", "已办结", timeout=TURN_TIMEOUT)
        page.screenshot(path=str(Path(OUTPUT) / "staff-orders.png"), full_page=True)
        assert workorders.find(small_assistant, late.number).reply == "已清理通道并约谈物业"
        page.click("#cd-close-order")
        wait_text(page, "#cd-orders-note", "已关闭", timeout=TURN_TIMEOUT)
        assert workorders.find(small_assistant, late.number).state == "closed"
