"""The staff page (Gradio, at /staff): guides and the index, the hand-off queue, the questions to answer.

Protected by CITYDESK_STAFF_TOKEN, entered in the page or given once as `?token=`; without the
setting the page only says it is disabled. The signed-in flag lives in server-side session state,
every action checks it, and no action is exposed to API clients. Labels follow the browser language.
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from assistant.services import staff
from assistant.knowledge.load import SUPPORTED
from assistant.core.prompts import render
from assistant.channels.staff_actions import StaffActions
from assistant.channels.staff_views import department_choices, state_choices

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


def build_staff(assistant, *, token: str, limiter) -> gr.Blocks:
    """The staff page; a page that says it is disabled when `token` is empty."""
    with gr.Blocks(title="citydesk staff") as demo:
        with gr.Column(elem_id="cd-staff"):
            gr.Markdown(I18N("staff_title"))
            if not token:
                gr.Markdown(I18N("staff_disabled"), elem_id="cd-staff-disabled")
                return demo
            ui = _layout(assistant)
        _wire(demo, ui, StaffActions(assistant, token=token, limiter=limiter))
    return demo


def _layout(assistant) -> SimpleNamespace:
    """The sign-in row and, shown once signed in, the staff member's name and the page's four tabs."""
    i18n = I18N
    authed = gr.State(False)
    with gr.Row(equal_height=True) as login:
        given = gr.Textbox(label=i18n("staff_token"), type="password", elem_id="cd-token", scale=3)
        sign_in = gr.Button(i18n("staff_sign_in"), variant="primary", elem_id="cd-sign-in", scale=1)
    login_note = gr.Markdown(elem_id="cd-login-note")
    with gr.Column(visible=False, elem_id="cd-staff-main") as main:
        who = gr.Textbox(label=i18n("staff_name"), elem_id="cd-staff-name", max_lines=1)
        with gr.Tabs():
            tabs = {**_guides_tab(assistant), **_tickets_tab(), **_orders_tab(), **_gaps_tab()}
    return SimpleNamespace(authed=authed, login=login, given=given, sign_in=sign_in, login_note=login_note,
                           main=main, who=who, **tabs)


def _guides_tab(assistant) -> dict:
    """Uploading guides, re-indexing, and the guides the index knows."""
    i18n = I18N
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
    return dict(uploads=uploads, domain=domain, upload=upload, reindex=reindex, guides_note=guides_note,
                file_filter=file_filter, files=files)


def _tickets_tab() -> dict:
    """The hand-off queue: claiming and closing tickets, and a ticket's transcript."""
    i18n = I18N
    with gr.Tab(i18n("tab_tickets"), elem_id="cd-tab-tickets"):
        tickets_refresh = gr.Button(i18n("tickets_refresh"), size="sm")
        tickets = gr.Dataframe(interactive=False, wrap=True, elem_id="cd-tickets")
        with gr.Row(equal_height=True):
            number = gr.Dropdown([], label=i18n("ticket_number"), elem_id="cd-ticket", scale=2)
            claim = gr.Button(i18n("claim_button"), elem_id="cd-claim", scale=1)
            close = gr.Button(i18n("close_button"), elem_id="cd-close", scale=1)
        tickets_note = gr.Markdown(elem_id="cd-tickets-note")
        transcript = gr.Markdown(label=i18n("transcript"), elem_id="cd-transcript")
    return dict(tickets_refresh=tickets_refresh, tickets=tickets, number=number, claim=claim, close=close,
                tickets_note=tickets_note, transcript=transcript)


def _orders_tab() -> dict:
    """The work orders: listing them by department and state, and reassigning, starting, answering, closing one."""
    i18n = I18N
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
    return dict(order_dept=order_dept, order_state=order_state, orders_refresh=orders_refresh, orders=orders,
                order=order, target=target, reassign=reassign, start=start, order_details=order_details,
                answer=answer, reply=reply, close_order=close_order, orders_note=orders_note)


def _gaps_tab() -> dict:
    """The questions the guides could not answer."""
    i18n = I18N
    with gr.Tab(i18n("tab_gaps"), elem_id="cd-tab-gaps"):
        gr.Markdown(i18n("gaps_intro"))
        gaps_refresh = gr.Button(i18n("gaps_refresh"), size="sm")
        gaps = gr.Markdown(elem_id="cd-gaps")
    return dict(gaps_refresh=gaps_refresh, gaps=gaps)


def _wire(demo: gr.Blocks, ui: SimpleNamespace, actions: StaffActions) -> None:
    """The page's events, in the order the page has always registered them; none is exposed to API clients."""
    sign_in_outputs = [ui.authed, ui.login_note, ui.main, ui.login]
    signed = ui.sign_in.click(actions.try_sign_in, ui.given, sign_in_outputs, **PRIVATE)
    loaded = demo.load(actions.from_link, None, sign_in_outputs, **PRIVATE)
    for event in (signed, loaded):
        event.then(actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE).then(
            actions.show_tickets, ui.authed, [ui.tickets, ui.number], **PRIVATE).then(
            actions.show_gaps, ui.authed, ui.gaps, **PRIVATE).then(
            actions.show_orders, [ui.authed, ui.order_dept, ui.order_state], [ui.orders, ui.order], **PRIVATE)
    ui.upload.click(actions.do_upload, [ui.authed, ui.uploads, ui.domain], [ui.guides_note, ui.uploads], **PRIVATE).then(
        actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
    ui.reindex.click(actions.do_reindex, ui.authed, ui.guides_note, **PRIVATE).then(
        actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
    ui.file_filter.change(actions.show_files, [ui.authed, ui.file_filter], [ui.files, ui.domain], **PRIVATE)
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
