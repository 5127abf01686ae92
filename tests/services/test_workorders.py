"""Work orders: the intake classifier on requests, filing once, due times, the staff actions and their guarded HTTP routes."""

import time

import httpx
import pytest
from fastapi import FastAPI

from assistant.services import workorders
from assistant.services.db import WorkOrder
from assistant.channels.staff_api import add_order_routes, staff_guard
from tests.live import serve_in_thread

pytestmark = pytest.mark.integration
PHONE = "13800002468"


def file(assistant, department="urban-management", phone=PHONE, description="人民路12号的路灯坏了", session="s1"):
    order, _ = workorders.file_order(assistant, session_id=session, lang="zh", kind="help", department=department,
                                     confidence=0.05, description=description, district="江北区",
                                     address="人民路12号", since="上周",
                                     phone_hash=assistant.phone_digest(phone) if phone else "",
                                     phone_masked=phone or "")
    return order


@pytest.mark.parametrize("text, kind, department", [
    ("解放路上三盏路灯全黑了，晚上走路看不见", "help", "urban-management"),
    ("建议在菜场门口增设一个公交站", "suggestion", "transport"),
    ("老板拖欠了我两个月的工钱", "complaint", "human-resources"),
    ("the taxi driver refused to use the meter and overcharged me", "complaint", "transport"),
    ("how do I apply for a residence permit", "question", None),
])
def test_classifier_tells_type_and_department(small_assistant, text, kind, department):
    found = small_assistant.intake.classify(text)
    assert found.kind == kind
    if department:
        assert found.department == department


def test_an_unclear_owner_goes_to_the_general_dispatch_queue(small_assistant):
    # several problems of several departments, each saying it is not theirs: the 12345 queue sorts it out
    found = small_assistant.intake.classify("菜市场门口摊贩占道、车辆乱停、垃圾乱堆，找了好几个部门都说不归他们管")
    assert found.kind == "complaint" and found.department == "dispatch"
    # a message with nothing in it yet is not filed anywhere: the citizen is asked what happened
    assert small_assistant.intake.classify("你好，我有点事想说一下").kind == "question"


def test_filing_stores_masked_data_and_dispatches_with_a_due_time(small_assistant):
    order = file(small_assistant, description=f"路灯坏了，有事打我{PHONE}")
    assert workorders.NUMBER.fullmatch(order.number)
    assert order.state == "dispatched" and [e["state"] for e in order.history] == ["received", "dispatched"]
    assert PHONE not in order.description and "138****2468" in order.description
    assert order.phone_masked == "138****2468" and order.phone_hash == small_assistant.phone_digest(PHONE)
    assert order.due - order.created == pytest.approx(72 * 3600)


def test_the_same_request_twice_files_one_order(small_assistant):
    first, second = file(small_assistant), file(small_assistant)
    assert first.number == second.number
    with small_assistant.sessions() as db:
        assert db.query(WorkOrder).count() == 1


def test_general_queue_orders_stay_received_until_reassigned(small_assistant):
    order = file(small_assistant, department="dispatch", phone=None)
    assert order.state == "received" and order.phone_hash == "" and order.due - order.created == pytest.approx(24 * 3600)
    moved = workorders.reassign(small_assistant, order.number, "environment", "王芳")
    assert moved["state"] == "dispatched" and moved["department"] == "environment"
    assert moved["history"][-1]["by"] == "王芳"


def test_staff_move_an_order_through_its_states(small_assistant):
    order = file(small_assistant)
    assert workorders.start(small_assistant, order.number, "李强")["state"] == "in_progress"
    done = workorders.reply(small_assistant, order.number, f"已更换灯泡，联系人{PHONE}", "李强")
    assert done["state"] == "resolved" and "已更换灯泡" in done["reply"] and PHONE not in done["reply"]
    assert workorders.close(small_assistant, order.number, "李强")["state"] == "closed"
    assert [e["state"] for e in done["history"]] == ["received", "dispatched", "in_progress", "resolved"]


@pytest.mark.parametrize("action, args, message", [
    ("reply", ("", "李强"), "write the reply"), ("start", ("",), "give your name"),
    ("reassign", ("nowhere", "李强"), "unknown department")])
def test_staff_actions_refuse_bad_input(small_assistant, action, args, message):
    order = file(small_assistant)
    with pytest.raises(workorders.WorkOrderError, match=message):
        getattr(workorders, action)(small_assistant, order.number, *args)


def test_a_closed_order_cannot_be_replied_to_and_unknown_numbers_are_named(small_assistant):
    order = file(small_assistant)
    workorders.close(small_assistant, order.number, "李强")
    with pytest.raises(workorders.WorkOrderError, match="is closed"):
        workorders.reply(small_assistant, order.number, "好的", "李强")
    with pytest.raises(workorders.WorkOrderError, match="no work order"):
        workorders.close(small_assistant, "GD2026-00000000", "李强")


def test_list_by_department_and_state_puts_overdue_first(small_assistant):
    late = file(small_assistant, department="fire-rescue", description="消防通道被堵", session="a")
    fresh = file(small_assistant, department="fire-rescue", description="灭火器过期", session="b")
    other = file(small_assistant, department="housing", description="电梯坏了", session="c")
    with small_assistant.sessions.begin() as db:
        db.query(WorkOrder).filter_by(number=late.number).one().due = time.time() - 60
    items = workorders.list_orders(small_assistant, department="fire-rescue")
    assert [i["number"] for i in items] == [late.number, fresh.number]
    assert items[0]["overdue"] and not items[1]["overdue"]
    assert other.number in [i["number"] for i in workorders.list_orders(small_assistant)]
    workorders.close(small_assistant, late.number, "张伟")
    assert workorders.list_orders(small_assistant, states=("closed",))[0]["number"] == late.number
    assert late.number not in [i["number"] for i in workorders.list_orders(small_assistant)]


@pytest.fixture
def orders_server(small_assistant):
    app = FastAPI()
    add_order_routes(app, small_assistant, staff_guard(small_assistant, "t0ken", lambda request: None))
    with serve_in_thread(app) as url:
        yield url


def test_order_routes_need_the_staff_token_and_act(orders_server, small_assistant):
    order = file(small_assistant, department="dispatch")
    auth = {"Authorization": "Bearer t0ken"}
    with httpx.Client(base_url=orders_server, timeout=30) as client:
        assert client.get("/api/staff/orders").status_code == 401
        listed = client.get("/api/staff/orders", params={"department": "dispatch"}, headers=auth).json()
        assert [o["number"] for o in listed] == [order.number] and listed[0]["phone"] == "138****2468"
        assert PHONE not in str(listed)
        moved = client.post(f"/api/staff/orders/{order.number}/reassign", headers=auth,
                            json={"staff": "王芳", "department": "transport"})
        assert moved.status_code == 200 and moved.json()["state"] == "dispatched"
        replied = client.post(f"/api/staff/orders/{order.number}/reply", headers=auth,
                              json={"staff": "王芳", "reply": "已约谈司机"})
        assert replied.json()["state"] == "resolved"
        assert client.post(f"/api/staff/orders/{order.number}/start", headers=auth,
                           json={"staff": "王芳"}).status_code == 409
        assert client.post("/api/staff/orders/GD2026-00000001/close", headers=auth,
                           json={"staff": "王芳"}).status_code == 404
        assert client.get("/api/staff/orders", params={"state": "lost"}, headers=auth).status_code == 400
        assert len(client.get("/api/staff/departments", headers=auth).json()) == 11
