"""Answer units: a section cut into sentences, list items under their lead-in, table rows; quoted back."""

import pytest

from assistant.core.units import blocks, render, units

pytestmark = pytest.mark.unit

SECTION = """高龄津贴按月发放。标准如下：
1. 80—89周岁：100元；
2. 90—99周岁：300元；
   - 含补发月份
3. 100周岁及以上：800元。

| 预警 | 停课 |
|---|---|
| 黄色 | 不停课 |
| 橙色 | 停课 |"""


def test_a_section_is_read_as_paragraph_list_and_table_blocks():
    kinds = [(b.kind, len(b.units)) for b in blocks(SECTION)]
    assert kinds == [("para", 1), ("list", 3), ("table", 2)]
    assert blocks(SECTION)[1].lead == "标准如下："  # the line that introduces the list stays with it
    assert "含补发月份" in blocks(SECTION)[1].units[1]  # a sub-item belongs to its item


def test_units_know_their_section_block_and_kind():
    found = units("事项简介", SECTION)
    assert {u.kind for u in found} == {"sentence", "item", "row"}
    assert all(u.section == "事项简介" for u in found)


def test_a_list_quoted_in_part_keeps_its_lead_and_numbering_and_says_what_is_left_out():
    text = render(SECTION, {(1, 1)}, "zh")
    assert text.splitlines()[0] == "标准如下："
    assert text.splitlines()[1].startswith("2. 90—99周岁：300元")
    assert "另有2项" in text
    assert "(2 more items in the guide)" in render(SECTION, {(1, 1)}, "en")


def test_a_whole_list_says_nothing_is_left_out():
    assert "另有" not in render(SECTION, {(1, 0), (1, 1), (1, 2)}, "zh")


def test_table_rows_are_quoted_with_their_headers_not_raw_pipes():
    text = render(SECTION, {(2, 1)}, "zh")
    assert text == "预警：橙色；停课：停课" and "|" not in text


def test_english_sentences_are_units_too():
    found = units("Fees", "A passport costs 120 yuan. Photos are free. Postage is extra.")
    assert [u.text for u in found] == ["A passport costs 120 yuan.", "Photos are free.", "Postage is extra."]


def test_a_lead_in_before_a_blank_line_stays_with_its_list_and_english_with_chinese_names_is_split():
    text = ("Chengwan Tong (澄湾通) is issued by Chengwan Tong Card Services Co., Ltd. It is used on buses. "
            "There are the following types:\n\n1. **Ordinary card**: anyone can buy it;\n2. **Student card**: free.")
    para, listed = blocks(text)
    assert para.units == ("Chengwan Tong (澄湾通) is issued by Chengwan Tong Card Services Co., Ltd.",
                          "It is used on buses.")
    assert listed.lead == "There are the following types:" and len(listed.units) == 2
    assert render(text, {(1, 0)}, "en").splitlines()[0] == "There are the following types:"
