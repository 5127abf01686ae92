"""What the staff page shows: the guides, tickets and work orders as tables, the gaps as Markdown, in the page's language."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import yaml

from assistant.services import guides, staff
from assistant.services import workorders
from assistant.core.dates import local_minute
from assistant.core.prompts import PROMPTS_DIR, render


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
    for f in sorted(guides.files(assistant), key=lambda f: -(f["indexed_at"] or 0.0)):
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
