import pytest

from assistant.answer.question import analyze

QUESTIONS = [("办护照要带什么材料", "materials"), ("护照多少钱", "fees"), ("要等几天才能拿到", "time"),
             ("在哪里办", "where"), ("咨询电话是多少", "contact"), ("谁可以申请", "eligibility"),
             ("怎么申请居住证", "how"), ("What documents do I need?", "materials"), ("How much is it?", "fees"),
             ("How long does it take?", "time"), ("Where do I apply?", "where"), ("Which types of card are there?", "list"),
             ("护照是什么", None)]


@pytest.mark.unit
@pytest.mark.parametrize("question, aspect", QUESTIONS)
def test_aspect_detection(question, aspect):
    assert analyze(question).aspect == aspect


@pytest.mark.integration
def test_quotes_the_section_that_was_asked_about(small_assistant):
    fees = small_assistant.ask("办护照收多少钱")
    assert fees.status == "answered" and "120元" in fees.text and "身份证" not in fees.text
    assert fees.citations[0].doc == "permits/passport.md" and fees.citations[0].section == "收费标准"
    materials = small_assistant.ask("护照需要准备什么材料")
    assert "居民身份证原件" in materials.text and "120元" not in materials.text
    assert "[1]" in materials.text and materials.citations[0].section == "所需材料"
    assert materials.citations[0].source_url == "https://www.chengwan.gov.example/permits/passport"


@pytest.mark.integration
def test_english_question_is_answered_in_english(small_assistant):
    reply = small_assistant.ask("How much does a passport cost?")
    assert reply.lang == "en" and reply.citations[0].doc == "permits/passport.en.md"
    assert "120 yuan" in reply.text and reply.text.startswith("From")


@pytest.mark.integration
def test_english_question_from_a_chinese_guide_says_the_source_is_chinese(small_assistant):
    reply = small_assistant.ask("marriage registration documents")
    assert reply.citations[0].doc == "civil_affairs/marriage.md"
    assert "source guide is in Chinese" in reply.text and "居民户口簿" in reply.text


@pytest.mark.integration
@pytest.mark.parametrize("question, lang", [("明天天气怎么样", "zh"), ("What is the capital of France?", "en")])
def test_nothing_relevant_is_said_plainly_with_12345_and_a_person(small_assistant, question, lang):
    reply = small_assistant.ask(question)
    assert reply.status == "refused" and reply.citations == [] and "12345" in reply.text
    assert ("转人工" in reply.text) if lang == "zh" else ("talk to a person" in reply.text)
    assert reply.data["refusal"] in {"out_of_scope", "nothing_retrieved"}


@pytest.mark.integration
def test_a_refusal_says_why_in_its_data(small_assistant):
    reply = small_assistant.ask("How much is a passport in Shanghai?")  # the guide is Chengwan's
    assert reply.status == "refused" and reply.data["refusal"] == "elsewhere:上海"


@pytest.mark.integration
@pytest.mark.parametrize("message", ["", "   ", "字" * 2001, "abc\x00\x01\x02\x03def"])
def test_bad_input_gets_a_clear_reply_not_an_exception(small_assistant, message):
    reply = small_assistant.ask(message)
    assert reply.status == "rejected" and reply.text


@pytest.mark.integration
def test_turns_are_stored_masked_in_the_session(small_assistant):
    reply = small_assistant.ask("我的身份证11010519491231002X丢了，手机13912345678，怎么补办护照")
    history = small_assistant.history(reply.session_id)
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "11010519491231002X" not in history[0]["text"] and "13912345678" not in history[0]["text"]
    assert history[1]["status"] == reply.status
    again = small_assistant.ask("护照多少钱", session_id=reply.session_id)
    assert again.session_id == reply.session_id and len(small_assistant.history(reply.session_id)) == 4


def test_an_english_list_counts_its_length_as_the_same_list_in_chinese():
    """The block limits are in Chinese characters; the English guides say the same in about 3.2 times as
    many characters, so a list of English card types is not cut where the Chinese one would be kept whole."""
    from assistant.answer.extractive import MAX_BLOCK_CHARS, length

    zh = "学生卡：凭学生证办理，乘车五折。" * 20
    en = "Student card: apply with a student ID; rides at half price. " * 20
    assert length(zh) == len(zh) and length(en) < MAX_BLOCK_CHARS < len(en)
