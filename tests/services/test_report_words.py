"""What citizens say in a report, read from plain text: districts (seeds/districts.yaml), places, since
when, yes and no, corrections and status questions; and the request's slots filled from it."""

import re

import pytest

from assistant.services import report_form as form
from assistant.services import report_words as words
from assistant.services.places import district_name, districts_named, without_districts
from assistant.skills.emergency import district_shelters

pytestmark = pytest.mark.unit
PHONE = "13800001357"


def digest(phone: str) -> str:
    return f"hash:{phone}"


# ----- districts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, zh", [
    ("江北区翠湖小区3栋门口", "江北区"), ("江南解放路", "江南区"), ("滨江新区海港大道9号", "滨江新区"), ("滨江区人民路", "滨江新区"),
    ("in Jiangnan District, the Renmin Road bus stop", "江南区"), ("xishan", "西山区"), ("Qingxi County", "青溪县"),
    ("a factory in the hi-tech park", "高新区"), ("High-Tech Zone", "高新区"), ("高新技术开发区", "高新区"), ("人民路12号", "")])
def test_the_district_a_report_names(text, zh):
    assert words.district_in(text) == zh


def test_a_text_naming_several_districts_names_them_in_seed_order():
    assert [d.zh for d in districts_named("江南和江北都淹了")] == ["江北区", "江南区"]
    assert districts_named("路灯坏了") == []


def test_a_districts_english_name_comes_from_the_seeds():
    assert district_name("高新区", "en") == "Hi-tech Zone" and district_name("滨江新区", "en") == "Binjiang New Area"
    assert district_name("高新区", "zh") == "高新区" and district_name("某某区", "en") == "某某区"


def test_district_names_are_taken_out_of_a_text():
    assert without_districts("江北区翠湖小区") == "翠湖小区"
    assert without_districts("滨江区人民路") == "人民路", "the longer name goes before the shorter one inside it"
    assert without_districts("Jiangnan District, Renmin Road") == ", Renmin Road"
    assert without_districts("hi-tech zone science park") == " science park"


def test_shelters_of_every_district_named_else_the_largest():
    both = district_shelters("江北和江南都淹了", "zh", limit=10)
    assert both and all(s.split(" · ")[1][:3] in ("江北区", "江南区") for s in both)
    assert any("江北区" in s for s in both) and any("江南区" in s for s in both)
    english = district_shelters("flooding in the high-tech zone", "en")
    assert english and all(s.endswith("Hi-tech Zone") for s in english)
    assert len(district_shelters("地震了", "zh")) == 3


# ----- details -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, place", [
    ("江北区翠湖小区3栋门口", "翠湖小区3栋"), ("我家在翠湖小区", "翠湖小区"), ("高新区创新路1号的电子厂", "创新路1号"),
    ("the light on 12 Renmin Road has been broken", "12 Renmin Road"), ("the bus stop at Renmin Road No. 5", "Renmin Road No. 5"),
    ("路灯坏了", "")])
def test_the_place_a_report_names(text, place):
    assert words.find_place(text) == place


@pytest.mark.parametrize("text, since", [
    ("我们小区路灯坏了一个星期了", "一个星期了"), ("上个月开始", "上个月"), ("昨天晚上", "昨天"),
    ("broken for two weeks", "for two weeks"), ("since last Monday", "since last Monday"), ("没有", "")])
def test_since_when(text, since):
    assert words.find_since(text) == since


def test_details_of_a_first_message():
    assert words.details("江北区翠湖小区的路灯坏了一个星期了") == {"district": "江北区", "address": "翠湖小区",
                                                                   "since": "一个星期了"}
    assert words.details("the bus driver was rude") == {"district": "", "address": "", "since": ""}


@pytest.mark.parametrize("text, address", [
    ("江北区翠湖小区3栋门口", "翠湖小区3栋门口"), ("在人民路12号旁边", "人民路12号旁边"),
    ("Jiangnan District, the Renmin Road bus stop", "the Renmin Road bus stop"),
    ("翠湖小区门口，13800001357", "翠湖小区"), ("the light on 12 Renmin Road has been out for two weeks", "12 Renmin Road"),
    ("江北区", ""), ("Hi-tech Zone", "")])
def test_the_address_in_an_answer_to_where(text, address):
    assert words.address_answer(text) == address


def test_since_when_in_an_answer_is_the_answer_itself_when_it_names_no_time():
    assert words.since_answer("上周开始的") == "上周"
    assert words.since_answer("a long time ago, call 13800001357") == "a long time ago, call 138****1357"


# ----- what the citizen means --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["我上次反映的问题处理得怎么样了", "查询工单进度", "GD2026-00012345处理到哪了",
                                  "what happened to my complaint", "status of my report"])
def test_status_questions(text):
    assert words.status_question(text) and words.speaks_to_the_skill(text)


@pytest.mark.parametrize("text", ["我们小区路灯坏了", "办护照要多少钱", "the street light is broken"])
def test_reports_and_questions_are_no_status_questions(text):
    assert not words.status_question(text) and not words.speaks_to_the_skill(text)


@pytest.mark.parametrize("text, bare", [("我要投诉", True), ("反映个情况。", True), ("I want to report a problem", True),
                                        ("make a suggestion", True), ("我要投诉楼下烧烤店", False), ("complain about noise", False)])
def test_a_bare_request_says_nothing_of_the_problem(text, bare):
    assert words.bare_request(text) is bare
    assert words.speaks_to_the_skill(text) is bare


@pytest.mark.parametrize("text, yes, no", [("确认", True, False), ("确认提交。", True, False), ("yes!", True, False),
                                           ("ok", True, False), ("先不提交", False, True), ("no", False, True),
                                           ("确认一下地址", False, False), ("maybe", False, False)])
def test_yes_and_no_to_the_summary(text, yes, no):
    assert (words.is_yes(text), words.is_no(text)) == (yes, no)


@pytest.mark.parametrize("text, anonymous", [("匿名", True), ("不留了", True), ("rather not", True), ("skip", True),
                                             ("13800001357", False), ("138", False)])
def test_anonymous(text, anonymous):
    assert words.anonymous(text) is anonymous


@pytest.mark.parametrize("text, found", [
    ("地址写错了，是人民路12号", ("address", "人民路12号")), ("时间不对，应该是上周", ("since", "上周")),
    ("电话号码错了", ("phone", "")), ("区写错了，是江南区", ("district", "江南区")),
    ("the address is wrong, it's 5 Binjiang Road", ("address", "5 Binjiang Road")),
    ("路灯坏了", None), ("不对不对", None)])
def test_a_correction_names_the_detail_and_its_new_value(text, found):
    assert words.correction(text) == found


def test_a_corrected_address_is_the_place_else_the_value_else_asked_again():
    assert words.corrected_address("人民路12号", "地址写错了，是人民路12号") == "人民路12号"
    assert words.corrected_address("和平路66号旁边的路口", "") == "和平路66号"
    assert words.corrected_address("the corner by the school", "") == "the corner by the school"
    field, value = words.correction("地址写错了")
    assert field == "address" and words.corrected_address(value, "地址写错了") == ""


def test_the_routers_cue_has_request_words_but_not_everyday_ones():
    cue = re.compile(words.request_cue(), re.I)
    assert cue.search("我要投诉") and cue.search("I want to complain")
    assert not cue.search("帮忙") and not cue.search("help")
    examples = words.routing_examples()
    assert any(re.search(r"[\u4e00-\u9fff]", e) for e in examples) and any(e.isascii() for e in examples)


# ----- the request's slots -----------------------------------------------------------------------


def test_details_fill_only_empty_slots_and_the_phone_is_kept_masked_and_hashed():
    slots = {"district": "江南区"}
    form.take_details(slots, f"江北区翠湖小区的路灯坏了一个星期了，电话{PHONE}", digest)
    assert slots == {"district": "江南区", "address": "翠湖小区", "since": "一个星期了",
                     "phone": "138****1357", "phone_hash": f"hash:{PHONE}"}


def test_an_answer_to_which_phone():
    slots = {}
    assert not form.take_answer(slots, "phone", "138", digest) and slots == {}
    assert form.take_answer(slots, "phone", "anonymous", digest) and slots == {"phone": "", "phone_hash": ""}


def test_an_answer_to_where_and_since_when():
    slots = {}
    assert form.take_answer(slots, "where", "江北区翠湖小区3栋门口", digest)
    assert slots == {"district": "江北区", "address": "翠湖小区3栋门口"}
    assert form.take_answer(slots, "since", "a long while", digest) and slots["since"] == "a long while"


def test_the_next_detail_to_ask_for():
    slots = {"kind": "help", "department": "urban-management"}
    assert form.missing(slots) == "what"
    slots["what"] = "路灯坏了"
    assert form.missing(slots) == "where" and "路灯坏了" in form.question("where", slots, "zh")
    slots["district"] = "江北区"
    assert form.missing(slots) == "address"
    slots.update(address="翠湖小区", since="一周")
    assert form.missing(slots) == "phone"
    slots.update(phone="", phone_hash="")
    assert form.missing(slots) is None, "an anonymous request has all it needs"


def test_the_summary_names_the_district_in_the_citizens_language():
    slots = {"kind": "help", "department": "urban-management", "what": "the street light is out", "district": "高新区",
             "address": "Chuangxin Road", "since": "for a week", "phone": "", "phone_hash": ""}
    english = form.summary(slots, "en")
    assert "Hi-tech Zone Chuangxin Road" in english and "高新区" not in english and "anonymous" in english
    assert "高新区" in form.summary(slots, "zh")


def test_a_correction_replaces_the_detail_or_empties_it():
    slots = {"district": "江南区", "address": "解放路58号", "since": "昨天", "phone": "138****1357", "phone_hash": "h"}
    form.correct(slots, "address", "人民路12号", "地址写错了，是人民路12号", digest)
    form.correct(slots, "since", "上周", "时间不对，应该是上周", digest)
    assert (slots["district"], slots["address"], slots["since"]) == ("江南区", "人民路12号", "上周")
    form.correct(slots, "phone", "", "电话号码错了", digest)
    assert "phone" not in slots and form.missing(slots | {"what": "x"}) == "phone"
