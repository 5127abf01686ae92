"""Attribution of a generated answer to the passages it was given, claim by claim.

A model cites in its own way ("[1]", "[n=1]", "【1】", "(来源1)") or not at all, so markers are
removed and the citations are written here. The answer is split into sentences (claims, list items
included). A claim is supported by one passage when
- every number, amount, date, time and phone number in it appears in that passage (`verify`);
- each number sits in the passage beside what the claim attaches it to: a clause with a number
  must not match a passage sentence without that number clearly better than the sentences with it
  ("加急需另收120元" when 120元 is the passport fee);
- its content words are mostly in the passage (weighted by jieba's IDF, so "的" and "您" weigh
  little; numbers are left to the first check). When claim and passage are in different languages
  (an English answer from a Chinese guide) the embedder's similarity to the passage's sentences
  stands in for word coverage;
- its polarity agrees with the passage sentence it matches best: need/no need, fee/free,
  can/cannot, and a word negated on one side only ("未满18岁" against "满18岁").
A claim no passage supports is dropped when the rest still answers (status "repaired"); when nothing
is supported, or most claims are not, the whole answer falls back ("fallback"). Sentences with
almost no content ("您好！", "Hope this helps.") are kept and never cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable

import jieba
import jieba.analyse
import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from assistant import guardrails, verify

COVERAGE = 0.7          # share of a claim's content weight a passage must contain
CROSS_SIMILARITY = 0.82  # cosine (e5) a claim must reach with one unit of a passage in another language
ANCHOR_MARGIN = 0.2     # a number's clause matching a sentence without it this much better is misattached
NEUTRAL_WEIGHT = 12.0   # below this content weight a sentence states nothing to check
POLARITY_SPAN = 0.2     # units within this coverage of the best match are checked for contradictions
POLARITY_SPAN_CROSS = 0.02  # the same, in cosine, across languages
POLARITY_MATCH = 0.2    # and only those that match at least this well (F1 of the words both ways)
LEAD_WEIGHT = 20.0      # a shorter sentence without numbers ("暂时还不能。") is checked with the next one

# Citation markers of any style a model writes; removed before attribution.
MARKER = re.compile(
    r"[\[【［〔]\s*(?:n\s*=\s*[\"']?|(?:passage|source|ref|来源|段落|出处|资料|见)\s*[:：]?\s*)?\d{1,2}"
    r"(?:\s*[,，、]\s*\d{1,2})*[\"']?\s*[\]】］〕]"
    r"|[（(]\s*(?:见|参见|see\s+)?(?:passage|source|来源|段落|出处|资料)\s*[:：]?\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*[)）]"
    r"|\b(?:source|passage)\s+\d{1,2}\b", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[。！？!?；;])|(?<=[^\d\sA-Z.]\.)(?=\s)|(?<=\n)")
_PREFIX = re.compile(r"^\s*(?:[-*•]\s*|\d{1,2}[.、)）](?!\d)\s*|[（(]\d{1,2}[)）]\s*)")
_CLAUSE = re.compile(r"[，；;]|,(?!\d{3})|[：:](?!\d)")  # not the comma of 1,800 or the colon of 9:00
_WORD = re.compile(r"[a-z][a-z'-]+")
_IDF = jieba.analyse.default_tfidf.idf_freq
_MEDIAN_IDF = jieba.analyse.default_tfidf.median_idf
_EN_WEIGHT = 8.0        # an English content word weighs about as much as a common Chinese one

# Polarity: (family, negative forms, positive forms), zh and en together. Negative forms are
# matched first and blanked, so "无需" is not also read as "需".
POLARITY = (
    ("fee", ("免费", "不收费", "不收取", "免收", "免交", "无需缴费", "无需付费", "不需要缴费", "不用交钱", "不要钱",
             "不用花钱", "free of charge", "no charge", "no fee", "not charged", "at no cost", "pay nothing",
             "nothing to pay", "no cost", "free"),
     ("收费", "收取", "缴纳", "缴费", "交费", "付费", "工本费", "需支付", "charged", "a fee of", "costs", "pay ")),
    ("need", ("不需要", "无需", "无须", "不用", "不必", "不需", "免于", "不要求", "not required", "no need",
              "not need", "n't need", "needn't", "not necessary", "n't have to", "not have to"),
     ("需要", "必须", "须", "需", "应当", "required", "must", "need to", "needs to", "have to", "has to")),
    ("can", ("不可以", "不能", "不得", "不允许", "不予", "禁止", "不可", "无法", "不接受", "不支持", "cannot", "can't",
             "can not", "may not", "not allowed", "not permitted", "must not", "unable", "not accepted"),
     ("可以", "能够", "允许", "支持", "可在", "可凭", "可通过", "可由", " can ", " may ", "allowed", "permitted",
      "able to", "accepted")),
    ("bound", ("以下", "以内", "不满", "不超过", "不足", "低于", "or less", "or fewer", "less than", "below"),
     ("以上", "超过", "高于", "满", "over ", "more than", "above", "or more", "at least")),
)
# A clause that sets a condition for the next one: "满5年不满10年的，", "For terms over 5 years, ".
_CONDITION = re.compile(r"(?:的|时|后|者)\s*$|^\s*(?:for|if|when|where|with|after|before|once|while)\b", re.IGNORECASE)
_NEGATOR = re.compile(r"(?:不|没有|没|未|无|非|免|勿)$")
_EN_NEGATOR = re.compile(r"\b(?:not|no|never|without|n't)\s+(?:\w+\s+)?$")


@dataclass
class Claim:
    """One sentence of the answer: its text as written (markers removed) and what supports it."""

    text: str
    passages: list[int] = field(default_factory=list)  # 0-based indexes of the supporting passages
    clauses: list[tuple[int, int]] = field(default_factory=list)  # (end offset, passage) when cited by clause
    reason: str = ""                # why no passage supports it
    neutral: bool = False           # states nothing to check

    @property
    def supported(self) -> bool:
        return self.neutral or bool(self.passages)


@dataclass
class Attribution:
    """The answer's claims, each attributed or not, and the verdict."""

    claims: list[Claim] = field(default_factory=list)
    status: str = "fallback"        # verified | repaired | fallback
    reason: str = ""

    def text(self) -> tuple[str, list[int]]:
        """The kept claims with citations [k] numbered in order of first use, and the passages cited."""
        order: list[int] = []
        out = []
        for claim in self.claims:
            if not claim.supported:
                continue
            order.extend(p for p in claim.passages if p not in order)
            if not claim.clauses:
                out.append(_with_marker(claim.text, [order.index(p) + 1 for p in claim.passages]))
                continue
            text, start = "", 0
            for end, p in claim.clauses:
                text += _with_marker(claim.text[start:end], [order.index(p) + 1])
                start = end
            out.append(text + claim.text[start:])
        return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip(), order


def _with_marker(sentence: str, numbers: list[int]) -> str:
    """"护照120元。\n" -> "护照120元[1]。\n": the markers before the closing punctuation and line end."""
    if not numbers:
        return sentence
    m = re.search(r"[。！？!?；;.:：]*\s*$", sentence)
    space = " " if sentence[:m.start()][-1:].isascii() and sentence[:m.start()][-1:].isalnum() else ""
    return sentence[:m.start()] + space + "".join(f"[{n}]" for n in numbers) + sentence[m.start():]


def split(answer: str) -> list[str]:
    """The answer without markers, as sentences and list items; together they are the whole text."""
    text = MARKER.sub("", guardrails.strip_invisible(answer))
    text = re.sub(r"[ \t]+(?=[。！？!?；;，,.])", "", re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text))
    return [piece for piece in _SPLIT.split(text) if piece]


def _is_chinese(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return cjk * 3 >= latin


def _stem(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + repl
    return word


def content(text: str) -> dict[str, float]:
    """The content words of a text with their weights (IDF for Chinese words; numbers excluded)."""
    words: dict[str, float] = {}
    norm = f" {guardrails.normalize(text).lower()} "
    for _, negatives, positives in POLARITY:  # polarity is checked on its own; it is not content
        for form in (*negatives, *positives):
            norm = norm.replace(form, " ")
    norm = verify._CN_QUANTITY.sub(" ", norm)  # quantities are checked on their own too ("一百二十元")
    for token in jieba.lcut(re.sub(r"[a-z0-9][a-z0-9'.,/-]*", " ", norm)):
        token = token.strip()
        if token and all("\u4e00" <= ch <= "\u9fff" for ch in token) and not re.fullmatch(verify._CN_NUMERAL, token):
            words[token] = _IDF.get(token, _MEDIAN_IDF)
    for word in _WORD.findall(norm):
        if word not in ENGLISH_STOP_WORDS and len(word) > 2:
            words[_stem(word)] = _EN_WEIGHT
    return words


class _Text:
    """A passage or passage sentence prepared for matching."""

    def __init__(self, text: str, body: str | None = None) -> None:
        self.raw = text
        self.body = text if body is None else body  # without its heading, for polarity
        self.norm = guardrails.normalize(text).lower()
        self.stems = {_stem(w) for w in _WORD.findall(self.norm)}
        self.chinese = _is_chinese(text)

    def coverage(self, words: dict[str, float]) -> float:
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


def _forms(text: str) -> dict[str, str]:
    """Polarity per family found in the text: "neg", "pos" or "both"."""
    text = f" {guardrails.normalize(text).lower()} "
    found = {}
    for family, negatives, positives in POLARITY:
        neg = any(form in text for form in negatives)
        for form in negatives:
            text = text.replace(form, " ")
        pos = False
        for form in positives:
            for m in re.finditer(re.escape(form), text):  # "不另收费", "无须另行缴纳": a negator just before
                if _NEGATOR.search(text[max(0, m.start() - 3):m.start() - 1] or " ") or \
                        _NEGATOR.search(text[max(0, m.start() - 1):m.start()] or " "):
                    neg = True
                else:
                    pos = True
        if neg or pos:
            found[family] = "both" if neg and pos else ("neg" if neg else "pos")
    return found


def _negated(word: str, text: str) -> bool | None:
    """Whether `word` is negated where it occurs in `text` (None: absent or both ways)."""
    seen = set()
    for m in re.finditer(re.escape(word), text):
        before = text[max(0, m.start() - 12):m.start()]
        seen.add(bool(_NEGATOR.search(before[-3:]) if not word.isascii() else _EN_NEGATOR.search(before)))
    return seen.pop() if len(seen) == 1 else None


def polarity_conflict(claim: str, sentence: str) -> str:
    """"" when the claim and the passage sentence agree; otherwise what differs."""
    mine, theirs = _forms(claim), _forms(sentence)
    for family, form in mine.items():
        other = theirs.get(family)
        if form != "both" and other in ("pos", "neg") and other != form:
            return f"{family}: {form} against {other}"
    a, b = guardrails.normalize(claim).lower(), guardrails.normalize(sentence).lower()
    for word in content(claim):
        if len(word) < 2 or word not in b:
            continue
        x, y = _negated(word, a), _negated(word, b)
        if x is not None and y is not None and x != y:
            return f"'{word}' negated on one side only"
    return ""


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


class Passages:
    """The passages an answer was given, split into units, with vectors made on demand."""

    def __init__(self, passages: list[str], embed: Callable[[list[str]], np.ndarray] | None = None,
                 question: str = "") -> None:
        self.whole = [_Text(p) for p in passages]
        self.units = [[_Text(f"{h} {u}", u) for h, u in units(p)] for p in passages]
        self.embed = embed
        self.question = question  # numbers the citizen gave may be repeated ("您家月人均收入800元")
        self._vectors: list[np.ndarray] | None = None

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
        if self.whole[i].chinese == _is_chinese(text):
            words = content(text)
            return [u.coverage(words) for u in self.units[i]]
        vectors = self.vectors()
        if vectors is None or not len(vectors[i]):
            return None
        return [float(x) for x in vectors[i] @ self.embed([text])[0]]


def _contradicted(claim: str, given: Passages, i: int) -> str:
    """What passage i says the other way round of the claim or one of its clauses; "" when nothing.

    A clause is read with the clauses before it that state no polarity of their own ("因信息有误申请
    换发的，需要缴纳工本费"), and compared with the passage's clauses that match it best, so that
    "只需向转入地申请，不需要回原工作城市办理" answers "需要先回原工作城市办理" with its second clause.
    Across languages the units that match best stand in for clauses.
    """
    readings, context = [claim], ""
    for clause in _CLAUSE.split(claim):
        context += clause + "，"
        if _forms(clause) or any(_negated(w, clause) for w in content(clause)):
            readings.append(context)
            context = ""
    same = given.whole[i].chinese == _is_chinese(claim)
    if same:
        pieces = [_Text(c) for u in given.units[i] for c in _CLAUSE.split(u.body) if c.strip()]
    for reading in dict.fromkeys(readings):
        if same:  # both ways: a short passage clause wholly inside the reading matches it too
            words, reading_text = content(reading), _Text(reading)
            candidates = [(_f1(p.coverage(words), reading_text.coverage(content(p.body))), p.body) for p in pieces]
        else:
            candidates = list(zip(given.scores(reading, i) or [], (u.body for u in given.units[i])))
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
    stated = [v for n in _numbers(claim) if n not in missing and (v := _value(n)) is not None]
    sums = {round(sum(c), 2) for k in range(2, min(4, len(stated)) + 1) for c in combinations(stated, k)}
    return [n for n in missing if _value(n) is None or round(_value(n), 2) not in sums]


def _f1(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0


def _numbers(text: str) -> list[str]:
    """The quantities a text states (each as written)."""
    return verify.unsupported_numbers(text, [])


def _anchored(claim: str, given: Passages, i: int) -> str:
    """"" when the claim's numbers sit in passage i beside what the claim attaches them to; else why.

    All the claim's numbers in one unit settle it. Otherwise each clause with numbers is read with the
    clauses before it that have none or that set its condition ("满5年不满10年的，最长领取18个月");
    the numbers of that reading must stand together in one unit, and no unit of any passage without
    them may match it clearly better ("其他病种20个工作日" when 20 is another service's time limit).
    """
    if len(_numbers(claim)) > 1 and any(u.numbers_ok(claim) for u in given.units[i]):
        return ""
    context = ""
    for clause in _CLAUSE.split(claim):
        context += clause + "，"
        if not _numbers(clause) or _CONDITION.search(clause):
            continue
        reading, context = context, ""
        if not [n for n in _totals_removed(claim, _numbers(reading)) if _numbers(n) and not given.asked(n)]:
            continue  # a total of the claim's own numbers ("合计75元"), or the citizen's own, stands nowhere
        if "、" not in reading and not any(u.numbers_ok(reading) for u in given.units[i]):
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


def support(claim: str, given: Passages, i: int) -> tuple[float, str]:
    """How well passage i supports the claim (0..1) and, when it does not, why."""
    passage = given.whole[i]
    missing = _totals_removed(claim, verify.unsupported_numbers(claim, [passage.raw, given.question]))
    scores = given.scores(claim, i)
    if scores is None:
        return 0.0, "in another language than the passage, and no embedder to compare them"
    same_language = passage.chinese == _is_chinese(claim)
    score = passage.coverage(content(claim)) if same_language else max(scores, default=0.0)
    if missing:
        return score, f"number not in the passage: {', '.join(missing)}"
    if score < (COVERAGE if same_language else CROSS_SIMILARITY):
        return score, f"not in the passage (match {score:.2f})"
    conflict = _contradicted(claim, given, i)
    if conflict:
        return score, f"contradicts the passage ({conflict})"
    return score, _anchored(claim, given, i) if _numbers(claim) else ""


_HARD = ("contradicts", "a number attached", "numbers from different places")


def _best(text: str, given: Passages) -> tuple[int | None, str]:
    """The passage that supports `text` best, or None and why. A passage that covers the text but
    contradicts it (polarity, a misattached number) outweighs one that supports it."""
    best, found, closest, reason = -1.0, None, -1.0, "no passage"
    for i in range(len(given.whole)):
        score, why = support(text, given, i)
        if why.startswith(_HARD):
            return None, f"passage {i + 1}: {why}"
        if not why and (found is None or score > best):
            found, best = i, score
        elif not why.startswith(_HARD) and score > closest:
            closest, reason = score, f"passage {i + 1}: {why}"
    return found, "" if found is not None else reason


def _readings(body: str) -> list[tuple[int, str]]:
    """The clauses of a sentence as (end offset, text), a condition clause joined to the one it governs."""
    out, start, pending = [], 0, 0
    for end in [m.start() for m in _CLAUSE.finditer(body)] + [len(body)]:
        clause = body[start:end]
        if _CONDITION.search(clause) and end < len(body):
            start = end + 1
            continue
        out.append((end, body[pending:end]))
        start = pending = end + 1
    return out


def _weight(text: str) -> float:
    return sum(content(text).values())


def _stated(text: str) -> bool:
    return _weight(text) >= NEUTRAL_WEIGHT or bool(re.search(r"\d", text))


def _attribute_claim(claim: Claim, given: Passages) -> None:
    """One passage for the whole sentence; else one for each clause that states something."""
    body = _PREFIX.sub("", claim.text).strip()
    if not body or not _stated(body):
        claim.neutral = True
        return
    found, claim.reason = _best(body, given)
    if found is not None:
        claim.passages = [found]
        return
    if claim.reason.split(": ", 1)[-1].startswith(_HARD):
        return  # contradicted: its clauses are not tried one by one
    offset = claim.text.index(body)
    marks = []
    for end, clause in _readings(body):
        if not clause.strip() or not _stated(clause):
            continue
        found, _ = _best(clause, given)
        if found is None:
            return
        marks.append((offset + end - (len(clause) - len(clause.rstrip(" 。.！!？?"))), found))
    if len(marks) < 2:
        return
    claim.passages, claim.clauses, claim.reason = list(dict.fromkeys(p for _, p in marks)), marks, ""


def attribute(answer: str, passages: list[str], *, question: str = "",
              embed: Callable[[list[str]], np.ndarray] | None = None) -> Attribution:
    """Each sentence of `answer` attributed to the passages that support it, and the verdict."""
    given = Passages(passages, embed, question)
    result = Attribution()
    sentences = split(answer)
    for n, sentence in enumerate(sentences):
        claim = Claim(sentence)
        body = _PREFIX.sub("", sentence).strip()
        following = next((s for s in sentences[n + 1:] if _stated(_PREFIX.sub("", s))), "")
        if body and following and not _numbers(body) and _weight(body) < LEAD_WEIGHT:
            # a short verdict before its reason ("不能当天拿到。需要5个工作日。") is checked with it
            lead = Claim(body.rstrip("。.！!") + "，" + _PREFIX.sub("", following).strip())
            _attribute_claim(lead, given)
            claim.neutral, claim.reason = bool(lead.passages), lead.reason
        else:
            _attribute_claim(claim, given)
        result.claims.append(claim)
    stated = [c for c in result.claims if not c.neutral]
    dropped = [c for c in stated if not c.passages]
    if not stated or len(dropped) * 2 > len(stated) or len(dropped) == len(stated):
        result.status = "fallback"
        result.reason = "; ".join(c.reason for c in dropped[:3]) or "nothing the passages state"
    elif dropped:
        result.status = "repaired"
        result.reason = "; ".join(f"dropped '{c.text.strip()[:40]}': {c.reason}" for c in dropped[:3])
    else:
        result.status = "verified"
    return result
