"""The learned unit weights (assistant/answer/unit_model.py): their data, and that they choose the unit
that answers more often than the hand-set weights on questions they were not learned from."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.unit_model import FEATURES, HAND, UnitModel, data_files, read_rows
from assistant.answer.unit_training import examples, fit_units, ranks, untouched_rows


@pytest.fixture(scope="module")
def found(corpus_assistant):
    rows = read_rows(data_files())
    found, lost = examples(rows, corpus_assistant.index, corpus_assistant.embedder)
    return found, lost, rows


@pytest.mark.unit
def test_the_rows_name_a_guide_a_question_and_an_answer_by_three_authors():
    rows = read_rows(data_files())
    assert len(data_files()) >= 3 and len(rows) >= 1800
    assert all(r["guide"].startswith("knowledge/") and r["question"].strip() and r["answer"].strip()
               and r["lang"] in ("zh", "en") for r in rows)
    untouched = untouched_rows()
    assert len(untouched) >= 400  # 6 of 477 happen to ask what a tuned row asks word for word: left out


@pytest.mark.slow
def test_every_answer_is_found_in_a_unit_of_its_guide(found, corpus_assistant):
    _, lost, rows = found
    assert lost == [], f"{len(lost)} of {len(rows)} answers are in no unit: was a guide edited? {lost[:3]}"
    _, lost_untouched = examples(untouched_rows(), corpus_assistant.index, corpus_assistant.embedder)
    assert lost_untouched == []


@pytest.mark.slow
def test_learned_weights_rank_the_answer_first_more_often_on_an_author_they_did_not_learn_from(found):
    by_author = {}
    for name in sorted({e.row["file"] for e in found[0]}):
        train = [e for e in found[0] if e.row["file"] != name]
        test = [e for e in found[0] if e.row["file"] == name]
        learned = np.mean(ranks(fit_units(train, ""), test) == 1)
        hand = np.mean(ranks(HAND, test) == 1)
        by_author[name] = (round(float(hand), 3), round(float(learned), 3))
    # measured: hand 0.48-0.52, learned 0.57-0.65 (python bench/units.py --home …)
    assert all(learned >= 0.55 and learned >= hand + 0.06 for hand, learned in by_author.values()), by_author


@pytest.mark.slow
def test_on_the_untouched_questions_the_versioned_weights_beat_the_hand_set_ones(corpus_assistant):
    test, _ = examples(untouched_rows(), corpus_assistant.index, corpus_assistant.embedder)
    model = corpus_assistant.composer.scorer.model
    assert model is not HAND and model.uses_units
    learned, hand = np.mean(ranks(model, test) == 1), np.mean(ranks(HAND, test) == 1)
    assert learned >= 0.60 and learned >= hand + 0.10, (hand, learned)  # measured 0.488 -> 0.627


@pytest.mark.unit
def test_weights_for_other_features_are_not_loaded(tmp_path):
    UnitModel(weights=np.ones(len(FEATURES) + 1)).save(tmp_path / "units.npz")
    path = tmp_path / "units.npz"
    import numpy
    with numpy.load(path) as z:
        arrays = dict(z)
    arrays["features"] = numpy.array(FEATURES[:-1] + ("something_else",))
    numpy.savez(path, **arrays)
    with pytest.raises(ValueError):
        UnitModel.load(path)


@pytest.mark.slow
@pytest.mark.parametrize("question, wanted, not_wanted", [
    ("How much old-age allowance does an 85-year-old Chengwan resident get each month?", "100 yuan", ""),
    ("交通事故报警打什么电话", "122", ""),
    ("在哪里可以办护照？", "市民大道88号", "")])
def test_the_answer_leads_with_what_was_asked(corpus_assistant, question, wanted, not_wanted):
    reply = corpus_assistant.ask(question)
    assert reply.status == "answered" and wanted in reply.text, reply.text
