"""The actions behind the staff page's buttons: signing in, showing and acting on guides, tickets, work orders,
gaps and the audit log.

Every action finds the staff member again (the session cookie, checked against the account each time, or the
deprecated shared token's flag in session state) and checks the role's door on the server; labels follow the
browser language.
"""

from __future__ import annotations

import html
import re
import secrets
import tempfile
from http.cookies import SimpleCookie
from pathlib import Path

import gradio as gr

from assistant.channels.staff_api import COOKIE
from assistant.services import accounts, audit, guides, staff, workorders
from assistant.services.access import (LEGACY_ADMIN, TABS, Principal, allowed, order_department, sees_order,
                                       sees_transcript)
from assistant.channels.staff_views import (files_table, gaps_markdown, orders_html, report_line, state_label, t,
                                            tickets_table)
from assistant.channels.web import browser_lang
from assistant.core.prompts import data as prompt_data


EXPORTS = Path(tempfile.mkdtemp(prefix="citydesk-audit-"))  # this process's audit exports


def t_list(key: str, lang: str) -> list[str]:
    return list(prompt_data(key, lang, file="web"))


def cookie_secret(request: gr.Request | None) -> str:
    header = dict(request.headers).get("cookie", "") if request is not None else ""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header signs nobody in
        return ""
    return jar[COOKIE].value if COOKIE in jar else ""


class StaffActions:
    """The staff page's event handlers for one assistant, its staff token and its rate limiter."""

    def __init__(self, assistant, *, token: str, limiter) -> None:
        self.assistant = assistant
        self.token = token
        self.limiter = limiter

    def principal(self, signed_in, request: gr.Request | None) -> Principal | None:
        """The staff member behind this page: its session cookie's account, else the shared token's admin."""
        found = accounts.resolve(self.assistant.sessions, cookie_secret(request), "session")
        return found or (LEGACY_ADMIN if signed_in is True and self.token else None)

    def require(self, signed_in, request: gr.Request | None, door: str) -> Principal:
        """The staff member, or a refusal shown on the page when not signed in or the role lacks `door`."""
        who = self.principal(signed_in, request)
        if who is None:
            raise gr.Error("sign in first / 请先登录")
        if not allowed(who, door):
            raise gr.Error(t("not_allowed", browser_lang(request)))
        return who

    def name(self, who: Principal, typed: str) -> str:
        """Who the record names: the account, or (shared token only) the name typed into the page."""
        return typed if who.via == "legacy" else who.name

    def shown(self, who: Principal | None, lang: str, note: str = "") -> tuple:
        """The page for `who`: sign-in row or signed-in line, each tab only if the role opens its door, and a
        department account's orders fixed to its own department."""
        tabs = [gr.update(visible=allowed(who, door)) for door in TABS.values()]
        if who is None:
            disabled = not self.token and not accounts.any_account(self.assistant.sessions)
            return (False, note or (t("staff_disabled", lang) if disabled else ""), gr.update(visible=False),
                    gr.update(visible=True), "", gr.update(visible=False), *tabs, gr.skip(), gr.skip())
        role = t("staff_role_" + who.role, lang)
        line = "" if who.via == "legacy" else (
            f'<form method="post" action="/staff/logout" id="cd-signed-in">'
            f'{html.escape(t("signed_in_as", lang, name=who.name, role=role, department=who.department))} '
            f'<button type="submit" id="cd-sign-out">{html.escape(t("sign_out", lang))}</button></form>')
        legacy = who.via == "legacy"
        dept = gr.update(value=who.department, interactive=False) if who.role == "department" else gr.skip()
        return (legacy, note or (t("token_deprecated", lang) if legacy else ""), gr.update(visible=True),
                gr.update(visible=False), line, gr.update(visible=legacy), *tabs, dept,
                gr.update(visible=allowed(who, "orders.reassign")))

    def try_sign_in(self, value, request: gr.Request):
        """The deprecated shared token, typed into the page."""
        lang = browser_lang(request)
        if self.limiter.allow("staff-login:" + (request.client.host if request.client else "")):
            return self.shown(None, lang, t("staff_too_fast", lang))
        ok = bool(value) and bool(self.token) and secrets.compare_digest(value.encode(), self.token.encode())
        if not ok:
            audit.record(self.assistant.sessions, actor="staff-token", action="sign_in_failed",
                         client=request.client.host if request.client else "")
            return self.shown(None, lang, t("staff_bad_token", lang))
        return self.shown(LEGACY_ADMIN, lang)

    def from_link(self, signed_in, request: gr.Request):
        """On opening the page: the session cookie, else a shared token given once as `?token=`."""
        lang, value = browser_lang(request), request.query_params.get("token", "")
        who = self.principal(signed_in, request)
        if who is None and value:
            return self.try_sign_in(value, request)
        return self.shown(who, lang)

    def quiet(self, signed_in, request: gr.Request, door: str) -> Principal | None:
        """For the refreshes that run after signing in: the staff member if the role opens `door`, else None."""
        who = self.principal(signed_in, request)
        return who if allowed(who, door) else None

    def show_files(self, signed_in, query, request: gr.Request):
        if not self.quiet(signed_in, request, "guides"):
            return gr.skip(), gr.skip()
        return files_table(self.assistant, browser_lang(request), query or ""), gr.update(choices=guides.domains(self.assistant))

    def show_tickets(self, signed_in, request: gr.Request):
        if not self.quiet(signed_in, request, "tickets"):
            return gr.skip(), gr.skip()
        items = staff.tickets(self.assistant)
        return (tickets_table(items, browser_lang(request), self.assistant.settings.timezone),
                gr.update(choices=[i["number"] for i in items]))

    def show_orders(self, signed_in, department, state, request: gr.Request):
        who = self.quiet(signed_in, request, "orders")
        if not who:
            return gr.skip(), gr.skip()
        states = {"open": workorders.OPEN_STATES, "all": workorders.STATES}.get(state, (state,))
        items = workorders.list_orders(self.assistant, department=order_department(who, department or ""),
                                       states=states)
        return orders_html(items, browser_lang(request)), gr.update(choices=[i["number"] for i in items])

    def order_act(self, action: str):
        def run(signed_in, number, name, department, text, request: gr.Request):
            who = self.require(signed_in, request, "orders.reassign" if action == "reassign" else "orders")
            args = {"reassign": (department or "",), "reply": (text or "",)}.get(action, ())
            scope = {"scope": who.department} if who.role == "department" else {}
            try:
                done = getattr(workorders, action)(self.assistant, number or "", *args, self.name(who, name or ""),
                                                   **scope)
            except workorders.WorkOrderError as exc:
                return f"✗ {html.escape(str(exc))}"
            lang = browser_lang(request)
            return t("order_done", lang, number=done["number"], state=state_label(done["state"], lang))
        return run

    def show_order(self, signed_in, number, request: gr.Request):
        who = self.require(signed_in, request, "orders")
        found = workorders.find(self.assistant, number or "")
        if found is None or not sees_order(who, found.department):
            return ""
        lang, item = browser_lang(request), workorders.as_json(self.assistant, found)
        return t("order_details", lang, number=item["number"], district=item["district"],
                 kind=workorders.rules()["types"][item["kind"]]["label"][lang], address=html.escape(item["address"]),
                 since=html.escape(item["since"]), phone=item["phone"] or "-",
                 description=html.escape(item["description"]))

    def show_gaps(self, signed_in, request: gr.Request):
        if not self.quiet(signed_in, request, "gaps"):
            return gr.skip()
        return gaps_markdown(staff.gaps(self.assistant), browser_lang(request), self.assistant.settings.timezone)

    def run_reindex(self, lang: str, progress: gr.Progress, actor: str) -> str:
        progress(0, desc="indexing")
        try:
            report = guides.reindex(self.assistant, actor=actor,
                                    progress=lambda done, total: progress((done, total), desc="embedding"))
        except staff.StaffError as exc:
            return str(exc)
        progress(1.0)
        lines = [report_line(report, lang)]
        lines += [t("refused", lang, name=r["path"], reason=r["reason"]) for r in report.rejected]
        return "\n".join(f"- {html.escape(line)}" for line in lines)

    def do_upload(self, signed_in, paths, folder, request: gr.Request, progress=gr.Progress()):
        who = self.require(signed_in, request, "guides")
        lang, lines = browser_lang(request), []
        for path in paths or []:
            name = Path(path).name
            try:
                saved = guides.save_upload(self.assistant, filename=name, data=Path(path).read_bytes(),
                                           domain=(folder or "").strip(), actor=who.name)
                lines.append(f"- {html.escape(t('uploaded', lang, path=saved))}")
            except staff.StaffError as exc:
                lines.append(f"- {html.escape(t('refused', lang, name=name, reason=str(exc)))}")
        lines.append(self.run_reindex(lang, progress, who.name))
        return "\n".join(lines), None

    @staticmethod
    def pick_file(event: gr.SelectData) -> str:
        """The path of the guide whose row was clicked, for the chosen-guide box."""
        return str((event.row_value or [""])[0])

    def do_delete(self, signed_in, path, request: gr.Request, progress=gr.Progress()):
        return self._guide_action(signed_in, path, request, progress, lambda path, who: t(
            "deleted", browser_lang(request), path=path, kept=guides.delete_guide(self.assistant, path, actor=who)))

    def do_release(self, signed_in, path, request: gr.Request, progress=gr.Progress()):
        def release(path, who):
            guides.release_guide(self.assistant, path, actor=who)
            return t("released", browser_lang(request), path=path)
        return self._guide_action(signed_in, path, request, progress, release)

    def _guide_action(self, signed_in, path, request, progress, run) -> tuple[str, str]:
        """`run(path, who)` on the chosen guide, then re-index: the note, and the path box (emptied when done)."""
        who = self.require(signed_in, request, "guides")
        lang, path = browser_lang(request), (path or "").strip()
        try:
            note = f"- {html.escape(run(path, who.name))}"
        except staff.StaffError as exc:
            return f"- {html.escape(t('refused', lang, name=path, reason=str(exc)))}", path
        return note + "\n" + self.run_reindex(lang, progress, who.name), ""

    def do_reindex(self, signed_in, request: gr.Request, progress=gr.Progress()):
        who = self.require(signed_in, request, "guides")
        return self.run_reindex(browser_lang(request), progress, who.name)

    def act(self, action: str):
        def run(signed_in, ticket, name, request: gr.Request):
            who = self.require(signed_in, request, "tickets")
            lang = browser_lang(request)
            try:
                done = (staff.claim if action == "claim" else staff.close)(self.assistant, ticket or "",
                                                                           self.name(who, name or ""))
            except staff.StaffError as exc:
                return f"✗ {html.escape(str(exc))}"
            return t("ticket_done", lang, number=done["number"], status=done["status"])
        return run

    def show_transcript(self, signed_in, ticket, request: gr.Request):
        """A ticket's transcript: an agent reads only the tickets it claimed."""
        who = self.require(signed_in, request, "tickets")
        lang = browser_lang(request)
        found = next((i for i in staff.tickets(self.assistant, ("open", "claimed", "closed")) if i["number"] == ticket),
                     None)
        if found is None:
            return ""
        if not sees_transcript(who, found["claimed_by"]):
            return t("claim_to_read", lang)
        audit.record(self.assistant.sessions, actor=who.name, action="read_transcript", target=ticket)
        return "\n\n".join(f"**{t('role_' + m['role'], lang)}**: {html.escape(m['text'])}"
                           for m in found["transcript"])

    def show_audit(self, signed_in, actor, action, request: gr.Request):
        """The newest audit rows for the admin's filters, and the same rows as a CSV file to download."""
        if not self.quiet(signed_in, request, "audit"):
            return gr.skip(), gr.skip()
        rows = audit.entries(self.assistant.sessions, actor=(actor or "").strip(), action=action or "")
        when = lambda at: workorders.when(self.assistant, at)  # noqa: E731
        columns = t_list("audit_columns", browser_lang(request))
        table = {"headers": columns, "data": [[when(r["at"]), r["actor"], r["action"], r["target"], r["detail"],
                                               r["client"]] for r in rows] or [[""] * len(columns)]}
        # one file per page, rewritten at each refresh (Gradio serves a copy to this page only)
        page = re.sub(r"[^A-Za-z0-9]", "", request.session_hash or "")[:32] or "page"  # the browser chose it
        path = EXPORTS / f"citydesk-audit-{page}.csv"
        path.write_text(audit.as_csv(rows, when), encoding="utf-8-sig")
        return table, str(path)
