import pytest

from assistant.search.lexical import LexicalIndex, tokenize

pytestmark = pytest.mark.unit


def test_tokenize_chinese_and_english():
    assert "护照" in tokenize("办理护照需要什么材料？")
    assert "的" not in tokenize("我的护照")
    assert tokenize("Passport FEES!") == ["passport", "fees"]


def test_search_ranks_filters_by_domain_and_survives_save_load(tmp_path):
    index = LexicalIndex.build(["a", "b", "c"], ["护照 收费 120元", "结婚登记 免费", "护照 遗失 补办"],
                               ["permits", "civil", "permits"])
    assert index.search("护照收费", k=2)[0][0] == "a"
    assert [i for i, _ in index.search("护照", k=5, domains=["civil"])] == []
    index.save(tmp_path / "lex")
    again = LexicalIndex.load(tmp_path / "lex")
    assert again.search("结婚", k=1)[0][0] == "b"


def test_empty_index_and_empty_query():
    empty = LexicalIndex.build([], [], [])
    assert empty.search("护照", k=3) == []
    assert LexicalIndex.build(["a"], ["护照"], ["p"]).search("？？", k=3) == []
