"""Places: the city's own districts (seeds/districts.yaml), and places elsewhere named in a question.

A question about another city's service ("深圳的公积金贷款", "a Beijing hukou") is not answered from
this city's guides. Place names are found by jieba's part-of-speech tagger (`ns`) in Chinese, and in
English by the pinyin of the place names in jieba's dictionary (pypinyin), so no list of cities is
kept here.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.safety.guardrails import normalize
from assistant.services.seeds import read

# Words the tagger calls places that name no particular place.
_GENERIC = frozenset("城市 东西 英雄 太阳 外地 本地 全国 国内 境外 境内 中国 内地 海外 当地 老家 户籍地 外省 本省 省内 市内 "
                     "市外 异地 两地 各地 农村 城乡 城区 社区 小区 街道 乡镇 全市 本市 大陆 国外 市区 县城 南方 北方 地方".split())
MIN_FREQUENCY = 20
_EN_WORD = re.compile(r"\b[A-Z][a-z]{3,}(?:\s+[A-Z][a-z]+)?\b")


@dataclass(frozen=True)
class District:
    zh: str
    en: str
    aliases: tuple[str, ...]

    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en.lower(), *self.aliases)


@lru_cache(maxsize=1)
def districts() -> tuple[District, ...]:
    data = read("districts")
    return tuple(District(zh=d["zh"], en=d["en"], aliases=tuple(a.lower() for a in d.get("aliases", [])))
                 for d in data["districts"])


@lru_cache(maxsize=1)
def local_names() -> frozenset[str]:
    """Every name of this city and its districts, lower case."""
    data = read("districts")
    city = data["city"]
    return frozenset([city["zh"], city["en"].lower(), *(a.lower() for a in city.get("aliases", []))]
                     + [n for d in districts() for n in d.names()])


def districts_named(text: str) -> list[District]:
    """Every district or county a text names (江北区, 江北, Jiangbei, hi-tech), in the order of the seeds."""
    low = normalize(text).lower()
    return [d for d in districts() if any(n and n in low for n in d.names())]


def find_district(text: str) -> District | None:
    """The district or county a text names (江北区, 江北, Jiangbei), if any; the first one if it names several."""
    return next(iter(districts_named(text)), None)


def district_name(zh: str, lang: str) -> str:
    """A district's name in `lang` (English: its `en` in seeds/districts.yaml); an unknown name as it is."""
    return zh if lang == "zh" else next((d.en for d in districts() if d.zh == zh), zh)


def without_districts(text: str) -> str:
    """The text without any district's name in it, with "district", "new area", "zone" or "county" after
    an English one ("江北区翠湖小区" -> "翠湖小区", "Jiangnan District, Renmin Road" -> ", Renmin Road")."""
    names = sorted(dict.fromkeys(n for d in districts() for n in d.names() if n), key=len, reverse=True)
    for name in names:
        text = re.sub(re.escape(name) + r"(\s*(district|new area|zone|county))?", "", text, flags=re.I)
    return text


@lru_cache(maxsize=1)
def _dictionary_places() -> dict[str, int]:
    """Place names in jieba's dictionary (tag ns) with their frequency."""
    import jieba

    out = {}
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            word, freq, tag = (line.split() + ["", ""])[:3]
            if tag == "ns" and len(word) >= 2 and word not in _GENERIC:
                out[word] = int(freq or 0)
    return out


@lru_cache(maxsize=1)
def _pinyin_places() -> dict[str, str]:
    """Romanised names (beijing, shenzhen, hong kong) of the commoner places in jieba's dictionary."""
    from pypinyin import lazy_pinyin

    out = {}
    for word, freq in _dictionary_places().items():
        if len(word) <= 3 and freq >= 300:
            roman = "".join(lazy_pinyin(word))
            if len(roman) >= 6:
                out.setdefault(roman, word)
    out.update({"hongkong": "香港", "macau": "澳门", "macao": "澳门"})
    return out


def places_named(question: str) -> list[str]:
    """Places a question names (in Chinese or in English), other than generic words."""
    import jieba.posseg

    logging.getLogger("jieba").setLevel(logging.WARNING)
    text = normalize(question)
    known = _dictionary_places()
    # the tagger's guesses outside the dictionary ("上省" in "上省一级的幼儿园") are not places
    found = [w for w, tag in jieba.posseg.cut(text) if tag == "ns" and known.get(w, 0) >= MIN_FREQUENCY]
    roman = _pinyin_places()
    for m in _EN_WORD.finditer(text):
        key = m.group(0).replace(" ", "").lower()
        if key in roman:
            found.append(roman[key])
    return found


def elsewhere(question: str, guide_text: str) -> str:
    """The place elsewhere a question is about, when it names one that is neither this city nor
    mentioned in the guide that would answer it; "" otherwise."""
    local = local_names()
    named = places_named(question)
    low_question = normalize(question).lower()
    if any(n in low_question for n in local if len(n) >= 2):
        return ""  # "从深圳迁户口到澄湾" is about this city
    guide = normalize(guide_text)
    for place in named:
        if place.lower() not in local and place not in guide:
            return place
    return ""
