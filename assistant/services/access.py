"""Who may open which staff door: the roles, what each may do, and the signed-in staff member (Principal).

Every staff action in the page and the API asks `allowed(principal, door)` on the server; hiding a tab
is only a courtesy. A department account sees only its own department's work orders: an order of another
department is answered as if it did not exist, so guessing numbers reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "editor", "dispatcher", "department", "agent")

# door -> the roles that may pass it ("admin" passes every door)
DOORS: dict[str, frozenset[str]] = {
    "guides": frozenset({"editor"}),            # list, upload, delete, re-index guides; quarantine decisions
    "gaps": frozenset({"editor"}),              # the questions the guides could not answer
    "tickets": frozenset({"agent"}),            # the hand-off queue: claim, close, the transcript of one's own
    "orders": frozenset({"dispatcher", "department"}),  # work orders (a department: only its own)
    "orders.reassign": frozenset({"dispatcher"}),
    "dashboard": frozenset({"editor", "dispatcher"}),
    "stats": frozenset({"editor", "dispatcher"}),
    "audit": frozenset(),                       # admin only
    "accounts": frozenset(),                    # admin only
}

# the staff page's tabs, each behind one door
TABS = {"guides": "guides", "tickets": "tickets", "orders": "orders", "gaps": "gaps", "dashboard": "dashboard",
        "audit": "audit"}


@dataclass(frozen=True)
class Principal:
    """The staff member behind a request: the account's name, role and department, and how they signed in."""

    name: str
    role: str
    department: str = ""
    via: str = "session"  # session | token | legacy (the deprecated shared CITYDESK_STAFF_TOKEN)


LEGACY_ADMIN = Principal(name="staff-token", role="admin", via="legacy")


def allowed(principal: Principal | None, door: str) -> bool:
    """May `principal` pass `door`? Nobody passes an unknown door."""
    if principal is None or door not in DOORS:
        return False
    return principal.role == "admin" or principal.role in DOORS[door]


def order_department(principal: Principal, department: str) -> str:
    """The department whose orders `principal` may list: its own for a department account, else `department`."""
    return principal.department if principal.role == "department" else department


def sees_order(principal: Principal | None, order_department_id: str) -> bool:
    """May `principal` see (and act on) a work order owned by `order_department_id`?"""
    if not allowed(principal, "orders"):
        return False
    return principal.role != "department" or principal.department == order_department_id


def sees_transcript(principal: Principal | None, claimed_by: str) -> bool:
    """An agent reads the transcript (and contact) of a ticket it claimed; an admin reads every one."""
    if not allowed(principal, "tickets"):
        return False
    return principal.role == "admin" or claimed_by == principal.name
