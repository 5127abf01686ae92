"""Polarity of what a text says: need / no need, fee / free, can / cannot, above / below, negated words.

Negative forms are matched first and blanked, so "无需" is not also read as "需"; a positive form
within a character of a negator ("不另收费", "没有收费") counts as negative. Chinese negators sit right
before the word they negate, so a negated word ("未满18岁") is found too; English negation reaches
too far to pin down that way and is read through the forms only.
"""

from __future__ import annotations

import re

from assistant.safety import guardrails

# (family, negative forms, positive forms), zh and en together
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
FORMS = tuple(form for _, negatives, positives in POLARITY for form in (*negatives, *positives))
_NEGATOR = re.compile(r"(?:不|没有|没|未|无|非|免|勿)$")
_NEGATED_FORM = re.compile(r"(?:不|没有|没|未|无|非|免|勿).?$")  # "不另收费": a negator at most one character before


def forms(text: str) -> dict[str, str]:
    """Polarity per family found in the text: "neg", "pos" or "both"."""
    text = f" {guardrails.normalize(text).lower()} "
    found = {}
    for family, negatives, positives in POLARITY:
        neg = any(form in text for form in negatives)
        for form in negatives:
            text = text.replace(form, " ")
        pos = False
        for form in positives:
            for m in re.finditer(re.escape(form), text):
                if _NEGATED_FORM.search(text[max(0, m.start() - 3):m.start()]):
                    neg = True
                else:
                    pos = True
        if neg or pos:
            found[family] = "both" if neg and pos else ("neg" if neg else "pos")
    return found


def disagreeing(mine: dict[str, str], theirs: dict[str, str]) -> list[str]:
    """The families (of `forms`) that one text states one way and the other the other way."""
    return [family for family, form in mine.items()
            if form != "both" and theirs.get(family) in ("pos", "neg") and theirs[family] != form]


def negated(word: str, text: str) -> bool | None:
    """Whether the Chinese `word` is negated where it occurs in `text` (None: absent or both ways)."""
    seen = set()
    for m in re.finditer(re.escape(word), text):
        before = text[max(0, m.start() - 12):m.start()]
        seen.add(bool(_NEGATOR.search(before[-3:])))
    return seen.pop() if len(seen) == 1 else None
