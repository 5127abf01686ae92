"""A work order's progress as a citizen is shown it: who may see it, its state and history, and the
open orders filed with one phone. The texts are in prompts/report_issue.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.prompts import render
from assistant.safety.guardrails import phone_digits
from assistant.services import workorders
from assistant.services.db import WorkOrder


@dataclass(frozen=True)
class Lookup:
    """The answer to a status question: a text that either asks for a detail (`asks_for`: "order_number"
    or "order_phone") or ends the look-up with `status` ("answered", or "refused" for an order not shown)."""

    text: str
    number: str = ""
    asks_for: str = ""
    status: str = "answered"


def _t(key: str, lang: str, **values) -> str:
    return render(key, lang, file="report_issue", **values)


def kind_label(kind: str, lang: str) -> str:
    """The name of a request type ("complaint" -> "投诉") in `lang`."""
    return workorders.rules()["types"][kind]["label"][lang]


def describe(desk, order: WorkOrder, lang: str, full: bool) -> str:
    """The order's number, kind, department, state and history; with `full`, what was reported as well."""
    steps = "\n".join(f"- {workorders.when(desk, e['at'])} "
                      + _t("state_" + e["state"], lang, department=workorders.department_name(e["department"], lang))
                      + (f"：{e['note']}" if e["note"] and lang == "zh" else f": {e['note']}" if e["note"] else "")
                      for e in order.history)
    return _t("status", lang, number=order.number, kind=kind_label(order.kind, lang), what=order.description if full else "",
              department=workorders.department_name(order.department, lang),
              state=_t("state_now_dispatched" if order.state == "dispatched" else "state_" + order.state, lang),
              overdue=workorders.overdue(order), reply=order.reply, steps=steps)


def shown(desk, order: WorkOrder | None, lang: str, *, session_id: str, phone_hash: str) -> str:
    """The status of an order for whoever asks: in full for the session that filed it or the phone left
    with it, without what was reported for an anonymous one; "" for any other (unknown looks the same)."""
    if order is None:
        return ""
    own = order.session_id == session_id or bool(phone_hash and order.phone_hash == phone_hash)
    return describe(desk, order, lang, full=own) if own or not order.phone_hash else ""


def listing(desk, orders: list[WorkOrder], lang: str) -> str:
    """The open orders filed with one phone, a line each (number, kind, state, filed), or that there are none."""
    if not orders:
        return _t("none_of_phone", lang)
    lines = "\n".join(f"- {o.number} · {kind_label(o.kind, lang)} · "
                      + _t("state_" + o.state, lang, department=workorders.department_name(o.department, lang))
                      + f" · {workorders.when(desk, o.created)}" for o in orders)
    return _t("orders_of_phone", lang, orders=lines)


def look_up(desk, text: str, known: str | None, *, session_id: str, lang: str) -> Lookup:
    """The status of the order numbered in the text, else of `known` (the one asked about or filed last):
    this session's own orders at once, an anonymous one without its details, any other only with the
    phone left with it (unknown and wrong look the same); a phone alone lists that phone's open orders."""
    number = workorders.order_number(text) or known
    phone = phone_digits(text)
    phone_hash = desk.phone_digest(phone) if phone else ""
    if not number and phone:  # a phone without a number: the open orders filed with that phone
        orders = workorders.open_orders_of(desk, phone_hash)
        if len(orders) != 1:
            return Lookup(listing(desk, orders, lang))
        number = orders[0].number
    if not number:
        return Lookup(_t("ask_number", lang), asks_for="order_number")
    order = workorders.find(desk, number)
    if order is not None and order.phone_hash and order.session_id != session_id and not phone:
        return Lookup(_t("ask_order_phone", lang, number=number), number, asks_for="order_phone")
    status = shown(desk, order, lang, session_id=session_id, phone_hash=phone_hash)
    return Lookup(status or _t("not_found", lang), number, status="answered" if status else "refused")
