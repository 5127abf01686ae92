"""The staff page (Gradio, at /staff): guides and the index, the hand-off queue, the questions to answer.

Protected by CITYDESK_STAFF_TOKEN, entered in the page or given once as `?token=`; without the
setting the page only says it is disabled. The signed-in flag lives in server-side session state,
every action checks it, and no action is exposed to API clients. Labels follow the browser language.
"""

from __future__ import annotations

import html
import re
import secrets
from functools import lru_cache
from pathlib import Path

import gradio as gr
import yaml

from assistant.services import staff

from assistant.services import workorders
from assistant.core.dates import local_minute
from assistant.knowledge.load import SUPPORTED
from assistant.core.prompts import PROMPTS_DIR, render
from assistant.channels.web import browser_lang

LABELS = ("staff_title", "staff_token", "staff_sign_in", "staff_name", "tab_guides", "tab_tickets", "tab_gaps",
          "upload_files", "upload_domain", "upload_button", "reindex_button", "tickets_refresh", "ticket_number",
          "claim_button", "close_button", "transcript", "gaps_refresh", "gaps_intro", "staff_disabled", "tab_orders",
          "orders_department", "orders_state", "orders_refresh", "order_number", "order_target", "order_reassign",
          "order_start", "order_reply_text", "order_reply", "order_close", "files_filter")
I18N = gr.I18n(**{lang: {key: render(key, lang, file="web") for key in LABELS} for lang in ("zh", "en")})
STAFF_CSS = """
#cd-staff { max-width: 1100px; margin: 0 auto; }
#cd-staff button { min-height: 44px; }
#cd-orders table { width: 100%; border-collapse: collapse; }
#cd-orders td, #cd-orders th { padding: 4px 8px; border-bottom: 1px solid #ddd; text-align: left; }
#cd-orders tr.cd-overdue td { background: #fde2e1; color: #8a1c1c; font-weight: 600; }
"""
PRIVATE = {"api_visibility": "private"}


def t(key: str, lang: str, **values) -> str:
    return render(key, lang, file="web", **values)


@lru_cache(maxsize=1)
def _rejection_rules() -> list[tuple[re.Pattern, str]]:
    rules = yaml.safe_load((PROMPTS_DIR / "rejections.yaml").read_text(encoding="utf-8"))
    return [(re.compile(r["match"]), r["zh"]) for r in rules.values()]


def reason_text(reason: str, lang: str) -> str:
    """Why a guide was rejected, in the page's language (prompts/rejections.yaml for Chinese)."""
    if lang != "zh" or not reason:
        return reason
    for pattern, zh in _rejection_rules():
        found = pattern.match(reason)
        if found:
            return zh.format(**found.groupdict())
    return reason


def files_table(assistant, lang: str, query: str = "") -> dict:
    """The guides the index knows, last changed first, those matching `query` (path, title, status)."""
    tz, wanted = assistant.settings.timezone, query.strip().lower()
    rows = []
    for f in sorted(staff.files(assistant), key=lambda f: -(f["indexed_at"] or 0.0)):
        status = t(f"file_status_{f['status']}", lang)
        if wanted and wanted not in f"{f['path']} {f['title']} {status} {f['status']}".lower():
            continue
        rows.append([f["path"], status, reason_text(f["reason"], lang), f["title"], f["chunks"],
                     local_minute(f["indexed_at"] or 0.0, tz)])
    return {"headers": t("files_columns", lang).split("|"), "data": rows or [[""] * 6]}


def tickets_table(items: list[dict], lang: str, timezone: str) -> dict:
    rows = [[i["number"], t(f"ticket_status_{i['status']}", lang), i["claimed_by"],
             t(f"ticket_reason_{i['reason']}", lang), local_minute(i["created"], timezone)] for i in items]
    return {"headers": t("tickets_columns", lang).split("|"), "data": rows or [["", "", "", "", ""]]}


def gaps_markdown(groups: dict, lang: str, timezone: str) -> str:
    if not groups:
        return t("gaps_none", lang)
    out = []
    for domain, entries in groups.items():
        name = t("gaps_out_of_scope", lang) if domain == staff.OUT_OF_SCOPE else domain
        out.append(f"### {html.escape(name)} ({sum(e['count'] for e in entries)})")
        for e in entries:
            notes = "".join(f"<br>　“{html.escape(c)}”" for c in e["comments"][:3])
            out.append(f"- **{e['count']}×** {html.escape(e['question'])} "
                       f"<small>({t('gap_' + e['kind'], lang)}, {local_minute(e['last'], timezone)})</small>{notes}")
    return "\n".join(out)


def state_label(state: str, lang: str) -> str:
    return render("state_now_dispatched" if state == "dispatched" else f"state_{state}", lang, file="report_issue")


def orders_html(items: list[dict], lang: str) -> str:
    """The work-order list as a table; overdue orders are marked in words and in colour."""
    if not items:
        return f"<p>{html.escape(t('orders_none', lang))}</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t("orders_columns", lang).split("|"))
    rows = []
    for i in items:
        late = f" ⚠ {t('order_overdue', lang)}" if i["overdue"] else ""
        cells = [i["number"], state_label(i["state"], lang), workorders.department_name(i["department"], lang),
                 workorders.rules()["types"][i["kind"]]["label"][lang], i["district"], i["created_text"],
                 i["due_text"] + late]
        rows.append(f'<tr class="{"cd-overdue" if i["overdue"] else ""}">'
                    + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def department_choices(lang: str, everything: bool = False) -> list[tuple[str, str]]:
    choices = [(d["name"][lang], d["id"]) for d in workorders.departments().values()]
    return [(t("orders_all_departments", lang), "")] + choices if everything else choices


def state_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("orders_open", lang), "open"), *((state_label(s, lang), s) for s in workorders.STATES), (t("orders_all", lang), "all")]


def report_line(report, lang: str) -> str:
    return t("reindexed", lang, indexed=len(report.indexed), removed=len(report.removed),
             unchanged=len(report.unchanged), rejected=len(report.rejected), chunks=report.chunks,
             seconds=f"{report.seconds:.1f}")


def build_staff(assistant, *, token: str, limiter) -> gr.Blocks:
    """The staff page; a page that says it is disabled when `token` is empty."""
    i18n = I18N
    with gr.Blocks(title="citydesk staff") as demo:
        with gr.Column(elem_id="cd-staff"):
            gr.Markdown(i18n("staff_title"))
            if not token:
                gr.Markdown(i18n("staff_disabled"), elem_id="cd-staff-disabled")
                return demo
            authed = gr.State(False)
            with gr.Row(equal_height=True) as login:
                given = gr.Textbox(label=i18n("staff_token"), type="password", elem_id="cd-token", scale=3)
                sign_in = gr.Button(i18n("staff_sign_in"), variant="primary", elem_id="cd-sign-in", scale=1)
            login_note = gr.Markdown(elem_id="cd-login-note")
            with gr.Column(visible=False, elem_id="cd-staff-main") as main:
                who = gr.Textbox(label=i18n("staff_name"), elem_id="cd-staff-name", max_lines=1)
                with gr.Tabs():
                    with gr.Tab(i18n("tab_guides"), elem_id="cd-tab-guides"):
                        with gr.Row():
                            uploads = gr.File(label=i18n("upload_files"), file_count="multiple",
                                              file_types=list(SUPPORTED), elem_id="cd-upload", scale=2)
                            with gr.Column(scale=1):
                                domain = gr.Dropdown(staff.domains(assistant), label=i18n("upload_domain"),
                                                     allow_custom_value=True, elem_id="cd-domain")
                                upload = gr.Button(i18n("upload_button"), variant="primary", elem_id="cd-upload-btn")
                                reindex = gr.Button(i18n("reindex_button"), elem_id="cd-reindex")
                        guides_note = gr.Markdown(elem_id="cd-guides-note")
                        file_filter = gr.Textbox(label=i18n("files_filter"), max_lines=1, elem_id="cd-files-filter")
                        files = gr.Dataframe(interactive=False, wrap=True, elem_id="cd-files",
                                             column_widths=["24%", "8%", "32%", "22%", "6%", "8%"])
                    with gr.Tab(i18n("tab_tickets"), elem_id="cd-tab-tickets"):
                        tickets_refresh = gr.Button(i18n("tickets_refresh"), size="sm")
                        tickets = gr.Dataframe(interactive=False, wrap=True, elem_id="cd-tickets")
                        with gr.Row(equal_height=True):
                            number = gr.Dropdown([], label=i18n("ticket_number"), elem_id="cd-ticket", scale=2)
                            claim = gr.Button(i18n("claim_button"), elem_id="cd-claim", scale=1)
                            close = gr.Button(i18n("close_button"), elem_id="cd-close", scale=1)
                        tickets_note = gr.Markdown(elem_id="cd-tickets-note")
                        transcript = gr.Markdown(label=i18n("transcript"), elem_id="cd-transcript")
                    with gr.Tab(i18n("tab_orders"), elem_id="cd-tab-orders"):
                        with gr.Row(equal_height=True):
                            order_dept = gr.Dropdown(department_choices("zh", True), value="", scale=2,
                                                     label=i18n("orders_department"), elem_id="cd-order-dept")
                            order_state = gr.Dropdown(state_choices("zh"), value="open", label=i18n("orders_state"),
                                                      elem_id="cd-order-state", scale=1)
                            orders_refresh = gr.Button(i18n("orders_refresh"), size="sm", scale=1)
                        orders = gr.HTML(elem_id="cd-orders")
                        with gr.Row(equal_height=True):
                            order = gr.Dropdown([], label=i18n("order_number"), elem_id="cd-order", scale=2,
                                                allow_custom_value=True)
                            target = gr.Dropdown(department_choices("zh"), label=i18n("order_target"),
                                                 elem_id="cd-order-target", scale=2)
                            reassign = gr.Button(i18n("order_reassign"), elem_id="cd-reassign", scale=1)
                            start = gr.Button(i18n("order_start"), elem_id="cd-start", scale=1)
                        order_details = gr.Markdown(elem_id="cd-order-details")
                        answer = gr.Textbox(label=i18n("order_reply_text"), lines=3, elem_id="cd-order-reply")
                        with gr.Row():
                            reply = gr.Button(i18n("order_reply"), variant="primary", elem_id="cd-reply")
                            close_order = gr.Button(i18n("order_close"), elem_id="cd-close-order")
                        orders_note = gr.Markdown(elem_id="cd-orders-note")
                    with gr.Tab(i18n("tab_gaps"), elem_id="cd-tab-gaps"):
                        gr.Markdown(i18n("gaps_intro"))
                        gaps_refresh = gr.Button(i18n("gaps_refresh"), size="sm")
                        gaps = gr.Markdown(elem_id="cd-gaps")

        def check(signed_in: bool) -> None:
            if not signed_in:
                raise gr.Error("sign in first / 请先登录")

        def try_sign_in(value, request: gr.Request):
            lang = browser_lang(request)
            if limiter.allow("staff-login:" + (request.client.host if request.client else "")):
                return False, t("staff_too_fast", lang), gr.skip(), gr.skip()
            ok = bool(value) and secrets.compare_digest(value.encode(), token.encode())
            note = t("staff_signed_in", lang) if ok else t("staff_bad_token", lang)
            return ok, note, gr.update(visible=ok), gr.update(visible=not ok)

        def from_link(request: gr.Request):
            value = request.query_params.get("token", "")
            if not value:
                return False, "", gr.skip(), gr.skip()
            return try_sign_in(value, request)

        def show_files(signed_in, query, request: gr.Request):
            if not signed_in:
                return gr.skip(), gr.skip()
            return files_table(assistant, browser_lang(request), query), gr.update(choices=staff.domains(assistant))

        def show_tickets(signed_in, request: gr.Request):
            if not signed_in:
                return gr.skip(), gr.skip()
            items = staff.tickets(assistant)
            return (tickets_table(items, browser_lang(request), assistant.settings.timezone),
                    gr.update(choices=[i["number"] for i in items]))

        def show_orders(signed_in, department, state, request: gr.Request):
            if not signed_in:
                return gr.skip(), gr.skip()
            states = {"open": workorders.OPEN_STATES, "all": workorders.STATES}.get(state, (state,))
            items = workorders.list_orders(assistant, department=department or "", states=states)
            return orders_html(items, browser_lang(request)), gr.update(choices=[i["number"] for i in items])

        def order_act(action: str):
            def run(signed_in, number, name, department, text, request: gr.Request):
                check(signed_in)
                args = {"reassign": (department or "",), "reply": (text or "",)}.get(action, ())
                try:
                    done = getattr(workorders, action)(assistant, number or "", *args, name or "")
                except workorders.WorkOrderError as exc:
                    return f"✗ {html.escape(str(exc))}"
                lang = browser_lang(request)
                return t("order_done", lang, number=done["number"], state=state_label(done["state"], lang))
            return run

        def show_order(signed_in, number, request: gr.Request):
            check(signed_in)
            found = workorders.find(assistant, number or "")
            if found is None:
                return ""
            lang, item = browser_lang(request), workorders.as_json(assistant, found)
            return t("order_details", lang, number=item["number"], district=item["district"],
                     kind=workorders.rules()["types"][item["kind"]]["label"][lang], address=html.escape(item["address"]),
                     since=html.escape(item["since"]), phone=item["phone"] or "-",
                     description=html.escape(item["description"]))

        def show_gaps(signed_in, request: gr.Request):
            return gaps_markdown(staff.gaps(assistant), browser_lang(request), assistant.settings.timezone) \
                if signed_in else gr.skip()

        def run_reindex(lang: str, progress: gr.Progress) -> str:
            progress(0, desc="indexing")
            try:
                report = staff.reindex(assistant, progress=lambda done, total: progress((done, total), desc="embedding"))
            except staff.StaffError as exc:
                return str(exc)
            progress(1.0)
            lines = [report_line(report, lang)]
            lines += [t("refused", lang, name=r["path"], reason=r["reason"]) for r in report.rejected]
            return "\n".join(f"- {html.escape(line)}" for line in lines)

        def do_upload(signed_in, paths, folder, request: gr.Request, progress=gr.Progress()):
            check(signed_in)
            lang, lines = browser_lang(request), []
            for path in paths or []:
                name = Path(path).name
                try:
                    saved = staff.save_upload(assistant, filename=name, data=Path(path).read_bytes(),
                                              domain=(folder or "").strip())
                    lines.append(f"- {html.escape(t('uploaded', lang, path=saved))}")
                except staff.StaffError as exc:
                    lines.append(f"- {html.escape(t('refused', lang, name=name, reason=str(exc)))}")
            lines.append(run_reindex(lang, progress))
            return "\n".join(lines), None

        def do_reindex(signed_in, request: gr.Request, progress=gr.Progress()):
            check(signed_in)
            return run_reindex(browser_lang(request), progress)

        def act(action: str):
            def run(signed_in, ticket, name, request: gr.Request):
                check(signed_in)
                lang = browser_lang(request)
                try:
                    done = (staff.claim if action == "claim" else staff.close)(assistant, ticket or "", name or "")
                except staff.StaffError as exc:
                    return f"✗ {html.escape(str(exc))}"
                return t("ticket_done", lang, number=done["number"], status=done["status"])
            return run

        def show_transcript(signed_in, ticket, request: gr.Request):
            check(signed_in)
            lang = browser_lang(request)
            found = next((i for i in staff.tickets(assistant, ("open", "claimed", "closed")) if i["number"] == ticket), None)
            if found is None:
                return ""
            return "\n\n".join(f"**{t('role_' + m['role'], lang)}**: {html.escape(m['text'])}"
                               for m in found["transcript"])

        signed = sign_in.click(try_sign_in, given, [authed, login_note, main, login], **PRIVATE)
        loaded = demo.load(from_link, None, [authed, login_note, main, login], **PRIVATE)
        for event in (signed, loaded):
            event.then(show_files, [authed, file_filter], [files, domain], **PRIVATE).then(
                show_tickets, authed, [tickets, number], **PRIVATE).then(show_gaps, authed, gaps, **PRIVATE).then(
                show_orders, [authed, order_dept, order_state], [orders, order], **PRIVATE)
        upload.click(do_upload, [authed, uploads, domain], [guides_note, uploads], **PRIVATE).then(
            show_files, [authed, file_filter], [files, domain], **PRIVATE)
        reindex.click(do_reindex, authed, guides_note, **PRIVATE).then(
            show_files, [authed, file_filter], [files, domain], **PRIVATE)
        file_filter.change(show_files, [authed, file_filter], [files, domain], **PRIVATE)
        tickets_refresh.click(show_tickets, authed, [tickets, number], **PRIVATE)
        number.change(show_transcript, [authed, number], transcript, **PRIVATE)
        for button, action in ((claim, "claim"), (close, "close")):
            button.click(act(action), [authed, number, who], tickets_note, **PRIVATE).then(
                show_tickets, authed, [tickets, number], **PRIVATE)
        gaps_refresh.click(show_gaps, authed, gaps, **PRIVATE)
        listing = [authed, order_dept, order_state]
        for trigger in (orders_refresh.click, order_dept.change, order_state.change):
            trigger(show_orders, listing, [orders, order], **PRIVATE)
        order.change(show_order, [authed, order], order_details, **PRIVATE)
        for button, action in ((reassign, "reassign"), (start, "start"), (reply, "reply"), (close_order, "close")):
            button.click(order_act(action), [authed, order, who, target, answer], orders_note, **PRIVATE).then(
                show_orders, listing, [orders, order], **PRIVATE)
    return demo
