"""The learned guide order (assistant/knowledge/guide_model.py): its data, that a guide it does not know keeps
its place, and that it puts the right guide first more often than retrieval alone on questions by authors
it never learned from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.knowledge.guide_model import FEATURES, Candidate, GuideModel, guide_key, labelled_rows
from assistant.knowledge.retrieve import Retriever
from assistant.search.classifier import LinearModel

ROOT = Path(__file__).resolve().parents[2]


def _model(classes: tuple[str, ...], favourite: str) -> GuideModel:
    """A classifier sure of `favourite`, with weights that follow its log-probability only."""
    coef = np.zeros((len(classes), 4))
    intercept = np.array([5.0 if c == favourite else 0.0 for c in classes])
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("log_p")] = 1.0
    return GuideModel(classifier=LinearModel(classes=classes, coef=coef, intercept=intercept, embedder="", data=""),
                      weights=weights)


def _candidates(*docs: str) -> list[Candidate]:
    return [Candidate(doc=d, rank=i, support=1.0 - i / 10, best=0.9, dense=0.85, lexical=3.0, title=0.5)
            for i, d in enumerate(docs)]


@pytest.mark.unit
def test_a_guide_and_its_english_twin_are_one_class():
    assert guide_key("permits/passport.en.md") == guide_key("knowledge/permits/passport.md") == "permits/passport"
    assert guide_key("faq/city-faq.xlsx") == "faq/city-faq"


@pytest.mark.unit
def test_the_model_reorders_the_guides_it_knows_and_leaves_a_new_guide_where_retrieval_put_it():
    model = _model(("a/one", "a/two", "a/three"), favourite="a/three")
    vector = np.zeros(4)
    assert model.order(_candidates("a/one.md", "a/two.md", "a/three.md"), vector)[0] == "a/three.md"
    # "b/new.md" was added by staff after `citydesk train`: it keeps first place, the known ones are reordered
    order = model.order(_candidates("b/new.md", "a/one.md", "a/three.md"), vector)
    assert order == ["b/new.md", "a/three.md", "a/one.md"]


@pytest.mark.unit
def test_the_labelled_questions_name_guides_that_exist_by_nine_authors():
    rows = labelled_rows()
    keys = {guide_key(str(p.relative_to(ROOT / "knowledge"))) for p in (ROOT / "knowledge").glob("*/*")}
    assert len(rows) >= 7600 and len({r["file"] for r in rows}) >= 9
    assert {r["guide"] for r in rows} <= keys


def _untouched() -> list[dict]:
    tuned = {r["text"] for r in labelled_rows()}
    units = [json.loads(line) for line in (ROOT / "evals/heldout/units.jsonl").read_text(encoding="utf-8").splitlines()]
    scope = [json.loads(line) for line in (ROOT / "evals/heldout/scope.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [(r["question"], guide_key(r["guide"])) for r in units]
    rows += [(r["text"], r["topic"]) for r in scope if r.get("scope") == "in" and r.get("topic")]
    return [(text, guide) for text, guide in rows if text not in tuned]


@pytest.mark.slow
def test_on_untouched_questions_the_right_guide_comes_first_more_often_than_in_retrievals_own_order(corpus_assistant):
    learned = corpus_assistant.retriever
    assert learned.guides is not None, "no versioned guide model for the default embedder: run `citydesk train`"
    plain = Retriever(index=corpus_assistant.index, guides=False)
    rows = _untouched()
    vectors = corpus_assistant.embedder.queries([text for text, _ in rows])
    first = {"plain": [], "learned": []}
    for (text, guide), vector in zip(rows, vectors):
        for name, retriever in (("plain", plain), ("learned", learned)):
            hits = retriever.retrieve(text, k=5, vector=vector)
            first[name].append(bool(hits) and guide_key(hits[0].doc) == guide)
    plain_first, learned_first = np.mean(first["plain"]), np.mean(first["learned"])
    # measured (python bench/guides.py): see the README's figures
    assert learned_first >= plain_first + 0.02, (plain_first, learned_first)


@pytest.mark.unit
def test_a_model_for_other_features_is_not_loaded(tmp_path):
    model = _model(("a/one", "a/two"), favourite="a/one")
    model.save(tmp_path / "guides.npz")
    with np.load(tmp_path / "guides.npz") as z:
        arrays = dict(z)
    arrays["features"] = np.array(FEATURES[:-1] + ("something_else",))
    np.savez(tmp_path / "guides.npz", **arrays)
    with pytest.raises(ValueError):
        GuideModel.load(tmp_path / "guides.npz")


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Do I need a fishing licence to fish in the Cheng River?",
                                      "没单位了自己交职工医保，最低档一个月多少钱", "护照丢了怎么办"])
def test_whether_a_guide_answers_is_judged_on_retrievals_own_first_passage(corpus_assistant, question):
    """The learned order may put another guide first; scope (assistant/dialogue/scope.py) still weighs the
    passage retrieval itself found best, so that a question no guide answers is not answered from the guide
    the classifier finds likeliest."""
    from assistant.dialogue.scope import evidence

    vector = corpus_assistant.embedder.query(question)
    learned = corpus_assistant.retriever.retrieve(question, k=5, vector=vector)
    own = Retriever(index=corpus_assistant.index, guides=False).retrieve(question, k=5, vector=vector)
    assert evidence(learned).chunk.id == own[0].chunk.id
    assert [h.own_rank for h in own] == list(range(len(own)))
