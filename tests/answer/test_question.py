"""What a question asks: aspects, situations, stated values, yes/no, several questions in one message."""

import pytest

from assistant.answer.question import analyze, identifiers, needed, split_questions, to_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("question, aspect", [
    ("90岁老人高龄津贴一个月多少钱", "amount"), ("办护照要多少钱", "fees"), ("要带什么材料", "materials"),
    ("几天能拿到", "time"), ("在哪里办", "where"), ("咨询电话是多少", "contact"), ("新生儿出生后要办哪些事", "list"),
    ("How much does a passport cost?", "fees"), ("What documents do I need?", "materials"),
    ("How long does it take?", "time"), ("高龄津贴明年会不会涨", "future"),
    # "哪些 / 哪几" ask for an enumeration; what they enumerate, when it has its own aspect, wins
    ("家里困难的学生能申请哪些资助项目", "list"), ("出生一件事能把哪几件事一起办了？", "list"),
    ("办居住证需要准备哪些材料", "materials")])
def test_the_main_aspect(question, aspect):
    assert analyze(question).aspect == aspect


def test_an_english_cue_is_a_whole_word():
    assert "where" not in analyze("What deed tax rate applies?").aspects  # "app" is not in "applies"


@pytest.mark.parametrize("question, situation", [("护照丢了怎么办", "lost"), ("驾照快到期了", "renew"),
                                                 ("How do I renew my driving licence?", "renew"),
                                                 ("营业执照要注销", "cancel"), ("户口本上名字写错了", "change")])
def test_the_situation(question, situation):
    assert situation in analyze(question).situations


@pytest.mark.parametrize("question, values", [("我今年65岁，能领高龄津贴吗？", [("age", 65)]),
                                              ("社保交了10年能按月领养老金吗", [("years", 10)]),
                                              ("公积金才交了4个月", [("months", 4)]),
                                              ("I'm 65, can I get the allowance?", [("age", 65)]),
                                              ("我爸八十五岁了", [("age", 85)])])
def test_values_the_citizen_states(question, values):
    assert analyze(question).values == values


def test_yes_no_questions():
    assert analyze("外地户口可以吗").yesno and analyze("Can I apply online?").yesno
    assert not analyze("办护照要多少钱").yesno


def test_several_questions_in_one_message_are_split_in_order():
    assert split_questions("临时身份证多少钱？几天能拿") == ["临时身份证多少钱？", "几天能拿"]
    assert split_questions("我爸85岁了高龄津贴怎么领，另外家里请人做保洁有补贴吗") == \
        ["我爸85岁了高龄津贴怎么领", "家里请人做保洁有补贴吗"]
    # a sentence that asks nothing stays with the question before it
    assert split_questions("Is my licence ready? Application CW2026-DL-0003205, phone 13900000475") == \
        ["Is my licence ready?Application CW2026-DL-0003205, phone 13900000475"]
    assert split_questions("里面还有两百多，钱还能拿回来吗") == ["里面还有两百多，钱还能拿回来吗"]
    # an English question clause after "and" is a question of its own; "and" inside one question is not
    assert split_questions("How much is a metro ticket, and what time does the last train leave?") == \
        ["How much is a metro ticket", "what time does the last train leave?"]
    assert split_questions("Can I apply online and is it free?") == ["Can I apply online", "is it free?"]
    for whole in ["Where and when do I apply?", "What documents and photos do I need?",
                  "I am 65 and my wife is 60, can we get the senior card?"]:
        assert split_questions(whole) == [whole]


def test_what_an_answer_must_state():
    [pattern] = needed(analyze("办护照要多少钱"))
    assert pattern.search("每本120元") and pattern.search("免费") and not pattern.search("携带身份证")
    assert needed(analyze("护照是什么")) == []
    [future] = needed(analyze("高龄津贴明年会不会涨？涨多少"))  # the future must be answered, whatever else
    assert not future.search("80—89周岁：100元")
    # a count of working days is how long something takes, not when a place is open
    [hours] = needed(analyze("地铁末班车几点"))
    assert hours.search("工作日 6:30—23:00") and hours.search("法定节假日照常运营")
    assert not hours.search("7个工作日内办结") and not hours.search("十五个工作日")
    # the emergency numbers are phone numbers; an amount of 120 yuan is not
    [phone] = needed(analyze("交通事故报警打什么电话"))
    assert phone.search("4. **122**：道路交通事故；") and phone.search("拨打110") and not phone.search("每本120元")


def test_identifiers_and_numbers():
    assert identifiers("澄湾地铁5号线什么时候开通") == ["5号线"]
    assert identifiers("When does Metro Line 5 open?") == ["line5"]
    assert to_number("六十五") == 65 and to_number("十二") == 12 and to_number("80") == 80
