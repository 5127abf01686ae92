"""Whether one passage supports one claim: its numbers, their places, its words and its polarity."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Callable

import numpy as np

from assistant.safety import guardrails

from assistant.answer import verify
from assistant.answer.attribution.polarity import disagreeing, forms, negated
from assistant.answer.attribution.text import CLAUSE, CONDITION, PREFIX, Text, content, is_chinese, numbers, units


COVERAGE = 0.7          # share of a claim's content weight a passage must contain
CROSS_SIMILARITY = 0.82  # cosine (e5) a claim must reach with one unit of a passage in another language
ANCHOR_MARGIN = 0.2     # a number's clause matching a sentence without it this much better is misattached
POLARITY_SPAN = 0.2     # units within this coverage of the best match are checked for contradictions
POLARITY_SPAN_CROSS = 0.02  # the same, in cosine, across languages
POLARITY_MATCH = 0.2    # and only those that match at least this well (F1 of the words both ways)


class Passages:
    """The passages an answer was given, split into units, with vectors made on demand."""

    def __init__(self, passages: list[str], embed: Callable[[list[str]], np.ndarray] | None = None,
                 question: str = "", checker=None) -> None:
        self.whole = [Text(p) for p in passages]
        self.units = [[Text(f"{h} {u}", u) for h, u in units(p)] for p in passages]
        self.embed = embed
        self.question = question  # numbers the citizen gave may be repeated ("您家月人均收入800元")
        self.checker = checker  # the learned pair check (entail.EntailModel), with `embed`
        self._vectors: list[np.ndarray] | None = None
        self._queries: dict[str, np.ndarray] = {}  # a claim's vector, asked for once per passage

    def asked(self, number: str) -> bool:
        """Whether the citizen's question states this number."""
        return bool(self.question) and not verify.unsupported_numbers(number, [self.question])

    def vectors(self) -> list[np.ndarray] | None:
        if self.embed is None:
            return None
        if self._vectors is None:
            flat = [u.raw for units_ in self.units for u in units_]
            matrix = self.embed(flat) if flat else np.zeros((0, 1))
            self._vectors, start = [], 0
            for units_ in self.units:
                self._vectors.append(matrix[start:start + len(units_)])
                start += len(units_)
        return self._vectors

    def scores(self, text: str, i: int) -> list[float] | None:
        """How well `text` matches each unit of passage i: word coverage, or similarity across languages."""
        if self.whole[i].chinese == is_chinese(text):
            words = content(text)
            return [u.coverage(words) for u in self.units[i]]
        vectors = self.vectors()
        if vectors is None or not len(vectors[i]):
            return None
        return [float(x) for x in vectors[i] @ self.query(text)]

    def query(self, text: str) -> np.ndarray:
        """The vector of a claim or clause, embedded once for all passages."""
        if text not in self._queries:
            self._queries[text] = self.embed([text])[0]
        return self._queries[text]


def polarity_conflict(claim: str, sentence: str) -> str:
    """"" when the claim and the passage sentence agree; otherwise what differs."""
    mine, theirs = forms(claim), forms(sentence)
    for family in disagreeing(mine, theirs):
        return f"{family}: {mine[family]} against {theirs[family]}"
    a, b = guardrails.normalize(claim).lower(), guardrails.normalize(sentence).lower()
    for word in content(claim):  # Chinese words only: English negation reaches too far to pin down
        if len(word) < 2 or word.isascii() or word not in b:
            continue
        x, y = negated(word, a), negated(word, b)
        if x is not None and y is not None and x != y:
            return f"'{word}' negated on one side only"
    return ""


def _contradicted(claim: str, given: Passages, i: int) -> str:
    """What passage i says the other way round of the claim or one of its clauses; "" when nothing.

    A clause is read with the clauses before it that state no polarity of their own ("因信息有误申请
    换发的，需要缴纳工本费"), and compared with the passage's clauses that match it best, so that
    "只需向转入地申请，不需要回原工作城市办理" answers "需要先回原工作城市办理" with its second clause.
    A reading with numbers is compared with the clauses that hold most of them. Across languages the
    units that match best stand in for clauses.
    """
    readings, context = [claim], ""
    for clause in CLAUSE.split(claim):
        context += clause + "，"
        if forms(clause) or any(negated(w, clause) for w in content(clause)):
            readings.append(context)
            context = ""
    same = given.whole[i].chinese == is_chinese(claim)
    if same:
        pieces = [Text(c) for u in given.units[i] for c in CLAUSE.split(u.body) if c.strip()]
    for reading in dict.fromkeys(readings):
        if same:  # both ways: a short passage clause wholly inside the reading matches it too
            words, reading_text = content(reading), Text(reading)
            candidates = [(_f1(p.coverage(words), reading_text.coverage(content(p.body))), p.body) for p in pieces]
        else:
            candidates = list(zip(given.scores(reading, i) or [], (u.body for u in given.units[i])))
        stated = numbers(reading)
        held = [sum(not verify.unsupported_numbers(n, [text]) for n in stated) for _, text in candidates]
        if same and stated and max(held, default=0) == len(stated):  # "超过140平方米的按2%": the one with both
            candidates = [(1.0, text) for (_, text), h in zip(candidates, held) if h == max(held)]
        top = max((score for score, _ in candidates), default=0.0)
        span = POLARITY_SPAN if same else POLARITY_SPAN_CROSS
        for score, text in candidates:
            if score >= POLARITY_MATCH and score >= top - span:
                conflict = polarity_conflict(reading, text)
                if conflict:
                    return conflict
    return ""


def _value(number: str) -> float | None:
    values = verify.facts([number]).numbers
    return float(max(values, key=len)) if values else None


def _totals_removed(claim: str, missing: list[str]) -> list[str]:
    """`missing` without the totals of numbers the claim states ("60元加15元，一共75元")."""
    if not missing:
        return missing
    given = [v for n in numbers(claim) if n not in missing and (v := _value(n)) is not None]
    sums = {round(sum(c), 2) for k in range(2, min(4, len(given)) + 1) for c in combinations(given, k)}
    return [n for n in missing if _value(n) is None or round(_value(n), 2) not in sums]


def _f1(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0


def _anchored(claim: str, given: Passages, i: int) -> str:
    """"" when the claim's numbers sit in passage i beside what the claim attaches them to; else why.

    All the claim's numbers in one unit settle it. Otherwise each clause with numbers is read with the
    clauses before it that have none or that set its condition; the numbers of a condition and of
    the clause it governs must stand together in one unit ("满5年不满10年的，最长领取18个月"), and no
    unit of any passage without the reading's numbers may match it clearly better ("其他病种20个
    工作日" when 20 is another service's time limit).
    """
    if len(numbers(claim)) > 1 and any(u.numbers_ok(claim) for u in given.units[i]):
        return ""
    context, condition = "", False
    for clause in CLAUSE.split(claim):
        context += clause + "，"
        if numbers(clause) and CONDITION.search(clause):
            condition = True  # "满5年不满10年的，": its numbers and the next clause's go together
            continue
        if not numbers(clause):
            continue
        reading, together, context, condition = context, condition, "", False
        if not [n for n in _totals_removed(claim, numbers(reading)) if numbers(n) and not given.asked(n)]:
            continue  # a total of the claim's own numbers ("合计75元"), or the citizen's own, stands nowhere
        if together and not any(u.numbers_ok(reading) for u in given.units[i]):
            return f"numbers from different places: {reading.strip('，')}"
        best_holding, best_other = 0.0, 0.0
        for j in range(len(given.whole)):
            if given.whole[j].chinese != given.whole[i].chinese:
                continue
            for unit, score in zip(given.units[j], given.scores(reading, j) or []):
                if unit.numbers_ok(reading):
                    best_holding = max(best_holding, score)
                else:
                    best_other = max(best_other, score)
        if best_other - best_holding > ANCHOR_MARGIN:
            return f"a number attached to another thing: {reading.strip('，')}"
    return ""


def support(claim: str, given: Passages, i: int, *, learned: bool = True) -> tuple[float, str]:
    """How well passage i supports the claim (0..1) and, when it does not, why: the rules below, then, for
    a claim they accept, the learned pair check (entail.py) when there is a `checker`. The check only
    ever drops a claim: on pairs by authors it never read it keeps more true claims than the rules do,
    but on answers the rules were built on it let wrong ones through that they catch, and a wrong
    sentence shown costs more than a right one dropped (bench/entail.py, bench/attribution.py). Not for
    a clause cut from its sentence (`learned` False): the check learned from whole sentences."""
    score, why = _rules(claim, given, i)
    if why or not learned or given.checker is None or given.embed is None:
        return score, why
    return score, _learned(claim, given, i, (score, why))


def _rules(claim: str, given: Passages, i: int) -> tuple[float, str]:
    passage = given.whole[i]
    missing = _totals_removed(claim, verify.unsupported_numbers(claim, [passage.raw, given.question]))
    scores = given.scores(claim, i)
    if scores is None:
        return 0.0, "in another language than the passage, and no embedder to compare them"
    same_language = passage.chinese == is_chinese(claim)
    score = passage.coverage(content(claim)) if same_language else max(scores, default=0.0)
    if missing:
        return score, f"number not in the passage: {', '.join(missing)}"
    if score < (COVERAGE if same_language else CROSS_SIMILARITY):
        return score, f"not in the passage (match {score:.2f})"
    conflict = _contradicted(claim, given, i)
    if conflict:
        return score, f"contradicts the passage ({conflict})"
    return score, _anchored(claim, given, i) if numbers(claim) else ""


def _learned(claim: str, given: Passages, i: int, rules: tuple[float, str]) -> str:
    """"" when the learned check finds that passage i states the claim; else why not. The claim is
    compared with the passage's unit that matches it best, alone and with the unit after it."""
    if _copied(claim, given.whole[i].raw):
        return ""  # what a passage says word for word it states; the pairs had no such copies to learn it from
    scores = given.scores(claim, i) or [0.0]
    best = int(np.argmax(scores))
    units_ = given.units[i]
    windows = [units_[best].raw] + ([f"{units_[best].raw} {units_[best + 1].body}"] if best + 1 < len(units_) else [])
    u = given.query(claim)
    p = max((given.checker.proba(claim, w, u, v, rules) for w, v in zip(windows, given.embed(windows))),
            key=lambda p: p["supported"])
    if p["supported"] >= given.checker.KEEP:
        return ""
    # never a hard reason (attribution._HARD): a passage on another matter "contradicts" many a true claim
    label = max(p, key=p.get)
    return f"the learned check finds it {label} ({p[label]:.2f})"


def _copied(claim: str, passage: str) -> bool:
    """Whether the claim stands word for word in the passage (punctuation, spaces and list numbers aside)."""
    bare = lambda t: re.sub(r"[\W_]+", "", guardrails.normalize(t).lower())  # noqa: E731
    words = bare(PREFIX.sub("", claim.strip()))
    return bool(words) and words in bare(passage)
