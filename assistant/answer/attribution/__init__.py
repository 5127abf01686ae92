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
from typing import Callable

import numpy as np

from assistant.answer.attribution.entail import EntailModel
from assistant.answer.attribution.support import Passages, support
from assistant.answer.attribution.text import CLAUSE, CONDITION, MARKER, PREFIX, numbers, split, stated, weight

__all__ = ["MARKER", "Attribution", "Claim", "attribute", "split"]


LEAD_WEIGHT = 20.0      # a shorter sentence without numbers ("暂时还不能。") is checked with the next one


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


def _with_marker(sentence: str, marks: list[int]) -> str:
    """"护照120元。\n" -> "护照120元[1]。\n": the markers before the closing punctuation and line end."""
    if not marks:
        return sentence
    m = re.search(r"[。！？!?；;.:：]*\s*$", sentence)
    space = " " if sentence[:m.start()][-1:].isascii() and sentence[:m.start()][-1:].isalnum() else ""
    return sentence[:m.start()] + space + "".join(f"[{n}]" for n in marks) + sentence[m.start():]


_HARD = ("contradicts", "a number attached", "numbers from different places")


def _best(text: str, given: Passages, *, clause: bool = False) -> tuple[int | None, str, bool]:
    """The passage that supports `text` best, or None and why, and whether a passage contradicts it
    (polarity, a misattached number): that outweighs a passage that supports it."""
    best, found, closest, reason = -1.0, None, -1.0, "no passage"
    for i in range(len(given.whole)):
        score, why = support(text, given, i, learned=not clause)
        if why.startswith(_HARD):
            return None, f"passage {i + 1}: {why}", True
        if not why and (found is None or score > best):
            found, best = i, score
        elif score > closest:
            closest, reason = score, f"passage {i + 1}: {why}"
    return found, "" if found is not None else reason, False


def _readings(body: str) -> list[tuple[int, str]]:
    """The clauses of a sentence as (end offset, text), a condition clause joined to the one it governs."""
    out, start, pending = [], 0, 0
    for end in [m.start() for m in CLAUSE.finditer(body)] + [len(body)]:
        clause = body[start:end]
        if CONDITION.search(clause) and end < len(body):
            start = end + 1
            continue
        out.append((end, body[pending:end]))
        start = pending = end + 1
    return out


def _attribute_claim(claim: Claim, given: Passages) -> None:
    """One passage for the whole sentence; else one for each clause that states something."""
    body = PREFIX.sub("", claim.text).strip()
    if not body or not stated(body):
        claim.neutral = True
        return
    found, claim.reason, contradicted = _best(body, given)
    if found is not None:
        claim.passages = [found]
        return
    if contradicted:
        return  # its clauses are not tried one by one
    offset = claim.text.index(body)
    marks = []
    for end, clause in _readings(body):
        if not clause.strip() or not stated(clause):
            continue
        found, _, _ = _best(clause, given, clause=True)
        if found is None:
            return
        marks.append((offset + end - (len(clause) - len(clause.rstrip(" 。.！!？?"))), found))
    if len(marks) < 2:
        return
    claim.passages, claim.clauses, claim.reason = list(dict.fromkeys(p for _, p in marks)), marks, ""


def attribute(answer: str, passages: list[str], *, question: str = "",
              embed: Callable[[list[str]], np.ndarray] | None = None, checker: EntailModel | None = None) -> Attribution:
    """Each sentence of `answer` attributed to the passages that support it, and the verdict; with `embed`
    and `checker` (entail.versioned_model) the learned pair check may drop a claim the rules accept."""
    given = Passages(passages, embed, question, checker)
    result = Attribution()
    sentences = split(answer)
    for n, sentence in enumerate(sentences):
        claim = Claim(sentence)
        body = PREFIX.sub("", sentence).strip()
        following = next((s for s in sentences[n + 1:] if stated(PREFIX.sub("", s))), "")
        if body and following and not numbers(body) and weight(body) < LEAD_WEIGHT:
            # a short verdict before its reason ("不能当天拿到。需要5个工作日。") is checked with it
            lead = Claim(body.rstrip("。.！!") + "，" + PREFIX.sub("", following).strip())
            _attribute_claim(lead, given)
            claim.neutral, claim.reason = bool(lead.passages), lead.reason
        else:
            _attribute_claim(claim, given)
        result.claims.append(claim)
    stating = [c for c in result.claims if not c.neutral]
    dropped = [c for c in stating if not c.passages]
    if not stating or len(dropped) * 2 > len(stating):
        result.status = "fallback"
        result.reason = "; ".join(c.reason for c in dropped[:3]) or "nothing the passages state"
    elif dropped:
        result.status = "repaired"
        result.reason = "; ".join(f"dropped '{c.text.strip()[:40]}': {c.reason}" for c in dropped[:3])
    else:
        result.status = "verified"
    return result
