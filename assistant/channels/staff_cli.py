"""`citydesk staff add|passwd|disable|enable|list|token|tokens|revoke`: staff accounts from the server's shell.

The first admin is made here (`citydesk staff add NAME --role admin`). Passwords are asked twice without
echo, or read from standard input with `--password-stdin` (for scripts); they never appear as arguments.
Every change is written to the audit log as done by "cli".
"""

from __future__ import annotations

import getpass
import sys

from assistant.services import accounts, workorders
from assistant.services.access import ROLES


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise accounts.AccountError("the two passwords differ")
    return first


def run(assistant, args) -> int:
    sessions = assistant.sessions
    try:
        if args.action == "add":
            made = accounts.add(sessions, name=args.name, password=_password(args), role=args.role,
                                department=args.department or "", departments=set(workorders.departments()))
            print(f"added {made['name']} ({made['role']}{', ' + made['department'] if made['department'] else ''})")
        elif args.action == "passwd":
            accounts.set_password(sessions, args.name, _password(args))
            print(f"new password for {args.name}; its page sessions have ended")
        elif args.action in ("disable", "enable"):
            accounts.set_disabled(sessions, args.name, args.action == "disable")
            print(f"{args.name} {args.action}d")
        elif args.action == "list":
            for a in accounts.listing(sessions):
                flags = " disabled" if a["disabled"] else " locked" if a["locked"] else ""
                print(f"{a['name']:24s} {a['role']:10s} {a['department'] or '-':20s}{flags}")
        elif args.action == "token":
            secret = accounts.new_token(sessions, args.name, args.label or "")
            print(secret)
            print("shown once: keep it now; revoke with `citydesk staff revoke NAME ID`", file=sys.stderr)
        elif args.action == "tokens":
            for tok in accounts.tokens(sessions, args.name):
                print(f"{tok['id']}  {tok['label'] or '-':20s}{' revoked' if tok['revoked'] else ''}")
        elif args.action == "revoke":
            accounts.revoke_token(sessions, args.name, args.id)
            print(f"token {args.id} of {args.name} revoked")
    except accounts.AccountError as exc:
        print(f"citydesk staff: {exc}", file=sys.stderr)
        return 1
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("staff", help="staff accounts: add, passwd, disable, enable, list, token, tokens, revoke")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="create an account (the first one: --role admin)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--department", help="for --role department: a department id from seeds/departments.yaml")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a = actions.add_parser("passwd", help="set a new password (also unlocks the account)")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true")
    for name, text in (("disable", "stop an account at once (its sessions and tokens too)"),
                       ("enable", "allow a disabled account again"), ("tokens", "list an account's API tokens")):
        actions.add_parser(name, help=text).add_argument("name")
    actions.add_parser("list", help="every account with its role and department")
    a = actions.add_parser("token", help="a new personal API token, printed once")
    a.add_argument("name")
    a.add_argument("--label", help="what it is for, e.g. the script that uses it")
    a = actions.add_parser("revoke", help="revoke an API token by the id `tokens` lists")
    a.add_argument("name")
    a.add_argument("id")
    p.set_defaults(run=run)
