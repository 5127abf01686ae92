import pytest

import numpy as np

from assistant.knowledge.retrieve import Fusion, TitleVectors, by_guide, fuse

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


@pytest.mark.unit
def test_a_guide_whose_title_names_the_subject_comes_before_a_look_alike_passage():
    """"外地人怎么申请居住证": a no-criminal-record FAQ that mentions the residence permit scores a little
    higher than the residence permit guide's own passage; the title decides which guide leads."""
    ranked = [("crc-faq", 1.00), ("rp-step", 0.95), ("crc-who", 0.40), ("rp-who", 0.40)]
    docs = {"crc-faq": "permits/no-criminal-record.md", "crc-who": "permits/no-criminal-record.md",
            "rp-step": "permits/residence-permit.md", "rp-who": "permits/residence-permit.md"}
    plain = by_guide(ranked, None, docs)
    titled = by_guide(ranked, None, docs, {"permits/residence-permit.md": 1.0, "permits/no-criminal-record.md": 0.0})
    assert plain[0][0] == "crc-faq" and titled[0][0] == "rp-step"


@pytest.mark.unit
def test_title_similarity_is_normalised_over_the_candidate_guides():
    class Embedder:
        def passages(self, texts):
            return np.array([[1.0, 0.0] if "居住证" in t else [0.6, 0.8] for t in texts])

    titles = TitleVectors(Embedder())
    sims = titles.similarity(np.array([1.0, 0.0]), {"a.md": "居住证申领", "b.md": "无犯罪记录证明开具"})
    assert sims == {"a.md": 1.0, "b.md": 0.0}
    assert titles.similarity(np.array([1.0, 0.0]), {"a.md": "居住证申领"}) == {}  # one guide: nothing to compare
