"""Which hospital, department or doctor a citizen's words name, and departments for the symptoms they describe.

Names are matched as the longest alias found (Chinese names anywhere, Latin ones as whole words); the
clinics come from `assistant.services.booking`.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from assistant.services.booking import Clinic, clinic_of, clinics, departments
from assistant.services.db import Department, Doctor, Hospital

HOSPITAL_ALIASES = {
    "cw-first": ["第一人民医院", "市一院", "一院", "第一医院", "first people's", "first peoples", "first hospital"],
    "cw-central": ["中心医院", "central hospital", "central"],
    "cw-tcm": ["中医院", "中医医院", "tcm hospital", "chinese medicine hospital", "hospital of traditional chinese medicine"],
    "cw-mch": ["妇幼保健院", "妇幼", "妇保院", "maternal and child", "maternity", "mch"],
    "cw-children": ["儿童医院", "儿院", "children's hospital", "childrens hospital", "children hospital"],
    "cw-hitech": ["高新区人民医院", "高新医院", "高新区医院", "hi-tech", "hitech", "high-tech", "hi tech"],
}
DEPARTMENT_ALIASES = {
    "cardiology": ["心血管内科", "心血管科", "心脏科", "心内", "heart doctor", "cardiologist"],
    "respiratory": ["呼吸科", "肺科", "respiratory", "lung doctor"], "neurology": ["神经科", "神内", "neurologist"],
    "gastroenterology": ["消化科", "胃肠科", "肠胃科", "gastro", "gastroenterologist"],
    "endocrinology": ["内分泌", "endocrinologist"], "general-surgery": ["外科", "surgery", "surgeon"],
    "orthopedics": ["骨外科", "orthopedics", "orthopedic"], "gynecology": ["gynecology", "gynaecologist", "gynecologist"],
    "obgyn": ["妇科", "产科", "gynaecology", "gynecology", "obstetrics"],
    "pediatrics": ["小儿科", "pediatrics", "paediatrician", "pediatrician"],
    "pediatrics-general": ["儿科", "小儿内科", "paediatrics", "pediatrics"],
    "ophthalmology": ["眼睛科", "eye doctor", "eye clinic"], "ent": ["耳鼻喉", "五官科", "ear nose and throat"],
    "stomatology": ["牙科", "口腔", "看牙", "dentist"], "dermatology": ["皮肤", "dermatologist", "skin doctor"],
    "tcm-clinic": ["中医"], "psychiatry": ["精神科", "心理科", "mental health", "psychiatrist"],
    "psychology-clinic": ["心理科", "psychologist"], "general-practice": ["全科", "general practitioner", "gp"],
}
_SYNONYMS = [("疼", "痛"), ("嗓子", "喉咙"), ("发热", "发烧"), ("拉稀", "拉肚子"), ("tummy", "stomach"),
             ("head hurts", "headache"), ("tooth hurts", "toothache"), ("diarrhea", "diarrhoea")]
_CHILD = re.compile(r"孩子|小孩|宝宝|儿童|儿子|女儿|小儿|婴儿|新生儿|child|kid|baby|son|daughter|toddler", re.IGNORECASE)
_DOCTOR_CUE = re.compile(r"医生|大夫|专家|主任|教授|doctor|\bdr\b", re.IGNORECASE)


def _norm(text: str) -> str:
    text = text.lower()
    for old, new in _SYNONYMS:
        text = text.replace(old, new)
    return text


def _find(alias: str, text: str) -> int:
    """Where `alias` occurs in lower-cased `text` (whole words for Latin aliases), or -1."""
    alias = alias.lower()
    if alias.isascii():
        m = re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", text)
        return m.start() if m else -1
    return text.find(alias)


def _longest(candidates: list[tuple[str, object]], text: str) -> tuple[str, list]:
    """The longest alias found in `text`, and every value it stands for."""
    found = [(alias, value) for alias, value in candidates if _find(alias, text) >= 0]
    if not found:
        return "", []
    best = max(len(alias) for alias, _ in found)
    values = [value for alias, value in found if len(alias) == best]
    unique = [v for i, v in enumerate(values) if v not in values[:i]]
    return next(alias for alias, _ in found if len(alias) == best), unique


def _blank(text: str, alias: str) -> str:
    at = _find(alias, text)
    return text if at < 0 else text[:at] + " " + text[at + len(alias):]


def match_hospital(sessions: sessionmaker, text: str) -> tuple[str | None, str]:
    """The hospital a text names (full name, alias such as 一院 / 中医院, or district), and the text without it."""
    lowered = text.lower().replace("’", "'")
    with sessions() as db:
        candidates = []
        for h in db.scalars(select(Hospital)):
            names = [h.name["zh"], h.name["en"], h.name["zh"].removeprefix("澄湾市"),
                     h.name["en"].removeprefix("Chengwan "), h.district["zh"], h.district["en"]]
            candidates += [(alias, h.id) for alias in names + HOSPITAL_ALIASES.get(h.id, [])]
    alias, ids = _longest(candidates, lowered)
    return (ids[0], _blank(lowered, alias)) if ids else (None, lowered)


def match_departments(sessions: sessionmaker, text: str) -> tuple[list[str], str]:
    """The department codes a text names ("心内科", "牙科", "ENT"), and the text without the name."""
    lowered = text.lower()
    candidates = []
    for c in clinics(sessions):
        en = c.name["en"]
        names = [c.name["zh"], en, en.split(" (")[0]] + re.findall(r"\(([^)]+)\)", en)
        candidates += [(alias, c.code) for alias in names + DEPARTMENT_ALIASES.get(c.code, [])]
    alias, codes = _longest(candidates, lowered)
    return codes, _blank(lowered, alias) if codes else lowered


def match_doctor(sessions: sessionmaker, text: str, department_id: int | None = None) -> tuple[str, Clinic] | None:
    """The doctor a text names and their clinic; without a department, only when it speaks of a doctor (医生, Dr)."""
    if department_id is None and not _DOCTOR_CUE.search(text):
        return None
    query = select(Doctor, Department, Hospital).join(Department, Doctor.department_id == Department.id) \
        .join(Hospital, Department.hospital_id == Hospital.id)
    if department_id is not None:
        query = query.where(Doctor.department_id == department_id)
    with sessions() as db:
        candidates = [(alias, (doc.id, clinic_of(d, h))) for doc, d, h in db.execute(query)
                      for alias in (doc.name["zh"], doc.name["en"])]
    _, found = _longest(candidates, text.lower())
    return found[0] if len(found) == 1 else None


def suggest(sessions: sessionmaker, text: str, limit: int = 3) -> list[tuple[str, list[Clinic], tuple]]:
    """Departments for the symptoms in a text, best first: (symptom matched, open clinics, score)."""
    wanted, child = _norm(text), bool(_CHILD.search(text))
    groups: dict[str, tuple[tuple, str, list[Clinic]]] = {}
    for d, h in departments(sessions):
        hits = [t for t in d.treats["zh"] + d.treats["en"] if _symptom_in(_norm(t), wanted)]
        if d.suspended or not hits:
            continue
        symptom = max(hits, key=len)
        pediatric = h.id == "cw-children" or bool(_CHILD.search(d.name["zh"] + d.name["en"]))
        score = (pediatric == child, len(symptom))
        best, best_symptom, members = groups.get(d.name["zh"], ((), "", []))
        groups[d.name["zh"]] = (max(score, best), symptom if score > best else best_symptom, members + [clinic_of(d, h)])
    ranked = sorted(groups.values(), key=lambda g: (g[0], len(g[2])), reverse=True)
    return [(symptom, members, score) for score, symptom, members in ranked[:limit]]


def _symptom_in(term: str, text: str) -> bool:
    if not term.isascii():
        return term in text
    words = re.findall(r"[a-z']+", text)
    return all(any(w.startswith(t) for w in words) for t in re.findall(r"[a-z']+", term))
