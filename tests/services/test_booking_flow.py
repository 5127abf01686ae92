"""The booking conversation's helpers on plain values (no database, no turn): what a message asks for,
yes and no, the details it gives, how a changed detail clears what hung on it, what to ask next, and
what is shown. Chinese and English; the city's clock is Tuesday 1 December 2026, 07:00."""

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from assistant.services import booking_details, booking_flow, booking_questions
from assistant.services.booking import Appointment, Clinic, Opening
from assistant.services.booking_questions import Question

NOW = dt.datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WEDNESDAY = dt.date(2026, 12, 2)
ID, PHONE = "11010519491231002X", "13800001234"
CARDIOLOGY = Clinic(7, "cardiology", {"zh": "心血管内科", "en": "Cardiology"}, None, "cw-first",
                    {"zh": "澄湾市第一人民医院", "en": "Chengwan First People's Hospital"}, {"zh": "中山区", "en": "Zhongshan"})
MA = ("d1", {"zh": "马建华", "en": "Ma Jianhua"}, {"zh": "主任医师", "en": "Chief Physician"}, 50)
NI = ("d2", {"zh": "倪燕", "en": "Ni Yan"}, {"zh": "副主任医师", "en": "Associate Chief Physician"}, 30)


def opening(slot_id: int, start: str, doctor=MA) -> Opening:
    return Opening(slot_id, WEDNESDAY.isoformat(), start, *doctor)


FREE = [opening(1, "08:00"), opening(2, "08:00", NI), opening(3, "09:30"), opening(4, "14:00", NI)]


def digest(phone: str) -> str:
    return hashlib.sha256(phone.encode()).hexdigest()


@pytest.mark.parametrize("text, mode", [
    ("帮我预约心内科", "book"), ("取消我的预约", "cancel"), ("查一下我的预约", "list"), ("头疼挂什么科", "suggest"),
    ("book cardiology tomorrow morning", "book"), ("I want to cancel my booking", "cancel"),
    ("show my bookings", "list"), ("which department should I see for a headache", "suggest"),
    ("头疼挂什么科，帮我预约", "book"),  # a question that also asks to book is a booking
])
def test_mode_of_a_message(text, mode):
    assert booking_flow.mode(text) == mode


@pytest.mark.parametrize("text, answer", [
    ("是的", "yes"), ("确认预约！", "yes"), ("Yes please", "yes"), ("ok", "yes"), ("不了，谢谢", "no"),
    ("No thanks", "no"), ("明天吧", "unclear"), ("maybe later", "unclear"), ("。。。", ""), ("", ""),
])
def test_yes_or_no(text, answer):
    assert booking_flow.yes_or_no(text) == answer


def test_questions_for_the_guides():
    assert booking_flow.for_the_guides("挂号费多少钱", fresh=True)
    assert booking_flow.for_the_guides("how many days ahead can I book?", fresh=True)
    assert not booking_flow.for_the_guides("帮我约明天的心内科，最多能提前几天？", fresh=True)  # a request to book
    assert booking_flow.for_the_guides("对了，办护照要多少钱？", fresh=False)  # an aside in the middle
    assert not booking_flow.for_the_guides("对了，帮我改到后天", fresh=False)  # not a question
    assert not booking_flow.for_the_guides("BK7Q2M9X 能不能取消", fresh=True)


def test_a_changed_detail_clears_what_depended_on_it():
    s = {"codes": ["cardiology"], "doctor": "d1", "offer": [{}], "period": "morning", "time": "08:00", "slot": 1,
         "request": "r"}
    booking_flow.set_detail(s, "codes", ["cardiology"])  # the same value: nothing goes
    assert s["slot"] == 1 and s["doctor"] == "d1"
    booking_flow.set_detail(s, "period", "afternoon")
    assert s == {"codes": ["cardiology"], "doctor": "d1", "offer": [{}], "period": "afternoon"}
    booking_flow.set_detail(s, "codes", ["ent"])
    assert s == {"codes": ["ent"], "period": "afternoon"}


def test_too_late_to_cancel_is_two_hours_before():
    def at(start):
        return Appointment("BK7Q2M9X", "booked", "2026-12-01", start, CARDIOLOGY, *MA[1:], "张伟", "", "")
    assert booking_flow.too_late_to_cancel(at("08:59"), NOW)
    assert not booking_flow.too_late_to_cancel(at("09:00"), NOW)


def test_what_a_citizen_reads():
    assert booking_flow.where(CARDIOLOGY, "zh") == {"hospital": "澄湾市第一人民医院", "district": "中山区",
                                                    "department": "心血管内科"}
    made = Appointment("BK7Q2M9X", "booked", "2026-12-02", "08:00", CARDIOLOGY, *MA[1:], "Li Lei", "", "")
    shown = booking_flow.shown(made, "en")
    assert shown["day"] == "Wednesday 2 December" and shown["doctor"] == "Ma Jianhua" and shown["fee"] == 50
    assert booking_flow.doctor_groups(FREE, "zh") == [
        {"doctor": "马建华", "title": "主任医师", "fee": 50, "times": ["08:00", "09:30"]},
        {"doctor": "倪燕", "title": "副主任医师", "fee": 30, "times": ["08:00", "14:00"]}]
    [group] = booking_flow.suggestion_groups([("headache", [CARDIOLOGY], (True, 8))], "en")
    assert group["department"] == "Cardiology" and group["hospitals"][0]["district"] == "Zhongshan"


def test_identity_is_kept_masked_and_hashed():
    s, notes = {}, []
    rest = booking_details.identity(s, f"身份证{ID}，手机{PHONE}", None, "zh", digest, notes)
    assert s == {"id_masked": "110105********002X", "phone_hash": digest(PHONE), "phone_masked": "138****1234"}
    assert ID not in rest and PHONE not in rest and notes == []
    booking_details.identity({}, "110105194912310021", "id", "en", digest, notes)  # a wrong check digit
    booking_details.identity({}, "12345", "phone", "zh", digest, notes)
    assert notes[0].startswith("That resident ID number did not pass the check") and notes[1].startswith("手机号格式不对")


def test_date_and_time_in_chinese_and_english():
    s, notes = {"day": "2026-12-02", "slot": 3, "request": "r"}, []
    day, when = booking_details.take_date_and_time(s, "改到后天下午3点", NOW.date(), "zh", False, notes)
    assert day == dt.date(2026, 12, 3) and when.clock == "15:00"
    assert s == {"day": "2026-12-03", "time": "15:00"} and notes == ["好的，日期改为12月3日（周四）。"]
    s = {"time": "08:00"}
    booking_details.take_date_and_time(s, "Friday afternoon", NOW.date(), "en", False, notes)
    assert s == {"day": "2026-12-04", "period": "afternoon"}  # a new period drops the time chosen before
    s = {}
    assert booking_details.take_date_and_time(s, "tomorrow at 9:30", NOW.date(), "en", True, notes)[1] is None
    assert s == {"day": "2026-12-02"}  # "another time": the time given is not taken


def test_the_patient_name_when_asked_for_it():
    s, notes = {}, []
    assert booking_details.absorb(None, s, "我叫张伟", awaiting="name", today=NOW.date(), lang="zh", digest=digest,
                                  notes=notes)
    assert s == {"name": "张伟"} and notes == []
    assert booking_details.absorb(None, s, "My name is Li Lei", awaiting="name", today=NOW.date(), lang="en",
                                  digest=digest, notes=notes)
    assert s["name"] == "Li Lei"
    assert not booking_details.absorb(None, s, "你好吗", awaiting="name", today=NOW.date(), lang="zh", digest=digest,
                                      notes=notes)
    assert s["name"] == "Li Lei" and notes == ["姓名好像不太对，请只输入就诊人的姓名（中文2-6个字，或英文姓名）。"]


def test_a_cancel_request_takes_the_code_and_phone():
    s, notes = {}, []
    assert booking_details.cancel_request(s, f"取消 bk7q2m9x，手机{PHONE}", None, None, "zh", digest, notes) == ""
    assert s["code"] == "BK7Q2M9X" and s["phone_hash"] == digest(PHONE) and notes == []
    assert booking_details.cancel_request(s, "yes", "confirm", None, "en", digest, notes) == "yes"
    assert booking_details.cancel_request(s, "不用了", "confirm", None, "zh", digest, notes) == "no"
    assert booking_details.cancel_request(s, "嗯……再说", "confirm", None, "zh", digest, notes) == ""
    assert notes == ["抱歉，我没确定您的意思。"]
    made_here = {"code": "BKAAAAAA", "phone_hash": "h"}
    s = {}
    booking_details.cancel_request(s, "取消刚才的预约", None, made_here, "zh", digest, notes)
    assert s == made_here  # the booking this chat made, without asking for its code or phone again
    booking_details.cancel_request(s := {}, "it's BK12", "code", None, "en", digest, notes)
    assert "code" not in s and notes[-1].startswith("I could not find a booking code")


def test_without_a_department_the_department_is_asked_first():
    notes = []
    assert booking_questions.next_question(None, {"offer": [{"codes": ["ent"]}]}, NOW, "zh", notes) == \
        Question("department", values={"offer": [{"codes": ["ent"]}]})
    assert notes == []


def test_choosing_a_slot_by_time_and_doctor():
    s, notes = {"time": "08:00"}, []
    asked = booking_questions.choose_slot(s, CARDIOLOGY, WEDNESDAY, FREE, "zh", notes)
    assert asked.slot == "time" and asked.template == "ask_doctor"  # two doctors at 08:00
    assert [g["doctor"] for g in asked.values["groups"]] == ["马建华", "倪燕"]
    s["doctor"] = "d2"
    assert booking_questions.choose_slot(s, CARDIOLOGY, WEDNESDAY, FREE, "zh", notes) == Question("name")
    assert s["slot"] == 2 and s["time"] == "08:00"


def test_choosing_a_slot_notes_what_cannot_be_had():
    s, notes = {"period": "afternoon", "time": "10:00"}, []
    asked = booking_questions.choose_slot(s, CARDIOLOGY, WEDNESDAY, FREE[:3], "en", notes)
    assert asked == Question("time", values={**booking_flow.where(CARDIOLOGY, "en"), "day": "Wednesday 2 December",
                                             "groups": booking_flow.doctor_groups(FREE[:3], "en")})
    assert notes[0].startswith("There are no free slots in the afternoon") and "period" not in s
    assert notes[1] == "There is no free slot at 10:00." and "time" not in s
    s, notes = {"time": "11:00", "earliest": True}, []
    assert booking_questions.choose_slot(s, CARDIOLOGY, WEDNESDAY, FREE, "zh", notes) == Question("name")
    assert notes == ["11:00 没有可约的号。"] and s["slot"] == 1  # "最早的": the first free slot


def test_with_everything_given_the_summary_is_asked_for():
    s = {"slot": 4, "name": "Li Lei", "id_masked": "110105********002X", "phone_hash": "h", "phone_masked": "138****1234"}
    asked = booking_questions.choose_slot(s, CARDIOLOGY, WEDNESDAY, FREE, "en", [])
    assert asked.slot == "confirm" and asked.values["doctor"] == "Ni Yan" and asked.values["time"] == "14:00"
    assert len(s["request"]) == 16  # a fresh request key, kept until the slot changes
    request = s["request"]
    booking_questions.choose_slot(s, CARDIOLOGY, WEDNESDAY, FREE, "en", [])
    assert s["request"] == request
