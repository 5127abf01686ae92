"""Staff accounts: argon2 password hashes, a lock after repeated wrong passwords, page sessions with an
expiry and personal API tokens (shown once, stored as a SHA-256 digest, revocable).

A disabled account stops at once: every session and token is checked against its account on each use.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from assistant.services import audit
from assistant.services.access import ROLES, Principal
from assistant.services.db import StaffAccount, StaffCredential

HASHER = PasswordHasher()  # argon2id with the library's current defaults
MIN_PASSWORD = 10
MAX_FAILURES = 5           # wrong passwords in a row before the account locks
LOCK_SECONDS = 15 * 60
SESSION_SECONDS = 8 * 3600  # one working day
_DUMMY_HASH = HASHER.hash("citydesk-no-such-account")  # same work for unknown names: no timing oracle


class AccountError(ValueError):
    """An account operation that cannot be done; the message says why."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _principal(account: StaffAccount, via: str) -> Principal:
    return Principal(name=account.name, role=account.role, department=account.department, via=via)


def _check(name: str, role: str, department: str, departments: set[str]) -> None:
    if not name or len(name) > 64 or any(ord(ch) < 32 for ch in name):
        raise AccountError("a name of 1 to 64 printable characters is needed")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if role == "department" and department not in departments:
        raise AccountError(f"a department account needs one of: {', '.join(sorted(departments))}")


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")


def add(sessions, *, name: str, password: str, role: str, department: str = "", departments: set[str],
        actor: str = "cli") -> dict:
    """Create an account; `departments` are the ids a department account may belong to."""
    name = (name or "").strip()
    _check(name, role, department, departments)
    _check_password(password)
    with sessions.begin() as db:
        if db.scalar(select(StaffAccount.id).where(StaffAccount.name == name)) is not None:
            raise AccountError(f"an account named {name!r} exists already")
        account = StaffAccount(name=name, password_hash=HASHER.hash(password), role=role,
                               department=department if role == "department" else "")
        db.add(account)
        db.flush()
        audit.write(db, actor=actor, action="account_add", target=name, detail=f"role={role} {account.department}")
        return as_json(account)


def as_json(account: StaffAccount) -> dict:
    return {"name": account.name, "role": account.role, "department": account.department,
            "disabled": account.disabled, "locked": account.locked_until > time.time(), "created": account.created}


def any_account(sessions) -> bool:
    """Has any staff account been made (without one, and without the shared token, staff doors are disabled)?"""
    with sessions() as db:
        return db.scalar(select(StaffAccount.id).limit(1)) is not None


def listing(sessions) -> list[dict]:
    with sessions() as db:
        return [as_json(a) for a in db.scalars(select(StaffAccount).order_by(StaffAccount.name))]


def _account(db, name: str) -> StaffAccount:
    account = db.scalar(select(StaffAccount).where(StaffAccount.name == name))
    if account is None:
        raise AccountError(f"no account named {name!r}")
    return account


def set_password(sessions, name: str, password: str, *, actor: str = "cli") -> None:
    """A new password; it also unlocks the account and ends its sessions (not its API tokens)."""
    _check_password(password)
    with sessions.begin() as db:
        account = _account(db, name)
        account.password_hash, account.failures, account.locked_until = HASHER.hash(password), 0, 0.0
        _revoke(db, account.id, kind="session")
        audit.write(db, actor=actor, action="account_passwd", target=name)


def set_disabled(sessions, name: str, disabled: bool = True, *, actor: str = "cli") -> None:
    """Disable (or enable again) an account; disabling ends its sessions and tokens at once."""
    with sessions.begin() as db:
        account = _account(db, name)
        account.disabled = disabled
        if disabled:
            _revoke(db, account.id)
        audit.write(db, actor=actor, action="account_disable" if disabled else "account_enable", target=name)


def _revoke(db, account_id: int, kind: str | None = None) -> None:
    query = update(StaffCredential).where(StaffCredential.account_id == account_id)
    db.execute((query.where(StaffCredential.kind == kind) if kind else query).values(revoked=True))


def sign_in(sessions, name: str, password: str, *, client: str = "") -> str:
    """A new session secret for the page's cookie, or AccountError (the same message for a wrong name or
    password); the account locks for LOCK_SECONDS after MAX_FAILURES wrong passwords in a row."""
    now, refused = time.time(), ""
    with sessions.begin() as db:  # a refusal is committed too (the failure count, the audit row), then raised
        account = db.scalar(select(StaffAccount).where(StaffAccount.name == (name or "").strip()))
        ok = _verify(account.password_hash if account else _DUMMY_HASH, password or "")
        if account is not None and account.locked_until > now:
            refused = "locked"
        elif account is None or account.disabled or not ok:
            refused = "wrong"
            if account is not None and not account.disabled:
                account.failures += 1
                if account.failures >= MAX_FAILURES:
                    account.failures, account.locked_until, refused = 0, now + LOCK_SECONDS, "locked"
        if refused:
            audit.write(db, actor=(name or "")[:64], action="sign_in_failed", client=client,
                        detail=refused if account is None or not account.disabled else "disabled")
        else:
            account.failures = 0
            if HASHER.check_needs_rehash(account.password_hash):
                account.password_hash = HASHER.hash(password)
            secret = secrets.token_urlsafe(32)
            db.add(StaffCredential(digest=_digest(secret), account_id=account.id, kind="session",
                                   expires=now + SESSION_SECONDS))
            audit.write(db, actor=account.name, action="sign_in", client=client)
    if refused:
        raise AccountError(refused)
    return secret


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_out(sessions, secret: str) -> None:
    with sessions.begin() as db:
        db.execute(update(StaffCredential).where(StaffCredential.digest == _digest(secret or ""))
                   .values(revoked=True))


def resolve(sessions, secret: str, kind: str) -> Principal | None:
    """The staff member behind a session cookie (`kind` "session") or an API token ("token"), or None when
    the secret is unknown, revoked, expired, or its account is disabled."""
    if not secret:
        return None
    with sessions() as db:
        row = db.execute(select(StaffCredential, StaffAccount).join(StaffAccount)
                         .where(StaffCredential.digest == _digest(secret), StaffCredential.kind == kind)).first()
    if row is None:
        return None
    credential, account = row
    if credential.revoked or account.disabled or (credential.expires and credential.expires < time.time()):
        return None
    return _principal(account, kind)


def new_token(sessions, name: str, label: str = "", *, actor: str = "cli") -> str:
    """A personal API token for `name`: returned once, kept only as its digest."""
    secret = "cdt_" + secrets.token_urlsafe(32)
    with sessions.begin() as db:
        account = _account(db, name)
        if account.disabled:
            raise AccountError(f"account {name!r} is disabled")
        db.add(StaffCredential(digest=_digest(secret), account_id=account.id, kind="token", label=label[:64]))
        audit.write(db, actor=actor, action="token_add", target=name, detail=label[:64])
    return secret


def tokens(sessions, name: str) -> list[dict]:
    """An account's API tokens (never the secret): an id (the digest's first 12 characters) to revoke it."""
    with sessions() as db:
        account = _account(db, name)
        rows = db.scalars(select(StaffCredential).where(StaffCredential.account_id == account.id,
                                                       StaffCredential.kind == "token"))
        return [{"id": r.digest[:12], "label": r.label, "created": r.created, "revoked": r.revoked} for r in rows]


def revoke_token(sessions, name: str, token_id: str, *, actor: str = "cli") -> None:
    if len(token_id or "") < 8:
        raise AccountError("give the token's id as `citydesk staff tokens` lists it (12 characters)")
    with sessions.begin() as db:
        account = _account(db, name)
        done = db.execute(update(StaffCredential).where(
            StaffCredential.account_id == account.id, StaffCredential.kind == "token",
            StaffCredential.digest.startswith(token_id, autoescape=True)).values(revoked=True)).rowcount
        if not done:
            raise AccountError(f"no token {token_id!r} for {name!r} (see `citydesk staff tokens {name}`)")
        audit.write(db, actor=actor, action="token_revoke", target=name, detail=token_id)
