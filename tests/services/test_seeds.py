"""Validity and consistency checks for the seed data in seeds/ (see seeds/README.md)."""

import datetime as dt
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
KNOWLEDGE = ROOT / "knowledge"

# Fixed facts of docs/city.md
DISTRICTS = {
    "江北区": "Jiangbei District",
    "江南区": "Jiangnan District",
    "东湖区": "Donghu District",
    "西山区": "Xishan District",
    "滨江新区": "Binjiang New Area",
    "高新区": "Hi-tech Zone",
    "青溪县": "Qingxi County",
}
CITY_HOSPITALS = {  # zh name -> (zh address, en name)
    "澄湾市第一人民医院": ("江北区人民路100号", "Chengwan First People's Hospital"),
    "澄湾市中心医院": ("江南区解放路58号", "Chengwan Central Hospital"),
    "澄湾市中医院": ("东湖区杏林路8号", "Chengwan Hospital of Traditional Chinese Medicine"),
    "澄湾市妇幼保健院": ("西山区和平路66号", "Chengwan Maternal and Child Health Hospital"),
    "澄湾市儿童医院": ("滨江新区育才路20号", "Chengwan Children's Hospital"),
    "澄湾市高新区人民医院": ("高新区科技大道300号", "Hi-tech Zone People's Hospital"),
}
GENERAL_HOSPITALS = {"澄湾市第一人民医院", "澄湾市中心医院", "澄湾市高新区人民医院"}

STATUS_KEYS = {"received", "under_review", "need_materials", "approved", "ready_for_pickup", "rejected"}
TYPE_CODES = {
    "resident_id": "ID",
    "passport": "PP",
    "hk_macao_permit": "HK",
    "residence_permit": "RP",
    "driving_licence": "DL",
    "business_licence": "BL",
    "food_business_licence": "FL",
    "marriage_certificate_copy": "MC",
    "no_criminal_record": "NC",
}
FIRST_DATE, LAST_DATE = dt.date(2026, 9, 1), dt.date(2026, 11, 27)

ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LOCAL_PHONE_RE = re.compile(r"^8\d{3} \d{4}$")
NATIONAL_SHORT_RE = re.compile(r"^\d{3,5}$")
NUMBER_RE = re.compile(r"^CW\d{4}-[A-Z]{2}-\d{7}$")
MOBILE_RE = re.compile(r"^1\d{10}$")
SYNTHETIC_MOBILE_RE = re.compile(r"^13[89]0000\d{4}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
HAN_RE = re.compile(r"[\u4e00-\u9fff]")

TEXT_FIELDS = {
    "hospital": ("name", "level", "district", "address"),
    "department": ("name",),
    "doctor": ("name", "title"),
    "application": ("type_name", "applicant", "note"),
    "shelter": ("district", "name", "address"),
    "hotline": ("topic", "hours", "note"),
}


@lru_cache(maxsize=None)
def load(name):
    with open(SEEDS / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


def hospitals():
    return load("hospitals.yaml")["hospitals"]


def departments():
    for h in hospitals():
        for d in h["departments"]:
            yield h, d


def doctors():
    for h, d in departments():
        for doc in d["doctors"]:
            yield h, d, doc


def applications():
    return load("applications.yaml")["applications"]


def shelters():
    return load("shelters.yaml")["shelters"]


def hotlines():
    return load("hotlines.yaml")["hotlines"]


def as_date(v):
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    assert isinstance(v, str), f"not a date: {v!r}"
    return dt.date.fromisoformat(v)


def minutes(hhmm):
    assert isinstance(hhmm, str) and TIME_RE.match(hhmm), f"bad time {hhmm!r}"
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def text_problems(value, where):
    """Problems with a bilingual text field: {zh: str, en: str} or {zh: [str], en: [str]}."""
    if not isinstance(value, dict) or set(value) != {"zh", "en"}:
        return [f"{where}: expected exactly zh and en, got {value!r}"]
    problems = []
    for lang in ("zh", "en"):
        v = value[lang]
        items = v if isinstance(v, list) else [v]
        if isinstance(v, list) and not v:
            problems.append(f"{where}.{lang}: empty list")
        for item in items:
            if not isinstance(item, str) or not item.strip():
                problems.append(f"{where}.{lang}: empty or not text: {item!r}")
            elif lang == "zh" and not HAN_RE.search(item):
                problems.append(f"{where}.zh has no Chinese characters: {item!r}")
            elif lang == "en" and HAN_RE.search(item):
                problems.append(f"{where}.en contains Chinese characters: {item!r}")
    if isinstance(value["zh"], list) != isinstance(value["en"], list):
        problems.append(f"{where}: zh and en must both be text or both be lists")
    return problems


# ---------------------------------------------------------------- all files


@pytest.mark.parametrize(
    "name, key",
    [
        ("hospitals.yaml", "hospitals"),
        ("applications.yaml", "applications"),
        ("shelters.yaml", "shelters"),
        ("hotlines.yaml", "hotlines"),
    ],
)
def test_file_loads_as_utf8_yaml_with_top_level_list(name, key):
    raw = (SEEDS / name).read_bytes()
    raw.decode("utf-8")  # raises if not UTF-8
    data = load(name)
    assert isinstance(data, dict)
    assert isinstance(data.get(key), list) and data[key], f"{name}: '{key}' must be a non-empty list"


def test_readme_describes_every_seed_file():
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    for name in ("hospitals.yaml", "applications.yaml", "shelters.yaml", "hotlines.yaml"):
        assert name in readme


def test_every_text_field_has_zh_and_en():
    problems = []
    for h in hospitals():
        problems += [p for f in TEXT_FIELDS["hospital"] for p in text_problems(h.get(f), f"{h['id']}.{f}")]
        for d in h["departments"]:
            where = f"{h['id']}/{d['id']}"
            problems += [p for f in TEXT_FIELDS["department"] for p in text_problems(d.get(f), f"{where}.{f}")]
            problems += text_problems(d.get("treats"), f"{where}.treats")
            if d.get("suspended") is not None:
                problems += text_problems(d["suspended"], f"{where}.suspended")
            for doc in d["doctors"]:
                problems += [p for f in TEXT_FIELDS["doctor"] for p in text_problems(doc.get(f), f"{doc['id']}.{f}")]
    for key, value in load("applications.yaml")["statuses"].items():
        problems += text_problems(value, f"statuses.{key}")
    for a in applications():
        problems += [p for f in TEXT_FIELDS["application"] for p in text_problems(a.get(f), f"{a['number']}.{f}")]
    for s in shelters():
        problems += [p for f in TEXT_FIELDS["shelter"] for p in text_problems(s.get(f), f"{s['id']}.{f}")]
        problems += text_problems(s.get("facilities"), f"{s['id']}.facilities")
    for x in hotlines():
        problems += [p for f in TEXT_FIELDS["hotline"] for p in text_problems(x.get(f), f"{x['id']}.{f}")]
    assert not problems, "\n".join(problems)


def test_no_real_looking_mobile_numbers_anywhere():
    """Every 11-digit mobile number in any seed file must be an obviously synthetic one."""
    for name in ("hospitals.yaml", "applications.yaml", "shelters.yaml", "hotlines.yaml"):
        text = (SEEDS / name).read_text(encoding="utf-8")
        for m in re.finditer(r"(?<!\d)1[3-9]\d{9}(?!\d)", text):
            assert SYNTHETIC_MOBILE_RE.match(m.group()), f"{name}: {m.group()} is not a synthetic number"


# ---------------------------------------------------------------- hospitals


def test_periods_are_the_fixed_clinic_periods():
    periods = load("hospitals.yaml")["periods"]
    assert periods == {
        "morning": {"start": "08:00", "end": "12:00"},
        "afternoon": {"start": "13:30", "end": "17:00"},
    }


def test_all_six_city_hospitals_with_their_fixed_names_and_addresses():
    found = {h["name"]["zh"]: h for h in hospitals()}
    assert set(found) == set(CITY_HOSPITALS)
    for zh, (address, en) in CITY_HOSPITALS.items():
        h = found[zh]
        assert h["address"]["zh"] == address
        assert h["name"]["en"] == en
        assert h["district"]["zh"] in DISTRICTS
        assert h["district"]["en"] == DISTRICTS[h["district"]["zh"]]
        assert h["address"]["zh"].startswith(h["district"]["zh"])
        assert LOCAL_PHONE_RE.match(h["phone"]), f"{h['id']}: phone {h['phone']!r} is not 8xxx xxxx"


def test_hospital_ids_unique():
    ids = [h["id"] for h in hospitals()]
    assert all(ID_RE.match(i) for i in ids), ids
    assert len(ids) == len(set(ids))


def test_department_ids_unique_within_hospital():
    for h in hospitals():
        ids = [d["id"] for d in h["departments"]]
        assert all(ID_RE.match(i) for i in ids), (h["id"], ids)
        dupes = [i for i, n in Counter(ids).items() if n > 1]
        assert not dupes, f"{h['id']}: duplicate department ids {dupes}"
        names = [d["name"]["zh"] for d in h["departments"]]
        assert len(names) == len(set(names)), f"{h['id']}: duplicate department names"


def test_doctor_ids_unique_in_whole_file():
    ids = [doc["id"] for _, _, doc in doctors()]
    assert all(ID_RE.match(i) for i in ids)
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate doctor ids {dupes}"


def test_doctor_ids_start_with_their_hospital_id():
    for h, d, doc in doctors():
        assert doc["id"].startswith(h["id"] + "-"), doc["id"]


def test_doctor_names_unique():
    names = [doc["name"]["zh"] for _, _, doc in doctors()]
    dupes = [n for n, c in Counter(names).items() if c > 1]
    assert not dupes, f"the same doctor name is used twice: {dupes}"


def test_department_sizes_are_realistic():
    counts = Counter(h["name"]["zh"] for h, _ in departments())
    for name in GENERAL_HOSPITALS:
        # 10-14 as planned; 15 allowed because the knowledge base names 15 clinics at the First People's Hospital
        assert 10 <= counts[name] <= 15, f"{name} has {counts[name]} departments"
    for h in hospitals():
        assert len(h["departments"]) >= 5, h["id"]
    for h, d in departments():
        assert 1 <= len(d["doctors"]) <= 3, f"{h['id']}/{d['id']}: {len(d['doctors'])} doctors"


def test_treats_has_at_least_six_terms_per_language():
    for h, d in departments():
        for lang in ("zh", "en"):
            terms = d["treats"][lang]
            assert len(terms) >= 6, f"{h['id']}/{d['id']}.treats.{lang}: only {len(terms)}"
            assert len(terms) == len(set(terms)), f"{h['id']}/{d['id']}.treats.{lang}: duplicates"


def test_fees_are_positive_integers_and_follow_seniority():
    for _, _, doc in doctors():
        fee = doc["fee_yuan"]
        assert isinstance(fee, int) and not isinstance(fee, bool) and fee > 0, (doc["id"], fee)
    # within a hospital, a more senior title never costs less than a more junior one
    rank = {"主任": 4, "副主任": 3, "主治": 2, "住院": 1}

    def title_rank(zh):
        for prefix in ("副主任", "主任", "主治"):
            if zh.startswith(prefix):
                return rank[prefix]
        assert "住院" in zh, zh
        return 1

    fee_by_rank = {}
    for h, _, doc in doctors():
        fee_by_rank.setdefault((h["id"], title_rank(doc["title"]["zh"])), set()).add(doc["fee_yuan"])
    for (hid, r), fees in fee_by_rank.items():
        for (hid2, r2), fees2 in fee_by_rank.items():
            if hid == hid2 and r > r2:
                assert min(fees) >= max(fees2), f"{hid}: rank {r} fee {fees} below rank {r2} fee {fees2}"


def test_schedules_are_valid_and_slots_fit_in_the_period():
    periods = load("hospitals.yaml")["periods"]
    for _, _, doc in doctors():
        schedule = doc["schedule"]
        assert isinstance(schedule, list) and schedule, f"{doc['id']}: empty schedule"
        seen = set()
        for e in schedule:
            assert set(e) == {"weekday", "period", "slots"}, (doc["id"], e)
            wd, period, slots = e["weekday"], e["period"], e["slots"]
            assert isinstance(wd, int) and 1 <= wd <= 7, (doc["id"], e)
            assert period in periods, (doc["id"], e)
            assert isinstance(slots, int) and 1 <= slots <= 7, (doc["id"], e)
            start, end = minutes(periods[period]["start"]), minutes(periods[period]["end"])
            assert start + 30 * slots <= end, f"{doc['id']}: {slots} slots do not fit in {period}"
            assert (wd, period) not in seen, f"{doc['id']}: two rows for {wd} {period}"
            seen.add((wd, period))


def test_no_walk_in_only_departments_are_bookable():
    """急诊科 and 发热门诊 are open 24 h without appointment (knowledge/health/outpatient-departments.md)."""
    bookable = [(h["id"], d["name"]["zh"]) for h, d in departments()]
    walk_in = [x for x in bookable if "急诊" in x[1] or "发热门诊" in x[1]]
    assert not walk_in, walk_in


def test_weekend_clinics_are_mornings_only():
    for _, _, doc in doctors():
        for e in doc["schedule"]:
            if e["weekday"] >= 6:
                assert e["period"] == "morning", f"{doc['id']}: weekend clinic in the {e['period']}"


def test_exactly_one_suspended_department():
    suspended = [(h["id"], d["id"]) for h, d in departments() if d.get("suspended") is not None]
    assert len(suspended) == 1, suspended
    for _, d in departments():
        assert "suspended" in d, f"{d['id']}: 'suspended' must be present (null when open)"


def test_weekend_clinics_exist_but_only_in_a_few_departments():
    deps = list(departments())
    weekend = [d for _, d in deps if any(e["weekday"] >= 6 for doc in d["doctors"] for e in doc["schedule"])]
    assert 1 <= len(weekend) <= len(deps) // 4, f"{len(weekend)} of {len(deps)} departments open at weekends"
    sunday = [d for d in weekend if any(e["weekday"] == 7 for doc in d["doctors"] for e in doc["schedule"])]
    assert sunday, "at least one department should be open on Sunday"


def test_some_department_has_no_clinic_on_some_weekday():
    gaps = 0
    for _, d in departments():
        days = {e["weekday"] for doc in d["doctors"] for e in doc["schedule"]}
        gaps += len({1, 2, 3, 4, 5} - days) > 0
    assert gaps >= 5


def test_some_doctor_works_a_full_day():
    full = [
        doc["id"]
        for _, _, doc in doctors()
        if any(
            {"morning", "afternoon"} <= {e["period"] for e in doc["schedule"] if e["weekday"] == wd}
            for wd in range(1, 8)
        )
    ]
    assert full


def test_a_single_doctor_department_with_one_weekly_slot_exists():
    """The natural 'last free slot' case."""
    single = [
        (h["id"], d["id"])
        for h, d in departments()
        if len(d["doctors"]) == 1
        and d.get("suspended") is None
        and len(d["doctors"][0]["schedule"]) == 1
        and d["doctors"][0]["schedule"][0]["slots"] == 1
    ]
    assert single


# ---------------------------------------------------------------- applications


def test_statuses_are_the_closed_list():
    assert set(load("applications.yaml")["statuses"]) == STATUS_KEYS


def test_enough_applications_and_numbers_unique():
    apps = applications()
    assert len(apps) >= 30
    numbers = [a["number"] for a in apps]
    dupes = [n for n, c in Counter(numbers).items() if c > 1]
    assert not dupes, dupes


def test_application_number_format_matches_type_and_year():
    for a in applications():
        n = a["number"]
        assert isinstance(n, str) and NUMBER_RE.match(n), n
        assert a["type"] in TYPE_CODES, (n, a["type"])
        _, year, code, _ = re.split(r"^CW(\d{4})-([A-Z]{2})-", n)
        assert code == TYPE_CODES[a["type"]], f"{n}: code {code} does not match type {a['type']}"
        assert int(year) == as_date(a["submitted"]).year, n


def test_application_phone_is_a_synthetic_mobile_number():
    for a in applications():
        p = a["phone"]
        assert isinstance(p, str), f"{a['number']}: phone must be a quoted string"
        assert MOBILE_RE.match(p), f"{a['number']}: {p!r} is not 11 digits starting with 1"
        assert SYNTHETIC_MOBILE_RE.match(p), f"{a['number']}: {p!r} is not 1380000xxxx / 1390000xxxx"


def test_application_applicant_names_are_masked():
    for a in applications():
        assert "*" in a["applicant"]["zh"] and "*" in a["applicant"]["en"], a["number"]


def test_every_status_and_type_is_used_often_enough():
    statuses = Counter(a["status"] for a in applications())
    types = Counter(a["type"] for a in applications())
    assert all(statuses[s] >= 3 for s in STATUS_KEYS), statuses
    assert all(types[t] >= 2 for t in TYPE_CODES), types


def test_application_status_and_history_are_consistent():
    for a in applications():
        n, history = a["number"], a["history"]
        assert a["status"] in STATUS_KEYS, n
        assert history, f"{n}: empty history"
        for h in history:
            assert set(h) == {"status", "at"}, (n, h)
            assert h["status"] in STATUS_KEYS, (n, h)
        assert history[-1]["status"] == a["status"], f"{n}: history does not end with the current status"
        assert history[0]["status"] == "received", f"{n}: history must start with received"
        dates = [as_date(h["at"]) for h in history]
        assert dates == sorted(dates), f"{n}: history is not chronological"
        assert dates[0] == as_date(a["submitted"]), f"{n}: received date differs from submitted"
        for prev, cur in zip(history, history[1:]):
            assert prev["status"] != cur["status"], f"{n}: repeated status {cur['status']}"
            assert prev["status"] not in {"rejected", "ready_for_pickup"}, f"{n}: {prev['status']} is final"


def test_application_dates_are_in_range_and_updated_is_not_before_events():
    for a in applications():
        n = a["number"]
        submitted, updated = as_date(a["submitted"]), as_date(a["updated"])
        assert updated >= submitted, n
        assert updated >= max(as_date(h["at"]) for h in a["history"]), f"{n}: updated before last status change"
        for d in [submitted, updated] + [as_date(h["at"]) for h in a["history"]]:
            assert FIRST_DATE <= d <= LAST_DATE, f"{n}: {d} out of range"


# ---------------------------------------------------------------- shelters


def test_shelter_ids_unique():
    ids = [s["id"] for s in shelters()]
    assert all(ID_RE.match(i) for i in ids)
    assert len(ids) == len(set(ids))


def test_every_district_and_county_has_at_least_two_shelters():
    per_district = Counter(s["district"]["zh"] for s in shelters())
    assert set(per_district) <= set(DISTRICTS), set(per_district) - set(DISTRICTS)
    missing = {d: per_district[d] for d in DISTRICTS if per_district[d] < 2}
    assert not missing, f"districts with fewer than 2 shelters: {missing}"


def test_shelter_fields_are_valid():
    for s in shelters():
        assert s["district"]["en"] == DISTRICTS[s["district"]["zh"]], s["id"]
        assert s["address"]["zh"].startswith(s["district"]["zh"]), s["id"]
        cap = s["capacity"]
        assert isinstance(cap, int) and not isinstance(cap, bool) and cap > 0, s["id"]
        assert s["kind"] in {"indoor", "outdoor"}, s["id"]
        fac = s["facilities"]
        assert len(fac["zh"]) == len(fac["en"]), f"{s['id']}: facilities zh/en are not pairwise"


# ---------------------------------------------------------------- hotlines


def test_enough_hotlines_with_unique_ids_and_numbers():
    lines = hotlines()
    assert len(lines) >= 15
    ids = [x["id"] for x in lines]
    numbers = [x["number"] for x in lines]
    assert all(ID_RE.match(i) for i in ids)
    assert len(ids) == len(set(ids))
    assert len(numbers) == len(set(numbers))


def test_hotline_numbers_are_national_short_numbers_or_local_numbers():
    for x in hotlines():
        n = x["number"]
        assert isinstance(n, str), f"{x['id']}: number must be a quoted string"
        assert NATIONAL_SHORT_RE.match(n) or LOCAL_PHONE_RE.match(n), (x["id"], n)
        assert isinstance(x["emergency"], bool), x["id"]


def test_required_national_numbers_present():
    by_number = {x["number"]: x for x in hotlines()}
    required = {"110", "119", "120", "122", "12345", "12320", "12333", "12329", "12366", "12315", "12356"}
    assert required <= set(by_number), required - set(by_number)
    for n in ("110", "119", "120", "122"):
        assert by_number[n]["emergency"] is True, n
    assert by_number["12345"]["emergency"] is False
    assert any(LOCAL_PHONE_RE.match(n) for n in by_number), "no local city lines"


# ---------------------------------------------------------------- consistency with the knowledge base


def knowledge_text(rel):
    path = KNOWLEDGE / rel
    if not path.exists():
        pytest.skip(f"knowledge/{rel} not present")
    return path.read_text(encoding="utf-8")


def test_hospital_switchboards_match_the_outpatient_guide():
    text = knowledge_text("health/outpatient-departments.md")
    listed = dict(re.findall(r"(澄湾市\S+?)：[^，\n]+，总机(8\d{3} \d{4})", text))
    assert listed, "no switchboard numbers found in the guide"
    phones = {h["name"]["zh"]: h["phone"] for h in hospitals()}
    for name, phone in listed.items():
        assert phones.get(name) == phone, f"{name}: seeds {phones.get(name)!r}, guide {phone!r}"


def test_shelters_of_the_shelter_guide_are_in_the_seeds():
    text = knowledge_text("emergency/emergency-shelters.md")
    section = text.split("## 各区县主要避难场所", 1)[-1].split("\n## ", 1)[0]
    listed = re.findall(r"^\d+\.\s*([^：\n]+)：([^，\n]+)，", section, flags=re.M)
    assert listed, "no shelters found in the guide"
    seeds = [(s["name"]["zh"], s["address"]["zh"]) for s in shelters()]
    for name, address in listed:
        assert any(n.startswith(name) and a == address for n, a in seeds), f"{name} ({address}) missing"
