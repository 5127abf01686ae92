"""The text side of attribution: sentences and clauses, content words and their weights, passage units.

Content words are jieba's words weighted by its IDF (so "的" and "您" weigh little) and English
words outside scikit-learn's stop list; numbers and polarity forms are left out, each being
checked on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

import jieba
import jieba.analyse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from assistant.safety import guardrails

from assistant.answer import verify
from assistant.answer.attribution.polarity import FORMS


NEUTRAL_WEIGHT = 12.0   # below this content weight a sentence states nothing to check

MARKER = verify.MARKER  # citation markers of any style; removed before attribution
_SPLIT = re.compile(r"(?<=[。！？!?；;])|(?<=[^\d\sA-Z.]\.)(?=\s)|(?<=\n)")
PREFIX = re.compile(r"^\s*(?:[-*•]\s*|\d{1,2}[.、)）](?!\d)\s*|[（(]\d{1,2}[)）]\s*)")
CLAUSE = re.compile(r"[，；;]|,(?!\d{3})|[：:](?!\d)")  # not the comma of 1,800 or the colon of 9:00
# A clause that sets a condition for the next one: "满5年不满10年的，", "For terms over 5 years, ".
CONDITION = re.compile(r"(?:的|时|后|者)\s*$|^\s*(?:for|if|when|where|with|after|before|once|while)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'-]+")
_IDF = jieba.analyse.default_tfidf.idf_freq
_MEDIAN_IDF = jieba.analyse.default_tfidf.median_idf
_EN_WEIGHT = 8.0        # an English content word weighs about as much as a common Chinese one


def split(answer: str) -> list[str]:
    """The answer without markers, as sentences and list items; together they are the whole text."""
    text = MARKER.sub("", guardrails.strip_invisible(answer))
    text = re.sub(r"[ \t]+(?=[。！？!?；;，,.])", "", re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text))
    return [piece for piece in _SPLIT.split(text) if piece]


def is_chinese(text: str) -> bool:
    cjk, latin = guardrails.script_counts(text)
    return cjk * 3 >= latin


def _stem(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + repl
    return word


@lru_cache(maxsize=8192)
def content(text: str) -> Mapping[str, float]:
    """The content words of a text with their weights (IDF for Chinese words; numbers excluded).

    Cached: one answer asks for the same claim, clause and passage clause many times (jieba each time
    before), and passages come back across questions. The mapping is read-only."""
    words: dict[str, float] = {}
    norm = f" {guardrails.normalize(text).lower()} "
    for form in FORMS:  # polarity is checked on its own; it is not content
        norm = norm.replace(form, " ")
    norm = verify.CN_QUANTITY.sub(" ", norm)  # quantities are checked on their own too ("一百二十元")
    for token in jieba.lcut(re.sub(r"[a-z0-9][a-z0-9'.,/-]*", " ", norm)):
        token = token.strip()
        if token and all("\u4e00" <= ch <= "\u9fff" for ch in token) and not re.fullmatch(verify.CN_NUMERAL, token):
            words[token] = _IDF.get(token, _MEDIAN_IDF)
    for word in _WORD.findall(norm):
        if word not in ENGLISH_STOP_WORDS and len(word) > 2:
            words[_stem(word)] = _EN_WEIGHT
    return MappingProxyType(words)


class Text:
    """A passage or passage sentence prepared for matching."""

    def __init__(self, text: str, body: str | None = None) -> None:
        self.raw = text
        self.body = text if body is None else body  # without its heading, for polarity
        self.norm = guardrails.normalize(text).lower()
        self.stems = {_stem(w) for w in _WORD.findall(self.norm)}
        self.chinese = is_chinese(text)

    def coverage(self, words: Mapping[str, float]) -> float:
        total = sum(words.values())
        if not total:
            return 0.0
        return sum(w * self._found(t) for t, w in words.items()) / total

    def _found(self, token: str) -> float:
        """1 for a word the text has; for a Chinese word it lacks, the share of its character pairs it has
        (jieba cuts "先回原工作城市" as 先回原|工作|城市, and the passage says "回原工作城市")."""
        if token in self.stems or (not token.isascii() and token in self.norm):
            return 1.0
        if token.isascii() or len(token) < 3:
            return 0.0
        pairs = [token[k:k + 2] for k in range(len(token) - 1)]
        return sum(pair in self.norm for pair in pairs) / len(pairs)

    def numbers_ok(self, text: str) -> bool:
        return not verify.unsupported_numbers(text, [self.raw])


def units(passage: str) -> list[tuple[str, str]]:
    """The passage's sentences and list items, each with the heading it stands under ("护照 > 收费标准",
    "### Daytime (8:00–20:00)", "租房提取额度：") so that a unit carries what its numbers are about."""
    out, heading = [], ""
    for i, line in enumerate(passage.splitlines()):
        line = line.strip()
        if not line:
            continue
        if i == 0 or line.startswith("#") or re.search(r"[:：]$", line):
            heading = line.lstrip("# ")
            continue
        out += [(heading, s.strip()) for s in split(line) if s.strip()]
    return out or [("", passage)]


def weight(text: str) -> float:
    return sum(content(text).values())


def stated(text: str) -> bool:
    return weight(text) >= NEUTRAL_WEIGHT or bool(re.search(r"\d", text))


def numbers(text: str) -> list[str]:
    """The quantities a text states (each as written)."""
    return verify.unsupported_numbers(text, [])
