"""The actions behind the staff page's buttons: signing in, showing and acting on guides, tickets, work orders and gaps.

Every action but signing in checks the signed-in flag the page keeps in session state; labels follow
the browser language.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path

import gradio as gr

from assistant.services import staff
from assistant.services import workorders
from assistant.channels.staff_views import (files_table, gaps_markdown, orders_html, report_line, state_label, t,
                                            tickets_table)
from assistant.channels.web import browser_lang


def check(signed_in: bool) -> None:
    """Refuse an action of a page that has not signed in."""
    if not signed_in:
        raise gr.Error("sign in first / 请先登录")


class StaffActions:
    """The staff page's event handlers for one assistant, its staff token and its rate limiter."""

    def __init__(self, assistant, *, token: str, limiter) -> None:
        self.assistant = assistant
        self.token = token
        self.limiter = limiter

    def try_sign_in(self, value, request: gr.Request):
        lang = browser_lang(request)
        if self.limiter.allow("staff-login:" + (request.client.host if request.client else "")):
            return False, t("staff_too_fast", lang), gr.skip(), gr.skip()
        ok = bool(value) and secrets.compare_digest(value.encode(), self.token.encode())
        note = t("staff_signed_in", lang) if ok else t("staff_bad_token", lang)
        return ok, note, gr.update(visible=ok), gr.update(visible=not ok)

    def from_link(self, request: gr.Request):
        value = request.query_params.get("token", "")
        if not value:
            return False, "", gr.skip(), gr.skip()
        return self.try_sign_in(value, request)

    def show_files(self, signed_in, query, request: gr.Request):
        if not signed_in:
            return gr.skip(), gr.skip()
        return files_table(self.assistant, browser_lang(request), query), gr.update(choices=staff.domains(self.assistant))

    def show_tickets(self, signed_in, request: gr.Request):
        if not signed_in:
            return gr.skip(), gr.skip()
        items = staff.tickets(self.assistant)
        return (tickets_table(items, browser_lang(request), self.assistant.settings.timezone),
                gr.update(choices=[i["number"] for i in items]))

    def show_orders(self, signed_in, department, state, request: gr.Request):
        if not signed_in:
            return gr.skip(), gr.skip()
        states = {"open": workorders.OPEN_STATES, "all": workorders.STATES}.get(state, (state,))
        items = workorders.list_orders(self.assistant, department=department or "", states=states)
        return orders_html(items, browser_lang(request)), gr.update(choices=[i["number"] for i in items])

    def order_act(self, action: str):
        def run(signed_in, number, name, department, text, request: gr.Request):
            check(signed_in)
            args = {"reassign": (department or "",), "reply": (text or "",)}.get(action, ())
            try:
                done = getattr(workorders, action)(self.assistant, number or "", *args, name or "")
            except workorders.WorkOrderError as exc:
                return f"✗ {html.escape(str(exc))}"
            lang = browser_lang(request)
            return t("order_done", lang, number=done["number"], state=state_label(done["state"], lang))
        return run

    def show_order(self, signed_in, number, request: gr.Request):
        check(signed_in)
        found = workorders.find(self.assistant, number or "")
        if found is None:
            return ""
        lang, item = browser_lang(request), workorders.as_json(self.assistant, found)
        return t("order_details", lang, number=item["number"], district=item["district"],
                 kind=workorders.rules()["types"][item["kind"]]["label"][lang], address=html.escape(item["address"]),
                 since=html.escape(item["since"]), phone=item["phone"] or "-",
                 description=html.escape(item["description"]))

    def show_gaps(self, signed_in, request: gr.Request):
        return gaps_markdown(staff.gaps(self.assistant), browser_lang(request), self.assistant.settings.timezone) \
            if signed_in else gr.skip()

    def run_reindex(self, lang: str, progress: gr.Progress) -> str:
        progress(0, desc="indexing")
        try:
            report = staff.reindex(self.assistant,
                                   progress=lambda done, total: progress((done, total), desc="embedding"))
        except staff.StaffError as exc:
            return str(exc)
        progress(1.0)
        lines = [report_line(report, lang)]
        lines += [t("refused", lang, name=r["path"], reason=r["reason"]) for r in report.rejected]
        return "\n".join(f"- {html.escape(line)}" for line in lines)

    def do_upload(self, signed_in, paths, folder, request: gr.Request, progress=gr.Progress()):
        check(signed_in)
        lang, lines = browser_lang(request), []
        for path in paths or []:
            name = Path(path).name
            try:
                saved = staff.save_upload(self.assistant, filename=name, data=Path(path).read_bytes(),
                                          domain=(folder or "").strip())
                lines.append(f"- {html.escape(t('uploaded', lang, path=saved))}")
            except staff.StaffError as exc:
                lines.append(f"- {html.escape(t('refused', lang, name=name, reason=str(exc)))}")
        lines.append(self.run_reindex(lang, progress))
        return "\n".join(lines), None

    def do_reindex(self, signed_in, request: gr.Request, progress=gr.Progress()):
        check(signed_in)
        return self.run_reindex(browser_lang(request), progress)

    def act(self, action: str):
        def run(signed_in, ticket, name, request: gr.Request):
            check(signed_in)
            lang = browser_lang(request)
            try:
                done = (staff.claim if action == "claim" else staff.close)(self.assistant, ticket or "", name or "")
            except staff.StaffError as exc:
                return f"✗ {html.escape(str(exc))}"
            return t("ticket_done", lang, number=done["number"], status=done["status"])
        return run

    def show_transcript(self, signed_in, ticket, request: gr.Request):
        check(signed_in)
        lang = browser_lang(request)
        found = next((i for i in staff.tickets(self.assistant, ("open", "claimed", "closed")) if i["number"] == ticket),
                     None)
        if found is None:
            return ""
        return "\n\n".join(f"**{t('role_' + m['role'], lang)}**: {html.escape(m['text'])}"
                           for m in found["transcript"])
