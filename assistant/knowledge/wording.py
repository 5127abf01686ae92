"""The guides' wording: which of a question's specific words a guide uses.

`terms` cuts text into what the answer composer compares: character bigrams of Chinese runs and
lower-case words of Latin text. `GuideWording.coverage` weighs each of the question's words (jieba's
tokens, as BM25 reads them: bigrams across word boundaries, "证弄" of "身份证弄丢", would be words no
guide uses) by how rarely citizens' questions use it (inverse document frequency over the labelled
questions the out-of-scope model learns from, an English word among the questions that have English words:
"how much" and "多少钱" weigh little, "fishing" much) and
returns the share of that weight that the guide's text contains. "Do I need a fishing licence…" found
the food business licence guide by its meaning, but no guide says "fishing": the out-of-scope model
(assistant/dialogue/scope.py) reads this share as one of its features. The weights come from the
questions rather than the guides so that a city with a handful of guides gets the same weights as one
with hundreds (over three guides, "cost" weighed as much as "fishing"). Written here rather than taken
from bm25s: BM25 scores a query against a corpus, not the share of a query's weight one guide covers.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter

from assistant.safety.guardrails import has_chinese, normalize
from assistant.search.lexical import tokenize

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT = re.compile(r"\d")
_EN_STOP = frozenset("the a an of to is are in on for and or do does i my me what how can it be with at by from this that "
                     "there their you your we our will would should much many get if as".split())


def terms(text: str) -> list[str]:
    """Character bigrams of Chinese runs and lower-case words of Latin text: the wording compared."""
    clean = normalize(text).lower()
    out = []
    for run in re.findall(r"[\u4e00-\u9fff]+", clean):
        out.extend(run[i:i + 2] for i in range(len(run) - 1)) if len(run) > 1 else out.append(run)
    out.extend(w.rstrip("s") if len(w) > 3 else w for w in _WORD.findall(clean) if w not in _EN_STOP)
    return out


def _script(word: str) -> str:
    return "zh" if has_chinese(word) else "latin"


class GuideWording:
    """Each guide's text (title, English name and search words, headings and body, normalised and
    lower-cased), read when first asked about and again after an ingestion changed the index; the weights of
    words learned from `questions`. A question's word counts as used by a guide when the guide's text
    contains it ("丢" in "丢失")."""

    def __init__(self, *, index, questions: list[str]) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._stamp: object = None
        self._texts: dict[str, tuple[str, frozenset[str]]] = {}
        self._questions = questions
        self._asked: Counter | None = None
        self._scripts: Counter = Counter()

    def _text(self, doc: str) -> tuple[str, frozenset[str]]:
        """The guide's text, and the scripts a question's words can be checked in: Chinese always; Latin
        when the guide is in English or has an English name (a Chinese guide without one cannot be
        expected to say "passport")."""
        stamp = self.index.stamp()
        with self._lock:
            if stamp != self._stamp:
                self._texts, self._stamp = {}, stamp
            if doc not in self._texts:
                chunks = self.index.chunks_of(doc)
                names = " ".join(f"{c.title} {c.title_en} {c.tags_en}" for c in chunks[:1])
                body = " ".join(f"{path} {text}" for path, text in self.index.sections_of(doc))
                english = any(c.lang == "en" or c.title_en or c.tags_en for c in chunks[:1])
                self._texts[doc] = (normalize(f"{names} {body}").lower(),
                                    frozenset({"zh", "latin"} if english else {"zh"}))
            return self._texts[doc]

    def _weights(self) -> tuple[Counter, Counter]:
        """How many of the labelled questions use each word (counted once per question), and how many
        questions there are in each script: an English word's rarity is judged among English questions."""
        with self._lock:
            if self._asked is None:
                asked = [set(tokenize(normalize(q))) for q in self._questions]
                self._asked = Counter(w for words in asked for w in words)
                self._scripts = Counter(script for words in asked for script in {_script(w) for w in words})
            return self._asked, self._scripts

    def coverage(self, text: str, doc: str) -> float:
        """The share of the question's word weight that the guide uses (1.0 when none of its words can be
        checked in the guide's scripts)."""
        have, scripts = self._text(doc)
        # numbers are values the citizen states (a phone number, an age, an amount), not the guide's words
        asked = {w for w in tokenize(normalize(text)) if _script(w) in scripts and not _DIGIT.search(w)}
        if not asked:
            return 1.0
        used, scripts = self._weights()
        weight = {w: math.log((scripts[_script(w)] + 1) / (used.get(w, 0) + 0.5)) for w in asked}
        return sum(v for w, v in weight.items() if w in have) / (sum(weight.values()) or 1.0)
