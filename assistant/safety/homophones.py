"""Homophone typos of the emergency lexicon's core words, written as those words through pinyin
(pypinyin): 着伙 -> 着火, 触店 -> 触电. Pinyin input methods make these typos, and a frightened
writer does not correct them."""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from assistant.core.prompts import PROMPTS_DIR


@lru_cache(maxsize=1)
def _pinyin_words() -> dict[str, list[tuple[str, str]]]:
    """kind -> (word, its toneless pinyin) for the lexicon's core words."""
    from pypinyin import lazy_pinyin

    data = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))
    return {kind: [(w, " ".join(lazy_pinyin(w))) for w in spec.get("pinyin", [])] for kind, spec in data["kinds"].items()}


def pinyin_fix(text: str) -> str:
    """The text with homophones of the lexicon's core words written as those words (着伙 -> 着火,
    触店 -> 触电); the text unchanged when there are none. The classifier then judges the fixed text,
    so "出点问题" (chu dian) does not raise an alarm by sound alone."""
    chars = list(text)
    sounds = [_readings(c) for c in chars]
    starts = _by_first_syllable()
    for i in range(len(chars)):
        for reading in sounds[i]:
            for word, target in starts.get(reading, ()):
                span = "".join(chars[i:i + len(target)])
                if len(span) == len(target) and span != word and re.fullmatch(r"[\u4e00-\u9fff]+", span) \
                        and all(t in sounds[i + j] for j, t in enumerate(target)):
                    chars[i:i + len(target)] = list(word)
    return "".join(chars)


@lru_cache(maxsize=1)
def _by_first_syllable() -> dict[str, list[tuple[str, list[str]]]]:
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for words in _pinyin_words().values():
        for word, pinyin in words:
            target = pinyin.split()
            out.setdefault(target[0], []).append((word, target))
    return out


@lru_cache(maxsize=8192)
def _readings(char: str) -> frozenset[str]:
    """Every toneless reading of a character (着: zhe, zhao, zhuo)."""
    from pypinyin import Style, pinyin

    if not re.fullmatch(r"[\u4e00-\u9fff]", char):
        return frozenset()
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])
