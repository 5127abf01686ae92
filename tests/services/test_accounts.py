"""Staff accounts: argon2 passwords, the lock after wrong passwords, sessions and tokens that stop at once,
and an audit log the application (and the database) will not let anyone rewrite."""

import subprocess
import sys

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from assistant.services import accounts, audit
from assistant.services.access import DOORS, ROLES, Principal, allowed, sees_order, sees_transcript
from assistant.services.database import make_session_factory
from assistant.services.db import StaffAccount, StaffCredential

DEPARTMENTS = {"urban-management", "housing"}
PASSWORD = "长城 correct horse 9"


@pytest.fixture
def sessions(tmp_path):
    return make_session_factory(f"sqlite:///{tmp_path / 'staff.db'}")


def add(sessions, name="ann", role="agent", department=""):
    return accounts.add(sessions, name=name, password=PASSWORD, role=role, department=department,
                        departments=DEPARTMENTS)


def test_passwords_are_argon2_hashes_and_secrets_are_never_stored(sessions):
    add(sessions)
    secret = accounts.sign_in(sessions, "ann", PASSWORD)
    token = accounts.new_token(sessions, "ann", "script")
    with sessions() as db:
        stored = db.scalar(select(StaffAccount.password_hash))
        digests = list(db.scalars(select(StaffCredential.digest)))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert len(digests) == 2 and secret not in digests and token not in digests
    dump = "\n".join(sessions().connection().connection.iterdump())
    assert secret not in dump and token not in dump and PASSWORD not in dump


@pytest.mark.parametrize("kwargs, reason", [
    ({"role": "boss"}, "unknown role"), ({"role": "department"}, "department account needs"),
    ({"role": "department", "department": "nowhere"}, "department account needs"),
    ({"name": ""}, "name"), ({"password": "short"}, "at least 10"),
])
def test_bad_accounts_are_refused_with_the_reason(sessions, kwargs, reason):
    values = {"name": "bob", "password": PASSWORD, "role": "agent", **kwargs}
    with pytest.raises(accounts.AccountError, match=reason):
        accounts.add(sessions, departments=DEPARTMENTS, **values)
    assert accounts.listing(sessions) == []


def test_a_name_is_taken_once(sessions):
    add(sessions)
    with pytest.raises(accounts.AccountError, match="exists"):
        add(sessions, role="admin")


def test_wrong_passwords_lock_the_account_and_a_new_password_unlocks_it(sessions):
    add(sessions)
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(accounts.AccountError, match="wrong"):
            accounts.sign_in(sessions, "ann", "not the password")
    with pytest.raises(accounts.AccountError, match="locked"):
        accounts.sign_in(sessions, "ann", "not the password")
    with pytest.raises(accounts.AccountError, match="locked"):
        accounts.sign_in(sessions, "ann", PASSWORD)  # even the right password waits out the lock
    accounts.set_password(sessions, "ann", "a fresh passphrase")
    assert accounts.resolve(sessions, accounts.sign_in(sessions, "ann", "a fresh passphrase"), "session")
    failures = audit.entries(sessions, action="sign_in_failed")
    assert len(failures) == accounts.MAX_FAILURES + 1 and failures[0]["detail"] == "locked"


def test_unknown_names_and_wrong_passwords_get_the_same_answer(sessions):
    add(sessions)
    answers = []
    for name, password in (("nobody", PASSWORD), ("ann", "wrong password")):
        with pytest.raises(accounts.AccountError) as caught:
            accounts.sign_in(sessions, name, password)
        answers.append(str(caught.value))
    assert answers == ["wrong", "wrong"]


def test_a_disabled_account_stops_at_once_and_a_new_password_ends_sessions(sessions):
    add(sessions)
    session, token = accounts.sign_in(sessions, "ann", PASSWORD), accounts.new_token(sessions, "ann")
    assert accounts.resolve(sessions, session, "session") == Principal("ann", "agent", via="session")
    assert accounts.resolve(sessions, token, "token").via == "token"
    assert accounts.resolve(sessions, token, "session") is None  # a token is not a cookie
    accounts.set_disabled(sessions, "ann")
    assert accounts.resolve(sessions, session, "session") is None and accounts.resolve(sessions, token, "token") is None
    with pytest.raises(accounts.AccountError):
        accounts.sign_in(sessions, "ann", PASSWORD)
    accounts.set_disabled(sessions, "ann", False)
    assert accounts.resolve(sessions, token, "token") is None  # enabling again does not revive old credentials
    session = accounts.sign_in(sessions, "ann", PASSWORD)
    accounts.set_password(sessions, "ann", "another passphrase")
    assert accounts.resolve(sessions, session, "session") is None


def test_an_expired_session_signs_nobody_in(sessions):
    add(sessions)
    session = accounts.sign_in(sessions, "ann", PASSWORD)
    with sessions.begin() as db:
        db.execute(text("UPDATE staff_credentials SET expires = 1"))
    assert accounts.resolve(sessions, session, "session") is None


def test_tokens_are_listed_without_their_secret_and_revoked_by_id(sessions):
    add(sessions)
    token = accounts.new_token(sessions, "ann", "nightly export")
    listed = accounts.tokens(sessions, "ann")
    assert [t["label"] for t in listed] == ["nightly export"] and token not in str(listed)
    with pytest.raises(accounts.AccountError):
        accounts.revoke_token(sessions, "ann", "abc")  # too short to name one token
    accounts.revoke_token(sessions, "ann", listed[0]["id"])
    assert accounts.resolve(sessions, token, "token") is None and accounts.tokens(sessions, "ann")[0]["revoked"]


def test_the_audit_log_is_append_only_in_the_database_itself(sessions):
    add(sessions)
    before = audit.entries(sessions)
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with sessions.begin() as db:
                db.execute(text(statement))
    assert audit.entries(sessions) == before and before[0]["action"] == "account_add"


def test_audit_details_are_masked_and_csv_cells_cannot_be_formulas(sessions):
    audit.record(sessions, actor="=cmd|' /C calc'!A0", action="reply", target="GD1", detail="回电 13812345678")
    rows = audit.entries(sessions)
    assert "13812345678" not in rows[0]["detail"]
    csv_text = audit.as_csv(rows, str)
    assert "\n" in csv_text and ",'=cmd" in csv_text


@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_exactly_its_doors(role):
    who = Principal("x", role, "housing" if role == "department" else "")
    expected = {"admin": set(DOORS), "editor": {"guides", "gaps", "dashboard", "stats"},
                "dispatcher": {"orders", "orders.reassign", "dashboard", "stats"}, "department": {"orders"},
                "agent": {"tickets"}}[role]
    assert {door for door in DOORS if allowed(who, door)} == expected
    assert not allowed(None, "orders") and not allowed(who, "no-such-door")
    assert sees_order(who, "urban-management") == (role in ("admin", "dispatcher"))
    assert sees_transcript(who, "x") == (role in ("admin", "agent"))
    assert sees_transcript(who, "someone else") == (role == "admin")


def test_the_cli_makes_the_first_admin_and_lists_it(tmp_path):
    env = {"CITYDESK_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    run = lambda *args, stdin="": subprocess.run([sys.executable, "-m", "assistant.cli", "staff", *args],  # noqa: E731
                                                 input=stdin, capture_output=True, text=True, env=env, timeout=120)
    made = run("add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0 and "added root (admin)" in made.stdout
    refused = run("add", "d1", "--role", "department", "--department", "moon", "--password-stdin", stdin=PASSWORD)
    assert refused.returncode == 1 and "urban-management" in refused.stderr
    token = run("token", "root", "--label", "script")
    assert token.stdout.startswith("cdt_") and "shown once" in token.stderr
    assert run("disable", "root").returncode == 0
    assert "disabled" in run("list").stdout
