"""Every staff door over HTTP, for every role: the server refuses what a role may not do, a department sees
only its own work orders (another's answers as if it did not exist), an agent reads only the tickets it
claimed, a disabled account stops at once, and each action leaves its row in the audit log."""

import httpx
import pytest

from assistant.channels.api import create_app
from assistant.services import accounts, audit, workorders
from assistant.services.access import ROLES
from tests.live import serve_in_thread

pytestmark = pytest.mark.integration
PASSWORD = "a long enough passphrase"
DEPARTMENT = "urban-management"

# door -> (method, path, body); the roles that may pass each are in services/access.py, repeated here
# on purpose: a change of who may do what must change this table too
DOORS = {
    ("GET", "/api/staff/files"): {"admin", "editor"},
    ("GET", "/api/staff/gaps"): {"admin", "editor"},
    ("GET", "/api/staff/tickets"): {"admin", "agent"},
    ("GET", "/api/staff/orders"): {"admin", "dispatcher", "department"},
    ("GET", "/api/staff/departments"): {"admin", "dispatcher", "department"},
    ("GET", "/api/staff/audit"): {"admin"},
    ("GET", "/api/staff/audit.csv"): {"admin"},
    ("GET", "/api/staff/me"): set(ROLES),
}


def file_order(assistant, department: str, text: str = "人民路12号的路灯坏了"):
    order, _ = workorders.file_order(assistant, session_id=text, lang="zh", kind="help", department=department,
                                     confidence=0.9, description=text, district="江北区", address="人民路12号",
                                     since="上周", phone_hash="", phone_masked="")
    return order.number


@pytest.fixture
def server(small_assistant):
    """A served app without the shared token and one account (with an API token) per role, plus a second agent."""
    tokens = {}
    for role in (*ROLES, "agent2"):
        name, real_role = (role, "agent") if role == "agent2" else (role, role)
        accounts.add(small_assistant.sessions, name=name, password=PASSWORD, role=real_role,
                     department=DEPARTMENT if real_role == "department" else "", departments={DEPARTMENT})
        tokens[role] = {"Authorization": "Bearer " + accounts.new_token(small_assistant.sessions, name)}
    with serve_in_thread(create_app(small_assistant, staff_token="", rate_limit=10_000)) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client, tokens


def test_each_door_opens_for_its_roles_only(server):
    client, tokens = server
    for (method, path), roles in DOORS.items():
        for role in ROLES:
            status = client.request(method, path, headers=tokens[role]).status_code
            assert (status == 200) == (role in roles), (path, role, status)
            assert status in (200, 403), (path, role, status)
        assert client.request(method, path).status_code == 401
        assert client.request(method, path, headers={"Authorization": "Bearer cdt_guess"}).status_code == 401


def test_only_editors_and_admins_change_guides(server, small_assistant):
    client, tokens = server
    for role in ROLES:
        status = client.post("/api/staff/reindex", headers=tokens[role]).status_code
        assert (status == 200) == (role in ("admin", "editor")), role
    upload = client.post("/api/staff/upload", headers=tokens["agent"], data={"domain": "pets"},
                         files={"file": ("dog.md", b"# dog\n\nfee 50", "text/markdown")})
    assert upload.status_code == 403
    for role in ROLES:
        if role not in ("admin", "editor"):
            assert client.delete("/api/staff/files/permits/passport.md", headers=tokens[role]).status_code == 403
    assert (small_assistant.settings.knowledge / "permits" / "passport.md").exists()
    assert client.delete("/api/staff/files/permits/nothing.md", headers=tokens["editor"]).status_code == 404
    deleted = client.delete("/api/staff/files/permits/passport.md", headers=tokens["editor"])
    assert deleted.status_code == 200 and deleted.json()["report"]["removed"] == ["permits/passport.md"]
    assert (small_assistant.settings.home / deleted.json()["kept"]).exists()
    assert "permits/passport.md" not in {f["path"] for f in client.get("/api/staff/files", headers=tokens["admin"]).json()}
    assert audit.entries(small_assistant.sessions, action="delete")[0]["actor"] == "editor"
    assert client.post("/api/staff/files/permits/passport.en.md/release", headers=tokens["agent"]).status_code == 403
    assert client.post("/api/staff/files/permits/passport.en.md/release", headers=tokens["editor"]).status_code == 404


def test_a_department_sees_and_acts_on_its_own_orders_only(server, small_assistant):
    client, tokens = server
    own, other = file_order(small_assistant, DEPARTMENT), file_order(small_assistant, "housing", "电梯坏了三天")
    dept = tokens["department"]
    listed = client.get("/api/staff/orders", headers=dept).json()
    assert [o["number"] for o in listed] == [own]
    assert client.get("/api/staff/orders", params={"department": "housing"}, headers=dept).status_code == 403
    assert client.get(f"/api/staff/orders/{own}", headers=dept).status_code == 200
    guessed = client.get(f"/api/staff/orders/{other}", headers=dept)
    missing = client.get("/api/staff/orders/GD2099-99999999", headers=dept)
    assert guessed.status_code == missing.status_code == 404 and "电梯" not in guessed.text
    for action in ("start", "close"):
        assert client.post(f"/api/staff/orders/{other}/{action}", headers=dept, json={}).status_code == 404
    assert client.post(f"/api/staff/orders/{own}/reassign", headers=dept,
                       json={"department": "housing"}).status_code == 403
    assert workorders.find(small_assistant, other).state == "dispatched"
    assert client.post(f"/api/staff/orders/{own}/start", headers=dept, json={}).json()["state"] == "in_progress"
    replied = client.post(f"/api/staff/orders/{own}/reply", headers=dept, json={"reply": "已修复"}).json()
    assert replied["state"] == "resolved" and replied["history"][-1]["by"] == "department"
    moved = client.post(f"/api/staff/orders/{other}/reassign", headers=tokens["dispatcher"],
                        json={"department": DEPARTMENT}).json()
    assert moved["department"] == DEPARTMENT and moved["history"][-1]["by"] == "dispatcher"
    done = {(e["actor"], e["action"], e["target"]) for e in audit.entries(small_assistant.sessions)}
    assert {("department", "start", own), ("department", "reply", own), ("dispatcher", "reassign", other)} <= done


def test_an_agent_reads_only_the_tickets_it_claimed(server, small_assistant):
    client, tokens = server
    number = client.post("/api/chat", json={"message": "转人工"}).json()["reply"].split("工单号 ")[1].split("。")[0]
    listed = {t["number"]: t for t in client.get("/api/staff/tickets", headers=tokens["agent"]).json()}
    assert listed[number]["transcript"] is None
    claimed = client.post(f"/api/staff/tickets/{number}/claim", headers=tokens["agent"], json={}).json()
    assert claimed["claimed_by"] == "agent"
    mine = {t["number"]: t for t in client.get("/api/staff/tickets", headers=tokens["agent"]).json()}
    theirs = {t["number"]: t for t in client.get("/api/staff/tickets", headers=tokens["agent2"]).json()}
    admin = {t["number"]: t for t in client.get("/api/staff/tickets", headers=tokens["admin"]).json()}
    assert "转人工" in str(mine[number]["transcript"]) and theirs[number]["transcript"] is None
    assert admin[number]["transcript"] == mine[number]["transcript"]
    assert client.post(f"/api/staff/tickets/{number}/close", headers=tokens["agent2"], json={}).status_code == 409
    assert client.post(f"/api/staff/tickets/{number}/close", headers=tokens["agent"], json={}).status_code == 200
    read = [(e["actor"], e["target"]) for e in audit.entries(small_assistant.sessions, action="read_transcript")]
    assert ("agent", number) in read and ("admin", number) in read and all(a != "agent2" for a, _ in read)


def test_a_disabled_account_stops_at_once_over_token_and_cookie(server, small_assistant):
    client, tokens = server
    signed = client.post("/staff/login", data={"name": "dispatcher", "password": PASSWORD}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/staff/"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie
    assert client.get("/api/staff/me").json()["name"] == "dispatcher"  # the page's cookie, kept by the client
    assert client.get("/api/staff/orders", headers=tokens["dispatcher"]).status_code == 200
    accounts.set_disabled(small_assistant.sessions, "dispatcher", actor="admin")
    assert client.get("/api/staff/orders", headers=tokens["dispatcher"]).status_code == 401
    client.headers.pop("Authorization", None)
    assert client.get("/api/staff/me").status_code == 401


def test_sign_in_page_answers_wrong_and_locked_in_the_browser_language(server):
    client, _ = server
    client.cookies.clear()
    form = client.get("/staff/login", headers={"Accept-Language": "en-GB"})
    assert form.status_code == 200 and "Staff sign-in" in form.text and 'type="password"' in form.text
    for attempt in range(accounts.MAX_FAILURES):
        wrong = client.post("/staff/login", data={"name": "editor", "password": "nope"},
                            headers={"Accept-Language": "zh-CN"}, follow_redirects=False)
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "锁定" in wrong.text
    right = client.post("/staff/login", data={"name": "editor", "password": PASSWORD}, follow_redirects=False)
    assert right.status_code == 401 and "锁定" in right.text
    signed = client.post("/staff/login", data={"name": "admin", "password": PASSWORD}, follow_redirects=False)
    assert signed.status_code == 303
    out = client.post("/staff/logout", follow_redirects=False)
    assert out.status_code == 303 and client.get("/api/staff/me").status_code == 401


def test_the_audit_log_is_filtered_and_exported_as_csv(server, small_assistant):
    client, tokens = server
    client.post("/staff/login", data={"name": "nobody", "password": "x"})
    client.post("/api/staff/reindex", headers=tokens["editor"])
    rows = client.get("/api/staff/audit", params={"action": "reindex"}, headers=tokens["admin"]).json()
    assert [r["actor"] for r in rows] == ["editor"]
    exported = client.get("/api/staff/audit.csv", headers=tokens["admin"])
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == "time,actor,action,target,detail,client"
    assert any(",nobody,sign_in_failed," in line for line in lines) and any(",editor,reindex," in line for line in lines)


def test_the_shared_token_still_works_as_a_deprecated_admin(small_assistant, caplog):
    with serve_in_thread(create_app(small_assistant, staff_token="t0ken", rate_limit=1000)) as url:
        me = httpx.get(url + "/api/staff/me", headers={"Authorization": "Bearer t0ken"}).json()
    assert me["role"] == "admin" and me["via"] == "legacy"
    assert "deprecated" in caplog.text
