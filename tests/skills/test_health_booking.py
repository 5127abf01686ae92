"""Whole conversations with the health_booking skill, in Chinese and English, on the seed hospitals.

The city's clock is fixed at Tuesday 1 December 2026, 07:00: tomorrow (明天) is Wednesday 2 December,
后天 is Thursday 3 December, this Friday is 4 December and this Saturday (这周六) is 5 December.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from assistant.services import booking
from assistant.services.db import Booking, Conversation, Message, Slot

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ID, OTHER_ID = "11010519491231002X", "440306198506123212"
PHONE, OTHER_PHONE = "13800001234", "13900005678"
CODE = re.compile(r"BK[A-Z0-9]{6}")


@pytest.fixture
def desk(small_assistant, monkeypatch):
    monkeypatch.setattr(small_assistant, "now", lambda: NOW)
    return small_assistant


class Chat:
    """One citizen's session: each call sends a message and returns the reply."""

    def __init__(self, desk):
        self.desk, self.session = desk, None

    def __call__(self, text):
        reply = self.desk.ask(text, session_id=self.session)
        self.session = reply.session_id
        return reply


def bookings(desk) -> list[Booking]:
    with desk.sessions() as db:
        return db.scalars(select(Booking).order_by(Booking.id)).all()


def first_cardiology_wednesday(chat) -> None:
    """Up to the time question: First People's Hospital, cardiology, Wednesday 2 December."""
    reply = chat("帮我约明天第一人民医院心内科")
    assert reply.status == "asking" and reply.data["asks_for"] == "time"
    assert "12月2日（周三）" in reply.text and "马建华" in reply.text and "08:00" in reply.text


def give_patient(chat, name="张伟", resident_id=ID, phone=PHONE):
    assert chat(name).data["asks_for"] == "id"
    assert chat(resident_id).data["asks_for"] == "phone"
    summary = chat(phone)
    assert summary.status == "asking" and summary.data["asks_for"] == "confirm"
    return summary


def book_directly(desk, hospital_id, code, day, start, phone, name="李娜", resident_id=OTHER_ID):
    clinic = next(c for c in booking.clinics(desk.sessions, [code]) if c.hospital_id == hospital_id)
    slot = next(o for o in booking.openings(desk.sessions, clinic.department_id, day, NOW) if o.start == start)
    outcome = booking.book(desk.sessions, slot_id=slot.slot_id, request_key=f"{phone}-{slot.slot_id}",
                           patient_name=name, id_masked=resident_id[:6] + "********" + resident_id[14:],
                           phone_hash=desk.phone_digest(phone), phone_masked=phone[:3] + "****" + phone[7:])
    assert outcome.status == "booked"
    return outcome.appointment


def test_books_in_chinese_after_a_summary_and_an_explicit_yes(desk):
    chat = Chat(desk)
    reply = chat("帮我约明天上午第一人民医院心内科")
    assert reply.status == "asking" and reply.skill == "health_booking" and reply.lang == "zh"
    assert "马建华" in reply.text and "08:00" in reply.text and "13:30" not in reply.text  # the morning only
    assert chat("9点").data["asks_for"] == "name"
    summary = give_patient(chat)
    for shown in ("澄湾市第一人民医院", "江北区", "心内科", "马建华", "12月2日（周三）", "09:00", "20元", "张伟",
                  "110105********002X", "138****1234"):
        assert shown in summary.text
    assert ID not in summary.text and PHONE not in summary.text
    assert not bookings(desk)  # nothing is booked before the yes
    booked = chat("是")
    assert booked.status == "booked" and CODE.search(booked.text).group(0) == booked.data["code"]
    [row] = bookings(desk)
    assert (row.code, row.patient_name, row.id_masked, row.phone_masked) == (booked.data["code"], "张伟",
                                                                             "110105********002X", "138****1234")
    with desk.sessions() as db:
        stored = [m.text for m in db.scalars(select(Message))]
        stored += [str(c.state) for c in db.scalars(select(Conversation))]
    assert not any(ID in text or PHONE in text for text in stored)


def test_one_message_with_every_detail_goes_straight_to_the_summary(desk):
    reply = Chat(desk)(f"帮我约明天第一人民医院心内科上午9点，就诊人王芳，身份证{ID}，手机{PHONE}")
    assert reply.data["asks_for"] == "confirm"
    assert "王芳" in reply.text and "12月2日（周三） 09:00" in reply.text and "138****1234" in reply.text


def test_books_in_english_and_asks_which_doctor_when_two_share_a_time(desk):
    chat = Chat(desk)
    reply = chat("I'd like to book Cardiology at Chengwan First People's Hospital this Friday morning")
    assert reply.status == "asking" and reply.lang == "en" and "Friday 4 December" in reply.text
    assert "Jin Haoran" in reply.text and "Ni Yan" in reply.text
    which = chat("8:00")
    assert which.data["asks_for"] == "time" and "Which doctor" in which.text
    assert chat("Ni Yan").text.startswith("What is the patient's full name")
    summary = give_patient(chat, name="Li Lei")
    assert "Ni Yan" in summary.text and "35 yuan" in summary.text and "Friday 4 December, 08:00" in summary.text
    booked = chat("yes")
    assert booked.status == "booked" and booked.lang == "en" and booked.text.startswith("Booked!")
    assert bookings(desk)[0].patient_name == "Li Lei"


def test_symptoms_get_a_department_suggestion_then_a_booking(desk):
    chat = Chat(desk)
    reply = chat("头疼得厉害挂什么科")
    assert reply.status == "answered" and reply.skill == "health_booking"
    assert reply.data["departments"][0] == "神经内科" and "120" in reply.text
    follow = chat("好的")
    assert follow.data["asks_for"] == "hospital" and "神经内科" in follow.text and "澄湾市中心医院" in follow.text
    english = Chat(desk)("Which department should I see for a headache?")
    assert english.status == "answered" and english.data["departments"][0] == "Neurology"


def test_symptoms_inside_a_booking_request_choose_the_department(desk):
    reply = Chat(desk)("我咳嗽好几天了，帮我挂个号")
    assert reply.data["asks_for"] == "hospital" and "呼吸内科" in reply.text


def test_past_unknown_and_too_distant_dates_are_explained_and_asked_again(desk):
    chat = Chat(desk)
    assert chat("预约第一人民医院心内科").data["asks_for"] == "date"
    past = chat("11月30日")
    assert past.data["asks_for"] == "date" and "已经过去" in past.text and "12月2日（周三）" in past.text
    unknown = chat("下周八")
    assert unknown.data["asks_for"] == "date" and "没看懂这个日期" in unknown.text
    far = chat("12月20日")
    assert far.data["asks_for"] == "date" and "14天内" in far.text and "12月14日" in far.text
    assert chat("明天").data["asks_for"] == "time"


def test_a_day_without_clinic_offers_other_days(desk):
    reply = Chat(desk)("帮我约这周六第一人民医院心内科")
    assert reply.data["asks_for"] == "date"
    assert "12月5日（周六）没有门诊" in reply.text and "12月4日（周五）" in reply.text


def test_a_full_day_offers_other_days_and_hospitals(desk):
    first = next(c for c in booking.clinics(desk.sessions, ["cardiology"]) if c.hospital_id == "cw-first")
    with desk.sessions.begin() as db:
        for slot in db.scalars(select(Slot).where(Slot.department_id == first.department_id, Slot.day == "2026-12-02")):
            slot.booking_code = "BKFULL00"
    reply = Chat(desk)("帮我约明天第一人民医院心内科")
    assert reply.data["asks_for"] == "date" and "约满" in reply.text
    assert "12月3日（周四）" in reply.text and "澄湾市中心医院" in reply.text


def test_the_last_slot_of_the_week_once_taken_sends_the_citizen_to_next_week(desk):
    book_directly(desk, "cw-mch", "genetic-counselling", dt.date(2026, 12, 2), "13:30", OTHER_PHONE)
    chat = Chat(desk)
    reply = chat("预约妇幼保健院遗传咨询门诊明天")
    assert reply.data["asks_for"] == "date" and "约满" in reply.text and "12月9日（周三）" in reply.text
    assert "13:30" in chat("12月9日").text


def test_a_taken_time_is_said_and_the_free_times_listed_again(desk):
    book_directly(desk, "cw-first", "cardiology", dt.date(2026, 12, 2), "09:00", OTHER_PHONE)
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    reply = chat("9点")
    assert reply.data["asks_for"] == "time" and "09:00 没有可约的号" in reply.text
    assert "08:30、09:30" in reply.text  # 09:00 is no longer offered


def test_the_suspended_department_is_explained_and_open_ones_offered(desk):
    chat = Chat(desk)
    reply = chat("我要挂中心医院口腔科")
    assert reply.data["asks_for"] == "hospital" and "暂停门诊" in reply.text
    options = reply.text.split("可以预约口腔科的医院：")[1]
    assert "澄湾市第一人民医院" in options and "澄湾市高新区人民医院" in options and "中心医院" not in options
    assert "澄湾市第一人民医院口腔科" in chat("1").text


def test_invalid_id_and_phone_are_explained_and_asked_again(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    chat("最早的")
    assert chat("王芳").data["asks_for"] == "id"
    wrong_id = chat("110105194912310021")
    assert wrong_id.data["asks_for"] == "id" and "校验没有通过" in wrong_id.text
    assert chat(ID).data["asks_for"] == "phone"
    wrong_phone = chat("1380000123")
    assert wrong_phone.data["asks_for"] == "phone" and "手机号格式不对" in wrong_phone.text
    assert chat(PHONE).data["asks_for"] == "confirm"


def test_changing_to_the_day_after_tomorrow_moves_the_booking(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    chat("9点")
    assert "12月2日（周三） 09:00" in give_patient(chat).text
    moved = chat("换成后天")
    assert moved.data["asks_for"] == "confirm" and "日期改为12月3日（周四）" in moved.text
    assert "12月3日（周四） 09:00" in moved.text and "倪燕" in moved.text  # Thursday mornings are Dr Ni's
    assert chat("确认").status == "booked"
    with desk.sessions() as db:
        assert db.get(Slot, bookings(desk)[0].slot_id).day == "2026-12-03"


def test_suanle_stops_the_flow_without_booking(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    stopped = chat("算了")
    assert stopped.status == "cancelled" and "没有为您办理" in stopped.text
    assert chat("9点").data.get("asks_for") != "name" and not bookings(desk)


def test_no_at_the_summary_books_nothing(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    chat("9点")
    give_patient(chat)
    assert chat("不").status == "cancelled" and not bookings(desk)


def test_an_emergency_during_a_booking_is_answered_and_the_booking_continues(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    emergency = chat("我爸突然晕倒了，叫不醒")
    assert emergency.status == "emergency" and "120" in emergency.text
    assert chat("9点").data["asks_for"] == "name"


def test_a_guide_question_during_a_booking_is_answered_and_the_booking_continues(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    aside = chat("对了，办护照要多少钱？")
    assert aside.status == "answered" and "120元" in aside.text and aside.citations
    assert chat("9点").data["asks_for"] == "name"


@pytest.mark.parametrize("text", ["医院挂号最多能提前几天约？", "挂主任医师的号挂号费多少钱",
                                  "How many days ahead can I book a hospital appointment?"])
def test_a_question_about_booking_rules_goes_to_the_guides_not_into_a_booking(desk, text):
    reply = desk.ask(text)
    assert reply.skill == "guide_qa" and reply.status != "asking"


def test_a_booking_request_in_one_english_sentence_is_not_taken_for_a_question(desk):
    reply = desk.ask("Book cardiology at the First People's Hospital tomorrow, earliest slot")
    assert reply.skill == "health_booking" and reply.status == "asking"


def test_yes_twice_books_once_even_when_the_confirmation_is_replayed(desk):
    chat = Chat(desk)
    first_cardiology_wednesday(chat)
    chat("9点")
    give_patient(chat)
    with desk.sessions() as db:
        before_yes = dict(db.get(Conversation, chat.session).state)
    first = chat("是")
    assert first.status == "booked"
    assert chat("是").status != "booked"
    with desk.sessions.begin() as db:  # a client retrying the confirmation with the state it had before
        db.get(Conversation, chat.session).state = before_yes
    replayed = chat("是")
    assert replayed.status == "booked" and replayed.data["code"] == first.data["code"]
    assert len(bookings(desk)) == 1


def test_the_same_request_again_in_a_new_session_does_not_book_twice(desk):
    first = Chat(desk)(f"帮我约明天第一人民医院心内科上午9点，就诊人王芳，身份证{ID}，手机{PHONE}")
    code = desk.ask("是", session_id=first.session_id).data["code"]
    again = Chat(desk)
    again(f"帮我约明天第一人民医院心内科10点，就诊人王芳，身份证{ID}，手机{PHONE}")
    refused = again("是")
    assert refused.status == "answered" and "已经有预约" in refused.text and code in refused.text
    assert len(bookings(desk)) == 1


def test_cancel_needs_the_right_code_and_phone_and_frees_the_slot(desk):
    made = book_directly(desk, "cw-first", "cardiology", dt.date(2026, 12, 2), "09:00", PHONE)
    chat = Chat(desk)
    assert chat(f"取消预约 {made.code}").data["asks_for"] == "phone"
    wrong_phone = chat(OTHER_PHONE)
    assert wrong_phone.status == "answered"
    wrong_code = Chat(desk)
    wrong_code("我要取消预约")
    wrong_code("BK2222ZZ")
    assert wrong_code(PHONE).text == wrong_phone.text  # the same reply: codes cannot be probed
    assert chat(f"取消预约 {made.code}").data["asks_for"] == "phone"
    confirm = chat(PHONE)
    assert confirm.data["asks_for"] == "confirm" and made.code in confirm.text and "09:00" in confirm.text
    assert bookings(desk)[0].status == "booked"
    done = chat("确认")
    assert done.status == "cancelled" and made.code in done.text
    assert bookings(desk)[0].status == "cancelled"
    free = booking.openings(desk.sessions, made.clinic.department_id, dt.date(2026, 12, 2), NOW)
    assert "09:00" in [o.start for o in free if o.doctor["zh"] == "马建华"]


def test_my_bookings_lists_only_the_bookings_of_that_phone(desk):
    mine = book_directly(desk, "cw-first", "cardiology", dt.date(2026, 12, 2), "09:00", PHONE, name="张伟")
    theirs = book_directly(desk, "cw-first", "cardiology", dt.date(2026, 12, 2), "09:30", OTHER_PHONE, name="李娜",
                           resident_id=ID)
    chat = Chat(desk)
    assert chat("show my bookings").data["asks_for"] == "phone"
    listed = chat(PHONE)
    assert listed.status == "answered" and listed.lang == "en" and listed.data["count"] == 1
    assert mine.code in listed.text and "张伟" in listed.text
    assert theirs.code not in listed.text and "李娜" not in listed.text
    nobody = Chat(desk)("查一下我的预约 13700000000")
    assert nobody.status == "answered" and nobody.data["count"] == 0 and "没有有效的预约" in nobody.text


@pytest.mark.parametrize("now", [NOW, dt.datetime(2027, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))])
@pytest.mark.parametrize("lang, ask, example", [("zh", "帮我约第一人民医院心内科", re.compile(r"“(\d+月\d+日)”")),
                                               ("en", "Book Cardiology at Chengwan First People's Hospital",
                                                re.compile(r'or "(\d+ [A-Z][a-z]+)"'))])
def test_the_example_date_in_the_date_question_is_never_in_the_past(small_assistant, monkeypatch, now, lang, ask,
                                                                    example):
    from assistant.core.dates import parse_date
    from assistant.services.seeds import BOOKING_DAYS

    monkeypatch.setattr(small_assistant, "now", lambda: now)
    reply = small_assistant.ask(ask, lang=lang)
    assert reply.data["asks_for"] == "date", reply.text
    shown = example.search(reply.text).group(1)
    assert now.date() < parse_date(shown, now.date()) <= now.date() + dt.timedelta(days=BOOKING_DAYS - 1)


def test_cancelling_in_the_chat_that_booked_asks_for_nothing_again(desk):
    chat = Chat(desk)
    assert chat(f"帮我约明天第一人民医院心内科上午9点，就诊人王芳，身份证{ID}，手机{PHONE}").data["asks_for"] == "confirm"
    made = chat("确认")
    assert made.status == "booked"
    confirm = chat("我要取消刚才的预约")
    assert confirm.data["asks_for"] == "confirm" and made.data["code"] in confirm.text
    assert chat("确认").status == "cancelled" and bookings(desk)[0].status == "cancelled"
    other = Chat(desk)  # another chat still needs the code and the phone
    assert other("我要取消预约").data["asks_for"] == "code"
