"""Every canned reply and prompt exists in Chinese and English, and both use the same variables."""

from pathlib import Path

import pytest
import yaml
from jinja2 import Environment, meta

from assistant.core.prompts import PROMPTS_DIR, render

pytestmark = pytest.mark.unit
FILES = sorted(PROMPTS_DIR.glob("*.yaml"))
ENV = Environment()


def templates():
    for path in FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, entry in data.items():
            if isinstance(entry, dict) and ("zh" in entry or "en" in entry):
                yield path, key, entry


@pytest.mark.parametrize("path, key, entry", list(templates()), ids=lambda v: v if isinstance(v, str) else "")
def test_both_languages_with_the_same_variables(path: Path, key, entry):
    assert set(entry) >= {"zh", "en"}, f"{path.name}:{key} needs zh and en"
    variables = [meta.find_undeclared_variables(ENV.parse(str(entry[lang]))) for lang in ("zh", "en")]
    assert variables[0] == variables[1], f"{path.name}:{key}: zh uses {variables[0]}, en uses {variables[1]}"


def test_simple_templates_render_in_both_languages():
    assert "120" in render("too_long", "zh", limit=120) and "120" in render("too_long", "en", limit=120)
    assert "《护照》" in render("answer_intro", "zh", title="护照", section="")


def test_a_missing_variable_is_an_error():
    with pytest.raises(Exception, match="limit"):
        render("too_long", "zh")
