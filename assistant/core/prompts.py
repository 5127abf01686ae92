"""Prompt templates and canned replies: YAML files in prompts/, rendered with Jinja StrictUndefined."""

from __future__ import annotations

from functools import lru_cache

import yaml
from jinja2 import Environment, StrictUndefined

from assistant.core.config import ROOT

PROMPTS_DIR = ROOT / "prompts"
_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=None)
def _load(name: str) -> dict:
    path = PROMPTS_DIR / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of template names")
    return data


def render(key: str, lang: str, file: str = "replies", **values) -> str:
    """The `lang` version of template `key` in prompts/`file`.yaml, filled with `values`."""
    return _ENV.from_string(str(data(key, lang, file))).render(**values).strip()


def data(key: str, lang: str, file: str = "replies"):
    """The `lang` version (else the zh one) of entry `key` in prompts/`file`.yaml, as written: a template,
    or data such as a worked example."""
    entry = _load(file)[key]
    return entry[lang] if lang in entry else entry["zh"]
