"""Guide questions in a conversation: a message cut into its questions, and each question resolved
against the conversation's topic when it only makes sense with it ("在哪里办？", "what about the fee?").

A question is a follow-up when the ellipsis classifier (assistant/dialogue/scope.py) is sure it needs the
topic, when the guide being discussed is at least as close to it as the best guide found for it
alone (within FOLLOW_MARGIN of the embedder's similarity), when nothing relevant is found for it
alone, or when the classifier finds it perhaps elliptical and, read after the topic guide's title, it
finds that guide first ("外地户口的老人可以排吗" after a nursing home's fees); otherwise it starts a new
topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.safety.guardrails import detect_language
from assistant.answer.question import split_questions
from assistant.core.types import Hit

FOLLOW_MARGIN = 0.01
ELLIPTICAL = 0.8  # above this the question is asked of the topic guide whatever else looks similar
# from this the question is asked of the topic guide when, read after the topic's title, it finds that guide
# first (chosen on the answers_tune suite)
PERHAPS_ELLIPTICAL = 0.25
MAX_QUESTIONS = 4


@dataclass
class Ask:
    """One question of a message, with the passages retrieved for it."""

    text: str
    vector: np.ndarray
    hits: list[Hit] = field(default_factory=list)
    follow_up: bool = False
    elliptical: float = 0.0  # how surely the question only makes sense with the topic
    antecedent: int | None = None  # the earlier question of the same message an elliptical one continues


def topic_hits(ctx, doc: str, vector: np.ndarray, lang: str) -> list[Hit]:
    """The chunks of the topic guide as hits, most similar first (Chinese guides lifted for other
    languages as in retrieval)."""
    chunks = ctx.desk.index.chunks_of(doc)
    if not chunks:
        return []
    found = ctx.desk.index.store.vectors([c.id for c in chunks])
    lift = ctx.desk.retriever.fusion.cross_lingual if lang != "zh" else 0.0
    hits = []
    for c in chunks:
        if c.id in found:
            sim = float(found[c.id] @ vector) + (lift if c.lang == "zh" else 0.0)
            hits.append(Hit(chunk=c, score=sim, dense=sim))
    return sorted(hits, key=lambda h: -h.score)


def resolve(ctx, domains: list[str] | None = None) -> list[Ask]:
    """The questions of this turn with their passages; elliptical ones are asked of the topic guide."""
    if "fever" in ctx.flags:  # fever with cough: asked of the outpatient guide's fever clinics
        fever = ctx.desk.triager.fever_guide
        vector = ctx.desk.embedder.query(fever["ask"][ctx.lang])
        return [Ask(text=fever["ask"][ctx.lang], vector=vector, hits=topic_hits(ctx, fever["guide"], vector, ctx.lang)[:5],
                    follow_up=True)]
    parts = split_questions(ctx.query)[:MAX_QUESTIONS]
    topic = (ctx.state.get("topic") or {}).get("doc")
    retriever = ctx.desk.retriever
    asks = []
    for n, part in enumerate(parts):
        vector = ctx.vector if len(parts) == 1 else ctx.desk.embedder.query(part)
        lang = detect_language(part, ctx.lang)
        hits = retriever.retrieve(part, k=5, domains=domains, vector=vector)
        ask = Ask(text=part, vector=vector, hits=hits)
        alone = hits[0].dense if hits and retriever.relevant(hits[:1], lang) else None
        ask.elliptical = ctx.desk.scope.elliptical(vector)
        if n and ask.elliptical >= ELLIPTICAL:  # "高龄津贴明年会涨吗？涨多少": the second asks about the first
            ask.antecedent = n - 1
        if topic and hits and hits[0].doc == topic:
            ask.follow_up = alone is None or ask.elliptical >= ELLIPTICAL  # the same guide, asked elliptically
        elif topic:
            on_topic = topic_hits(ctx, topic, vector, lang)
            if on_topic and (ask.elliptical >= ELLIPTICAL or alone is None
                             or on_topic[0].dense >= alone - FOLLOW_MARGIN
                             or (ask.elliptical >= PERHAPS_ELLIPTICAL
                                 and _reads_as_topic(ctx, topic, part, domains))):
                ask.hits, ask.follow_up = on_topic[:5], True
        if ask.hits and (ask.follow_up or retriever.relevant(ask.hits[:1], lang)):
            topic = ask.hits[0].doc
        asks.append(ask)
    return asks


def _reads_as_topic(ctx, topic: str, part: str, domains: list[str] | None) -> bool:
    """Whether the question, read after the topic guide's title ("公办养老机构入住：外地户口的老人可以排吗"),
    finds the topic guide first: then it continues the topic, though alone it looks like another guide."""
    title = (ctx.state.get("topic") or {}).get("title", "")
    if not title:
        return False
    hits = ctx.desk.retriever.retrieve(f"{title}：{part}", k=1, domains=domains)
    return bool(hits) and hits[0].doc == topic
