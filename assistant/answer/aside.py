"""A guide question asked alongside a request ("路灯坏了一周了，另外问一下怎么申请公租房？"): the part of the
message that is a question a guide answers, answered from the guides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answer.question import split_questions

if TYPE_CHECKING:
    from assistant.answer.extractive import Answer


def answer_aside(desk, message: str, lang: str) -> tuple[str, Answer] | None:
    """The first part of a message of several parts that the request classifier (`desk.intake`) takes
    for a question and that a guide answers, with its answer; None when there is none."""
    parts = split_questions(message)
    if len(parts) < 2:
        return None
    for part in parts:
        if desk.intake.classify(part).kind != "question":
            continue
        vector = desk.embedder.query(part)
        hits = desk.retriever.retrieve(part, k=5, vector=vector)
        if not desk.scope.answerable(part, vector, hits, lang):
            continue
        answer = desk.composer.compose(part, hits, lang, vector)
        if answer.answerable:
            return part, answer
    return None
