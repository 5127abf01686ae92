"""The staff page (Gradio, at /staff): guides and the index, the hand-off queue, work orders, the questions to
answer, the dashboard and the audit log, each tab shown to the roles that may use it.

Staff sign in with their account at /staff/login (a session cookie, channels/staff_login.py); the deprecated
shared CITYDESK_STAFF_TOKEN can still be typed in or given once as `?token=`. Every action finds the staff
member again and checks the role on the server (staff_actions.py); no action is exposed to API clients.
Labels follow the browser language.
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from assistant.services import audit, guides
from assistant.services.access import TABS
from assistant.knowledge.load import SUPPORTED
from assistant.core.prompts import render
from assistant.channels import staff_dashboard
from assistant.channels.staff_actions import StaffActions
from assistant.channels.staff_views import department_choices, state_choices

LABELS = ("staff_title", "staff_token", "staff_sign_in", "staff_name", "tab_guides", "tab_tickets", "tab_gaps",
          "upload_files", "upload_domain", "upload_button", "reindex_button", "tickets_refresh", "ticket_number",
          "claim_button", "close_button", "transcript", "gaps_refresh", "gaps_intro", "staff_disabled", "tab_orders",
          "orders_department", "orders_state", "orders_refresh", "order_number", "order_target", "order_reassign",
          "order_start", "order_reply_text", "order_reply", "order_close", "files_filter", "guide_path",
          "delete_button", "release_button", "sign_in_link", "tab_audit", "audit_actor", "audit_action",
          "audit_refresh", "audit_export")
I18N = gr.I18n(**{lang: {**{key: render(key, lang, file="web") for key in LABELS}, **staff_dashboard.labels(lang)}
                   for lang in ("zh", "en")})
STAFF_CSS = """
#cd-staff { max-width: 1100px; margin: 0 auto; }
#cd-staff button { min-height: 44px; }
#cd-orders table { width: 100%; border-collapse: collapse; }
#cd-orders td, #cd-orders th { padding: 4px 8px; border-bottom: 1px solid #ddd; text-align: left; }
#cd-orders tr.cd-overdue td { background: #fde2e1; color: #8a1c1c; font-weight: 600; }
"""
PRIVATE = {"api_visibility": "private"}


def build_staff(assistant, *, token: str, limiter) -> gr.Blocks:
    """The staff page; the shared-token row only when the deprecated `token` is set."""
    with gr.Blocks(title="citydesk staff") as demo:
        with gr.Column(elem_id="cd-staff"):
            gr.Markdown(I18N("staff_title"))
            ui = _layout(assistant, token)
        _wire(demo, ui, StaffActions(assistant, token=token, limiter=limiter))
    return demo


def _layout(assistant, token: str) -> SimpleNamespace:
    """The sign-in row and, shown once signed in, who is signed in and the tabs the role may use."""
    i18n = I18N
    authed = gr.State(False)  # True only after the shared token: accounts are found again from their cookie
    with gr.Row(equal_height=True) as login:
        gr.Button(i18n("sign_in_link"), link="/staff/login", variant="primary", elem_id="cd-sign-in-link", scale=1)
        given = gr.Textbox(label=i18n("staff_token"), type="password", elem_id="cd-token", scale=2, visible=bool(token))
        sign_in = gr.Button(i18n("staff_sign_in"), elem_id="cd-sign-in", scale=1, visible=bool(token))
    login_note = gr.Markdown(elem_id="cd-login-note")
    with gr.Column(visible=False, elem_id="cd-staff-main") as main:
        signed = gr.HTML(elem_id="cd-signed-in-line")
        who = gr.Textbox(label=i18n("staff_name"), elem_id="cd-staff-name", max_lines=1, visible=False)
        with gr.Tabs():
            tabs = {**_guides_tab(assistant), **_tickets_tab(), **_orders_tab(), **_gaps_tab(),
                    **staff_dashboard.dashboard_tab(assistant, I18N, visible=False), **_audit_tab()}
    return SimpleNamespace(authed=authed, login=login, given=given, sign_in=sign_in, login_note=login_note,
                           main=main, signed=signed, who=who, **tabs)


def _guides_tab(assistant) -> dict:
    """Uploading guides, re-indexing, and the guides the index knows."""
    i18n = I18N
    with gr.Tab(i18n("tab_guides"), elem_id="cd-tab-guides", visible=False) as tab_guides:
        with gr.Row():
            uploads = gr.File(label=i18n("upload_files"), file_count="multiple",
                              file_types=list(SUPPORTED), elem_id="cd-upload", scale=2)
            with gr.Column(scale=1):
                domain = gr.Dropdown(guides.domains(assistant), label=i18n("upload_domain"),
                                     allow_custom_value=True, elem_id="cd-domain")
                upload = gr.Button(i18n("upload_button"), variant="primary", elem_id="cd-upload-btn")
                reindex = gr.Button(i18n("reindex_button"), elem_id="cd-reindex")
        guides_note = gr.Markdown(elem_id="cd-guides-note")
        file_filter = gr.Textbox(label=i18n("files_filter"), max_lines=1, elem_id="cd-files-filter")
        files = gr.Dataframe(interactive=False, wrap=True, elem_id="cd-files",
                             column_widths=["24%", "8%", "32%", "22%", "6%", "8%"])
        with gr.Row(equal_height=True):
            guide_path = gr.Textbox(label=i18n("guide_path"), max_lines=1, elem_id="cd-guide-path", scale=3)
            release = gr.Button(i18n("release_button"), elem_id="cd-release", scale=1)
            delete = gr.Button(i18n("delete_button"), variant="stop", elem_id="cd-delete", scale=1)
    return dict(tab_guides=tab_guides, uploads=uploads, domain=domain, upload=upload, reindex=reindex, guides_note=guides_note,
                file_filter=file_filter, files=files, guide_path=guide_path, delete=delete,
                release=release)


def _tickets_tab() -> dict:
    """The hand-off queue: claiming and closing tickets, and a ticket's transcript."""
    i18n = I18N
    with gr.Tab(i18n("tab_tickets"), elem_id="cd-tab-tickets", visible=False) as tab_tickets:
        tickets_refresh = gr.Button(i18n("tickets_refresh"), size="sm")
        tickets = gr.Dataframe(interactive=False, wrap=True, elem_id="cd-tickets")
        with gr.Row(equal_height=True):
            number = gr.Dropdown([], label=i18n("ticket_number"), elem_id="cd-ticket", scale=2)
            claim = gr.Button(i18n("claim_button"), elem_id="cd-claim", scale=1)
            close = gr.Button(i18n("close_button"), elem_id="cd-close", scale=1)
        tickets_note = gr.Markdown(elem_id="cd-tickets-note")
        transcript = gr.Markdown(label=i18n("transcript"), elem_id="cd-transcript")
    return dict(tab_tickets=tab_tickets, tickets_refresh=tickets_refresh, tickets=tickets, number=number, claim=claim, close=close,
                tickets_note=tickets_note, transcript=transcript)


def _orders_tab() -> dict:
    """The work orders: listing them by department and state, and reassigning, starting, answering, closing one."""
    i18n = I18N
    with gr.Tab(i18n("tab_orders"), elem_id="cd-tab-orders", visible=False) as tab_orders:
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
    return dict(tab_orders=tab_orders, order_dept=order_dept, order_state=order_state, orders_refresh=orders_refresh, orders=orders,
                order=order, target=target, reassign=reassign, start=start, order_details=order_details,
                answer=answer, reply=reply, close_order=close_order, orders_note=orders_note)


def _gaps_tab() -> dict:
    """The questions the guides could not answer."""
    i18n = I18N
    with gr.Tab(i18n("tab_gaps"), elem_id="cd-tab-gaps", visible=False) as tab_gaps:
        gr.Markdown(i18n("gaps_intro"))
        gaps_refresh = gr.Button(i18n("gaps_refresh"), size="sm")
        gaps = gr.Markdown(elem_id="cd-gaps")
    return dict(tab_gaps=tab_gaps, gaps_refresh=gaps_refresh, gaps=gaps)


def _audit_tab() -> dict:
    """The audit log, for admins: filters, the newest rows, and the rows as CSV."""
    i18n = I18N
    with gr.Tab(i18n("tab_audit"), elem_id="cd-tab-audit", visible=False) as tab_audit:
        with gr.Row(equal_height=True):
            audit_actor = gr.Textbox(label=i18n("audit_actor"), max_lines=1, elem_id="cd-audit-actor", scale=2)
            audit_action = gr.Dropdown(["", *audit.ACTIONS], value="", label=i18n("audit_action"),
                                       elem_id="cd-audit-action", scale=2)
            audit_refresh = gr.Button(i18n("audit_refresh"), elem_id="cd-audit-refresh", scale=1)
        audit_rows = gr.Dataframe(interactive=False, wrap=True, elem_id="cd-audit")
        audit_csv = gr.File(label=i18n("audit_export"), elem_id="cd-audit-csv", interactive=False)
    return dict(tab_audit=tab_audit, audit_actor=audit_actor, audit_action=audit_action, audit_refresh=audit_refresh,
                audit_rows=audit_rows, audit_csv=audit_csv)


def _wire(demo: gr.Blocks, ui: SimpleNamespace, actions: StaffActions) -> None:
    """The page's events, in the order the page has always registered them; none is exposed to API clients."""
    tabs = [getattr(ui, f"tab_{name}") for name in TABS]
    sign_in_outputs = [ui.authed, ui.login_note, ui.main, ui.login, ui.signed, ui.who, *tabs, ui.order_dept,
                       ui.reassign]
    signed = ui.sign_in.click(actions.try_sign_in, ui.given, sign_in_outputs, **PRIVATE)
    loaded = demo.load(actions.from_link, ui.authed, sign_in_outputs, **PRIVATE)
    for event in (signed, loaded):
        event.then(actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE).then(
            actions.show_tickets, ui.authed, [ui.tickets, ui.number], **PRIVATE).then(
            actions.show_gaps, ui.authed, ui.gaps, **PRIVATE).then(
            actions.show_orders, [ui.authed, ui.order_dept, ui.order_state], [ui.orders, ui.order], **PRIVATE).then(
            actions.show_audit, [ui.authed, ui.audit_actor, ui.audit_action], [ui.audit_rows, ui.audit_csv], **PRIVATE)
    ui.upload.click(actions.do_upload, [ui.authed, ui.uploads, ui.domain], [ui.guides_note, ui.uploads], **PRIVATE).then(
        actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
    ui.reindex.click(actions.do_reindex, ui.authed, ui.guides_note, **PRIVATE).then(
        actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
    ui.file_filter.change(actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
    ui.files.select(actions.pick_file, None, ui.guide_path, **PRIVATE)
    for button, run in ((ui.delete, actions.do_delete), (ui.release, actions.do_release)):
        button.click(run, [ui.authed, ui.guide_path], [ui.guides_note, ui.guide_path], **PRIVATE).then(
            actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
    ui.tickets_refresh.click(actions.show_tickets, ui.authed, [ui.tickets, ui.number], **PRIVATE)
    ui.number.change(actions.show_transcript, [ui.authed, ui.number], ui.transcript, **PRIVATE)
    for button, action in ((ui.claim, "claim"), (ui.close, "close")):
        button.click(actions.act(action), [ui.authed, ui.number, ui.who], ui.tickets_note, **PRIVATE).then(
            actions.show_tickets, ui.authed, [ui.tickets, ui.number], **PRIVATE)
    ui.gaps_refresh.click(actions.show_gaps, ui.authed, ui.gaps, **PRIVATE)
    listing = [ui.authed, ui.order_dept, ui.order_state]
    for trigger in (ui.orders_refresh.click, ui.order_dept.change, ui.order_state.change):
        trigger(actions.show_orders, listing, [ui.orders, ui.order], **PRIVATE)
    ui.order.change(actions.show_order, [ui.authed, ui.order], ui.order_details, **PRIVATE)
    order_buttons = ((ui.reassign, "reassign"), (ui.start, "start"), (ui.reply, "reply"), (ui.close_order, "close"))
    for button, action in order_buttons:
        button.click(actions.order_act(action), [ui.authed, ui.order, ui.who, ui.target, ui.answer], ui.orders_note,
                     **PRIVATE).then(actions.show_orders, listing, [ui.orders, ui.order], **PRIVATE)
    for trigger in (ui.audit_refresh.click, ui.audit_action.change, ui.audit_actor.submit):
        trigger(actions.show_audit, [ui.authed, ui.audit_actor, ui.audit_action], [ui.audit_rows, ui.audit_csv],
                **PRIVATE)
    staff_dashboard.wire_dashboard(actions.assistant, ui, authed=ui.authed,
                                   allowed=lambda signed_in, request: bool(actions.quiet(signed_in, request, "dashboard")))
