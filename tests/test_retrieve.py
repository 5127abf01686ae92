import pytest

from assistant.retrieve import Fusion, fuse

DENSE = [("a", 0.9), ("b", 0.85), ("c", 0.8)]
LEXICAL = [("c", 12.0), ("d", 5.0)]


@pytest.mark.unit
def test_dense_and_bm25_alone():
    assert fuse(DENSE, LEXICAL, Fusion("dense")) == DENSE
    assert fuse(DENSE, LEXICAL, Fusion("bm25")) == LEXICAL


@pytest.mark.unit
def test_rrf_weight_moves_lexical_hits():
    lexical_only_d = [("d", 9.0)]
    light = [i for i, _ in fuse(DENSE, lexical_only_d, Fusion("rrf", 0.3))]
    heavy = [i for i, _ in fuse(DENSE, lexical_only_d, Fusion("rrf", 2.0))]
    assert light == ["a", "b", "c", "d"] and heavy[0] == "d"
    assert [i for i, _ in fuse(DENSE, LEXICAL, Fusion("rrf", 1.0))][0] == "c"


@pytest.mark.unit
def test_score_fusion_and_unknown_method():
    assert fuse(DENSE, LEXICAL, Fusion("score", 0.5))[0][0] in {"a", "c"}
    with pytest.raises(ValueError):
        fuse(DENSE, LEXICAL, Fusion("magic"))


@pytest.mark.integration
def test_retrieve_finds_the_right_section_and_filters_domains(small_assistant):
    hits = small_assistant.retrieve("办护照要带什么材料", k=3)
    assert hits[0].doc == "permits/passport.md" and hits[0].section == "所需材料"
    assert all(h.doc.startswith("civil_affairs/") for h in small_assistant.retrieve("材料", k=3, domain="civil_affairs"))


@pytest.mark.integration
def test_relevance_threshold_separates_in_and_out_of_scope(small_assistant):
    retriever = small_assistant.retriever
    assert retriever.relevant(small_assistant.retrieve("护照收费多少钱", k=3))
    assert not retriever.relevant(small_assistant.retrieve("what is the capital of France", k=3), "en")
    assert not retriever.relevant(small_assistant.retrieve("明天天气怎么样", k=3), "zh")
