"""The guides' wording: the share of a question's word weight that a guide uses, words that citizens'
questions rarely use weighing most, read again when the index changes."""

import pytest

from assistant.knowledge.wording import GuideWording, terms

pytestmark = pytest.mark.unit


class _Chunk:
    def __init__(self, title, lang):
        self.title, self.title_en, self.tags_en, self.lang = title, "", "", lang


class _Index:
    """What GuideWording reads of an index: each guide's first chunk and sections, and its stamp."""

    def __init__(self, guides):
        self.guides, self.stamped = guides, 1.0

    def stamp(self):
        return self.stamped

    def chunks_of(self, doc):
        return [_Chunk(self.guides[doc][0], "en" if doc.endswith(".en.md") else "zh")]

    def sections_of(self, doc):
        return [("办理流程", self.guides[doc][1])]


GUIDES = {"passport.md": ("普通护照申领", "护照遗失的，先挂失再补发，收费120元。"),
          "id.md": ("居民身份证", "身份证丢失的，到派出所补领，收费20元。"),
          "metro.md": ("地铁乘车", "地铁票价2元起，收费按里程计。")}


QUESTIONS = ["护照收费多少", "身份证收费多少", "地铁收费多少", "护照丢了怎么办", "How much does it cost?",
             "How much is the metro?"]


def test_a_word_citizens_rarely_ask_with_counts_more_than_a_common_one():
    wording = GuideWording(index=_Index(GUIDES), questions=QUESTIONS)
    assert wording.coverage("护照丢了要补发", "passport.md") > wording.coverage("护照丢了要补发", "metro.md")
    assert wording.coverage("护照收费", "passport.md") == pytest.approx(1.0)
    # "收费" is in nearly every question: without it, "钓鱼证" (in no guide) is nearly all the weight
    assert wording.coverage("钓鱼证收费", "metro.md") < 0.3
    # "how much" and "cost" weigh little, so a guide about the thing asked covers most of the question
    english = GuideWording(index=_Index({"passport.en.md": ("Passport", "A passport is 120 yuan.")}),
                           questions=QUESTIONS)
    assert english.coverage("How much does a passport cost?", "passport.en.md") > 0.5


def test_numbers_the_citizen_states_are_not_words_of_the_question():
    wording = GuideWording(index=_Index(GUIDES), questions=QUESTIONS)
    assert wording.coverage("护照收费，13800001234", "passport.md") == pytest.approx(1.0)
    assert wording.coverage("护照收费 CW2026-0001", "passport.md") == pytest.approx(1.0)


def test_english_words_are_not_checked_in_a_chinese_guide_without_an_english_name():
    wording = GuideWording(index=_Index(GUIDES), questions=QUESTIONS)
    assert wording.coverage("How much is a passport?", "passport.md") == 1.0
    assert wording.coverage("passport 收费", "passport.md") == pytest.approx(1.0)  # 收费 is checked, and there


def test_the_wording_is_read_again_after_an_ingestion():
    index = _Index(dict(GUIDES))
    wording = GuideWording(index=index, questions=QUESTIONS)
    assert wording.coverage("公交卡", "metro.md") < 0.5
    index.guides["metro.md"] = ("地铁乘车", "可以刷公交卡乘车。")
    index.stamped = 2.0
    assert wording.coverage("公交卡", "metro.md") == pytest.approx(1.0)


def test_terms_are_chinese_bigrams_and_english_words():
    assert terms("护照费 Passport fees") == ["护照", "照费", "passport", "fee"]
