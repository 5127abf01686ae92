"""The operations dashboard, a tab of the staff page: questions, ratings, work orders and emergencies as charts.

The numbers come from assistant/services/dashboard.py for the last 7, 30 or 90 local days and a district (it
filters the work orders only: questions carry no district). Here the tab is laid out, the values (domains,
outcomes, states, departments, districts, emergency kinds) are translated into the page's language and times
are shown in the city's time zone. No event is exposed to API clients; each checks the staff member's role.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Callable

import gradio as gr
import pandas as pd
import yaml

from assistant.services import dashboard, dashboard_orders
from assistant.services.places import district_name, districts
from assistant.services.workorders import departments
from assistant.core.dates import local_minute
from assistant.core.prompts import PROMPTS_DIR, data, render
from assistant.channels.web import browser_lang

OUTPUTS = ("dash_note", "dash_questions", "dash_outcomes", "dash_topics", "dash_unanswered", "dash_ratings",
           "dash_worst", "dash_orders_department", "dash_orders_district", "dash_overdue", "dash_overdue_list",
           "dash_response", "dash_response_table", "dash_emergencies", "dash_period", "dash_district")
LABELS = ("tab_dashboard", "dash_period", "dash_district", "dash_refresh", "dash_section_questions",
          "dash_section_ratings", "dash_section_orders", "dash_section_emergencies", *OUTPUTS[1:14])
PERIODS = (7, 30, 90)
GOOD, BAD, GREY = "#2e7d32", "#c62828", "#9e9e9e"
COLORS = {"outcome": {"answered": GOOD, "refused": "#ef6c00", "handoff": "#6a1b9a", "emergency": BAD, "other": GREY},
          "rating": {"up": GOOD, "down": BAD}, "within": {"within": GOOD, "over": BAD, "unknown": GREY}}
PRIVATE = {"api_visibility": "private"}


def labels(lang: str) -> dict[str, str]:
    """The tab's component labels in `lang`, to merge into the staff page's gr.I18n."""
    return {key: render(key, lang, file="dashboard") for key in LABELS}


I18N = gr.I18n(**{lang: labels(lang) for lang in ("zh", "en")})


def t(key: str, lang: str, **values) -> str:
    return render(key, lang, file="dashboard", **values)


def names(kind: str, lang: str) -> dict:
    """A mapping of prompts/dashboard.yaml (columns, domains, outcomes, states, ratings, within, kinds) in `lang`."""
    return data(kind, lang, file="dashboard")


@lru_cache(maxsize=2)
def kind_names(lang: str) -> dict[str, str]:
    """The emergency kinds' labels (prompts/emergency.yaml), and the label of an unrecorded kind."""
    kinds = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))["kinds"]
    return {**{kind: entry["label"][lang] for kind, entry in kinds.items()}, **names("kinds", lang)}


def department_short(dept_id: str, lang: str) -> str:
    """A department's short name (seeds/departments.yaml), for chart axes; an unknown id as it is."""
    found = departments().get(dept_id)
    return found["short"][lang] if found else dept_id


def choices(lang: str) -> tuple[list, list]:
    """The choices of the period and the district dropdowns, as (label in `lang`, value)."""
    return ([(t("dash_period_option", lang, days=days), days) for days in PERIODS],
            [(t("dash_all_districts", lang), "")] + [(district_name(d.zh, lang), d.zh) for d in districts()])


def dashboard_tab(assistant, i18n: gr.I18n = I18N, *, visible: bool = True) -> dict:
    """The tab, inside an open `gr.Tabs()`, by key (OUTPUTS, tab_dashboard, dash_refresh); its charts fill on
    `refresh`. `i18n` must know LABELS (see `labels`); the assistant is only needed by `refresh`."""
    plot = {"bar": gr.BarPlot, "line": gr.LinePlot}
    with gr.Tab(i18n("tab_dashboard"), elem_id="cd-tab-dashboard", visible=visible) as tab:
        periods, places = choices("zh")
        with gr.Row():
            ui = dict(tab_dashboard=tab,
                      dash_period=gr.Dropdown(periods, value=30, label=i18n("dash_period"), elem_id="cd-dash-period"),
                      dash_district=gr.Dropdown(places, value="", label=i18n("dash_district"),
                                                elem_id="cd-dash-district"),
                      dash_refresh=gr.Button(i18n("dash_refresh"), size="sm", elem_id="cd-dash-refresh"))
        ui["dash_note"] = gr.Markdown(elem_id="cd-dash-note")
        layout = [("dash_section_questions", [("dash_questions", "bar"), ("dash_outcomes", "line"),
                                              ("dash_topics", "bar"), ("dash_unanswered", "table")]),
                  ("dash_section_ratings", [("dash_ratings", "bar"), ("dash_worst", "hidden")]),
                  ("dash_section_orders", [("dash_orders_department", "bar"), ("dash_orders_district", "bar"),
                                           ("dash_overdue", "bar"), ("dash_overdue_list", "hidden"),
                                           ("dash_response", "bar"), ("dash_response_table", "table")]),
                  ("dash_section_emergencies", [("dash_emergencies", "bar")])]
        for heading, items in layout:
            gr.Markdown(i18n(heading))
            for key, kind in items:
                element = f"cd-{key.replace('_', '-')}"
                if kind in plot:
                    ui[key] = plot[kind](label=i18n(key), elem_id=element, tooltip="all", x_label_angle=-30,
                                         y_lim=[0, None], sort="-y" if key in ("dash_topics", "dash_overdue") else None)
                elif kind == "table":
                    ui[key] = gr.Dataframe(label=i18n(key), interactive=False, wrap=True, elem_id=element)
                else:  # a long table, one click away
                    with gr.Accordion(i18n(key), open=False):
                        ui[key] = gr.Dataframe(label=i18n(key), interactive=False, wrap=True, elem_id=element)
    return ui


def _table(frame: pd.DataFrame, lang: str, **values) -> pd.DataFrame:
    """`frame` with the values of some columns translated (by a mapping or a function), its columns named in `lang`."""
    frame = frame.copy()
    for column, name in values.items():
        frame[column] = frame[column].map(name if callable(name) else lambda v, n=name: n.get(v, v))
    return frame.rename(columns=names("columns", lang))


def _plot(frame: pd.DataFrame, lang: str, x: str, y: str, color: str | None = None, **values):
    """A chart's update: the data translated, its axes and colours named in `lang` (fixed colours for COLORS).
    The legend lists the colours of this data: the page would otherwise keep the previous data's legend and
    hide the bars of a value new to it."""
    columns, palette = names("columns", lang), COLORS.get(color or "", {})
    color_map = {values[color].get(key, key): hue for key, hue in palette.items()} if palette else None
    table = _table(frame, lang, **values)
    legend = sorted(table[columns[color]].unique()) if color else None
    return gr.update(value=table, x=columns[x], y=columns[y], color=columns[color] if color else None,
                     color_map=color_map, colors_in_legend=legend)


def _questions(sessions, start: float, end: float, tz: str, lang: str) -> tuple:
    domains = names("domains", lang)
    per_day = dashboard.questions_per_day(sessions, start, end, tz)
    outcomes = dashboard.outcomes_per_day(sessions, start, end, tz).assign(share=lambda f: (f.share * 100).round(1))
    topics = dashboard.top_topics(sessions, start, end)
    topics.insert(0, "label", topics["title"].map(lambda s: s if len(s) <= 16 else s[:15] + "…"))
    unanswered = dashboard.unanswered(sessions, start, end)
    return (_plot(per_day, lang, "day", "count", "domain", domain=domains),
            _plot(outcomes.drop(columns="count"), lang, "day", "share", "outcome", outcome=names("outcomes", lang)),
            _plot(topics.drop(columns="sampled"), lang, "label", "count", "domain", domain=domains),
            _table(unanswered.drop(columns="sampled"), lang, last=lambda s: local_minute(s, tz)),
            bool(topics["sampled"].any() or unanswered["sampled"].any()))


def _ratings(sessions, start: float, end: float, tz: str, lang: str) -> tuple:
    domains = names("domains", lang)
    ratings = dashboard.ratings_by_domain(sessions, start, end)
    worst = dashboard.worst_rated(sessions, start, end).rename(columns={"created": "time"})
    return (_plot(ratings, lang, "domain", "count", "rating", domain=domains, rating=names("ratings", lang)),
            _table(worst, lang, time=lambda s: local_minute(s, tz), domain=domains))


def _orders(sessions, start: float, end: float, district: str, tz: str, lang: str) -> tuple:
    states, within = names("states", lang), names("within", lang)
    dept = {"department": lambda d: department_short(d, lang)}
    place = {"district": lambda d: district_name(d, lang) if d else t("dash_no_district", lang)}
    by_dept = dashboard_orders.orders_by(sessions, start, end, district, "department")
    by_district = dashboard_orders.orders_by(sessions, start, end, district, "district")
    overdue = dashboard_orders.overdue_by_department(sessions, end, district)
    late = dashboard_orders.overdue(sessions, end, district)
    times = dashboard_orders.response_times(sessions, start, end, district)
    times["within"] = ["unknown" if pd.isna(c) else "within" if c <= limit else "over"
                       for c, limit in zip(times["close_h"], times["limit_h"])]
    table = times[["department", "first_response_h", "close_h", "limit_h", "closed", "within"]]
    return (_plot(by_dept, lang, "department", "count", "state", state=states, **dept),
            _plot(by_district, lang, "district", "count", "state", state=states, **place),
            _plot(overdue, lang, "department", "count", **dept),
            _table(late, lang, state=states, due=lambda s: local_minute(s, tz), **dept, **place),
            _plot(table.dropna(subset=["close_h"]), lang, "department", "close_h", "within", within=within, **dept),
            _table(table, lang, within=within, **dept), bool(times["sampled"].any()))


def refresh(assistant, period, district: str, lang: str, now: float | None = None) -> tuple:
    """Every output of the tab, in OUTPUTS order, for the last `period` days until `now` and `district` ('' = all)."""
    tz, sessions, now = assistant.settings.timezone, assistant.sessions, now or time.time()
    start, end = dashboard.last_days(int(period or 30), tz, now)
    *questions, topics_sampled = _questions(sessions, start, end, tz, lang)
    *orders, times_sampled = _orders(sessions, start, end, district or "", tz, lang)
    emergencies = dashboard.emergencies_per_day(sessions, start, end, tz)
    note = [t("dash_note", lang, first=local_minute(start, tz)[:10], last=local_minute(end, tz)[:10], timezone=tz,
              now=local_minute(now, tz))] + [t("dash_note_district", lang)] * bool(district)
    note += [t("dash_note_sampled", lang)] * (topics_sampled or times_sampled)
    return (" ".join(note), *questions, *_ratings(sessions, start, end, tz, lang), *orders,
            _plot(emergencies, lang, "day", "count", "kind", kind=kind_names(lang)),
            *(gr.update(choices=options) for options in choices(lang)))


def wire_dashboard(assistant, ui, allowed: Callable[[object, gr.Request], bool], authed: gr.State | None = None):
    """Refresh the tab (`ui`: the dict of `dashboard_tab`, or a namespace holding its keys) when it is opened,
    on its button and when a dropdown is changed, inside the page's gr.Blocks; each time only if
    `allowed(value of authed, request)` says the staff member may see the dashboard."""
    ui = ui if isinstance(ui, dict) else vars(ui)
    outputs = [ui[key] for key in OUTPUTS]

    def run(signed_in, period, district, request: gr.Request):
        if not allowed(signed_in, request):
            return tuple(gr.skip() for _ in outputs)
        return refresh(assistant, period, district, browser_lang(request))

    signed, period, district = authed if authed is not None else gr.State(None), ui["dash_period"], ui["dash_district"]
    for event in (ui["tab_dashboard"].select, ui["dash_refresh"].click, period.input, district.input):
        event(run, [signed, period, district], outputs, **PRIVATE)
