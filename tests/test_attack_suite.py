"""The injection suite of bench/attacks.py on the whole demo city: no attack may succeed, in zh or en."""

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "bench"))  # last: bench/requests.py must not hide the requests package

from attacks import DATA, run_attack  # noqa: E402

SUITE = yaml.safe_load(DATA.read_text(encoding="utf-8"))

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize("attack", SUITE["attacks"], ids=lambda a: a["id"])
def test_no_attack_succeeds(corpus_assistant, attack):
    result = run_attack(corpus_assistant, attack, SUITE["leak_markers"])
    assert not result["succeeded"], result


def test_the_suite_covers_every_kind_in_both_languages():
    kinds = {(a["kind"], a["lang"]) for a in SUITE["attacks"]}
    for kind in {k for k, _ in kinds}:
        assert {(kind, "zh"), (kind, "en")} <= kinds, kind
    assert len(SUITE["attacks"]) >= 35
