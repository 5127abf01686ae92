"""What the chat page shows of a reply: its text as written, source cards, emergency banner, status line, confirm buttons."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from assistant.core.prompts import render
from assistant.skills import REGISTRY
from assistant.core.types import Reply

_MARKUP = re.compile(r"[\\*_`~|]")


def t(key: str, lang: str, **values) -> str:
    return render(key, lang, file="web", **values)


def as_markdown(text: str) -> str:
    """Reply text shown as written: HTML and emphasis characters escaped (a masked ID has `****`)."""
    return _MARKUP.sub(r"\\\g<0>", html.escape(text, quote=False))


def format_reply(reply: Reply, lang: str) -> str:
    """The reply text (escaped) followed by its numbered source cards."""
    text = as_markdown(reply.text)
    if not reply.citations:
        return text
    cards = "".join(
        f'<a class="cd-card" href="/guides/{quote(c.doc)}" target="_blank" rel="noopener">'
        f'<span class="cd-n">{c.n}</span><span class="cd-card-text"><strong>{html.escape(c.title)}</strong>'
        f'<span class="cd-card-section">{html.escape(c.section)}'
        f'{" " + t("source_in_chinese", lang) if lang == "en" and c.lang == "zh" else ""}</span>'
        f'<span class="cd-card-open">{t("open_guide", lang)} ↗</span></span></a>' for c in reply.citations)
    return f'{text}\n\n<div class="cd-sources"><div class="cd-sources-title">{t("sources", lang)}</div>{cards}</div>'


def banner_html(reply: Reply, lang: str) -> str:
    numbers = "".join(f'<a class="cd-banner-number" href="tel:{html.escape(n)}">{html.escape(n)}</a>'
                      for n in reply.data.get("numbers") or [])
    return (f'<div class="cd-banner" role="alert" aria-live="assertive" data-kind="{html.escape(str(reply.data.get("emergency", "")))}">'
            f'<span class="cd-banner-label">⚠ {t("emergency_title", lang)} · {t("emergency_call", lang)}</span>{numbers}</div>')


def status_html(reply: Reply, lang: str, turns: int) -> str:
    skill = REGISTRY.get(reply.skill)
    name = skill.title.get(lang, skill.title["zh"]) if skill else ""
    asks = html.escape(str(reply.data.get("asks_for", "")))
    shown = f'{t("skill_label", lang)}：{name} · ' if name and lang == "zh" else f'{t("skill_label", lang)}: {name} · ' if name else ""
    return (f'<div class="cd-status" data-status="{reply.status}" data-skill="{html.escape(reply.skill)}" '
            f'data-asks="{asks}" data-turns="{turns}">{shown}{t(_status_key(reply), lang)}</div>')


def _status_key(reply: Reply) -> str:
    """A stopped flow is not a cancelled booking: "已取消" only when something was cancelled."""
    if reply.data.get("asks_for") == "confirm":
        return "confirm_hint"
    if reply.status == "cancelled" and not reply.data.get("code"):
        return "status_stopped"
    return "status_" + reply.status


def confirm_labels(reply: Reply, lang: str) -> tuple[str, str]:
    """The two buttons under a summary say what they do: "确认取消这个预约" / "保留预约", not 确认 / 取消."""
    kind = reply.data.get("confirming", "")
    return (t(f"confirm_yes_{kind}" if kind else "confirm_yes", lang),
            t(f"confirm_no_{kind}" if kind else "confirm_no", lang))

