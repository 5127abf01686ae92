"""A citizen's request as a form: its slots (what, district, address, since, phone), filled from the
citizen's answers and corrections, the next detail to ask for, the summary to confirm, and the filing.

Plain values: the dict of slots, the text, the language, and `digest`, the desk's keyed hash of a phone
(the raw number is never kept). The texts are in prompts/report_issue.yaml.
"""

from __future__ import annotations

from typing import Callable

from assistant.core.prompts import render
from assistant.safety.guardrails import mask_pii, phone_digits
from assistant.services import report_words as words, workorders
from assistant.services.db import WorkOrder
from assistant.services.order_status import kind_label
from assistant.services.places import district_name

ORDER = ("what", "district", "address", "since", "phone")


def _t(key: str, lang: str, **values) -> str:
    return render(key, lang, file="report_issue", **values)


def keep_phone(slots: dict, phone: str | None, digest: Callable[[str], str]) -> None:
    """A phone is kept only masked and as a keyed hash; none (anonymous) is an empty one."""
    slots["phone"] = mask_pii(phone) if phone else ""
    slots["phone_hash"] = digest(phone) if phone else ""


def take_details(slots: dict, text: str, digest: Callable[[str], str]) -> None:
    """Fill any empty slot the text mentions: district, place, since when, a phone number."""
    for name, value in words.details(text).items():
        if value and not slots.get(name):
            slots[name] = value
    if phone_digits(text) and not slots.get("phone"):
        keep_phone(slots, phone_digits(text), digest)


def take_answer(slots: dict, asked: str, text: str, digest: Callable[[str], str]) -> bool:
    """The answer to the detail asked for (other than what happened), and any other details it gives;
    False for an answer to "which phone?" that is neither a mobile number nor a wish to stay anonymous."""
    if asked == "phone":
        phone = phone_digits(text)
        if not phone and not words.anonymous(text):
            return False
        keep_phone(slots, phone, digest)
    elif asked in ("where", "district", "address"):
        slots["district"] = words.district_in(text) or slots.get("district", "")
        if address := words.address_answer(text):
            slots["address"] = address
    elif asked == "since":
        slots["since"] = words.since_answer(text)
    take_details(slots, text, digest)
    return True


def correct(slots: dict, field: str, value: str, text: str, digest: Callable[[str], str]) -> None:
    """A correction of the phone, district, address or since when (`value`, "" when the text gives
    none): the detail replaced, or emptied so that it is asked for again."""
    if field == "phone":
        slots.pop("phone", None)
        if phone_digits(text):
            keep_phone(slots, phone_digits(text), digest)
    elif field in ("district", "address"):
        slots["district"] = words.district_in(text) or slots.get("district", "")
        if field == "address":
            slots["address"] = words.corrected_address(value, text)
    elif field == "since":
        slots["since"] = words.since_answer(value)


def missing(slots: dict) -> str | None:
    """The first detail still missing, "where" while neither district nor address is known; None when
    all are (a phone may be empty: anonymous)."""
    name = next((n for n in ORDER if n not in slots or (n != "phone" and not slots[n])), None)
    if name in ("district", "address") and not slots.get("district") and not slots.get("address"):
        return "where"
    return name


def question(name: str, slots: dict, lang: str) -> str:
    """What to ask for a missing detail; "where" repeats what the request is about."""
    if name == "where":
        return _t("ask_where", lang, kind=kind_label(slots["kind"], lang), what=slots["what"])
    return _t(f"ask_{name}", lang)


def summary(slots: dict, lang: str) -> str:
    """The request as it will be filed, with the department that will handle it, for the citizen to confirm."""
    dept = workorders.departments()[slots["department"]]
    return _t("summary", lang, kind=kind_label(slots["kind"], lang), what=slots["what"],
              district=district_name(slots["district"], lang), address=slots["address"], since=slots["since"],
              department=dept["name"][lang], hours=dept["hours"], phone=slots["phone"] or _t("anonymous", lang))


def file(desk, slots: dict, *, session_id: str, lang: str) -> tuple[WorkOrder, str]:
    """File the request as a work order (the same order again for the same request) and the text that
    tells the citizen its number, department and when it is due."""
    order, _ = workorders.file_order(
        desk, session_id=session_id, lang=lang, kind=slots["kind"], department=slots["department"],
        confidence=slots.get("confidence", 0.0), description=slots["what"], district=slots["district"],
        address=slots["address"], since=slots["since"], phone_hash=slots["phone_hash"], phone_masked=slots["phone"])
    dept = workorders.departments()[order.department]
    return order, _t("filed", lang, number=order.number, department=dept["name"][lang], hours=dept["hours"],
                     due=workorders.when(desk, order.due), phone=bool(order.phone_hash))
