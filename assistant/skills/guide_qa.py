"""Guide Q&A: any question a service guide answers, from any domain."""

from __future__ import annotations

import re

from assistant.answer import detect_aspect
from assistant.skills import skill

FOLLOW_UP = re.compile(r"^\s*(那|那么|还有|另外|and |what about|how about|also )", re.IGNORECASE)


def follow_up_query(ctx) -> str:
    """A short follow-up ("那要多少钱?") is asked about the last topic; other questions stand alone.

    With an LLM the follow-up is rewritten as a standalone question (`generate.condense`), and the
    rule-based query is what it falls back to.
    """
    topic = ctx.state.get("topic")
    short = len(ctx.query) <= 14 if ctx.lang == "zh" else len(ctx.query.split()) <= 6
    if topic and ((short and detect_aspect(ctx.query)) or FOLLOW_UP.match(ctx.query)):
        rule_based = f"{topic['title']} {ctx.query}"
        if ctx.assistant.llm is None:
            return rule_based
        from assistant.generate import condense

        return condense(ctx, fallback=rule_based)
    return ctx.query


@skill(name="guide_qa", title={"zh": "办事指南问答", "en": "Service guide questions"},
       examples=["办护照需要什么材料", "公积金怎么提取", "how do I get a residence permit"])
def handle(ctx) -> None:
    """Retrieve guide passages (a short follow-up is asked about the last topic); compose quotes them."""
    query = follow_up_query(ctx)
    vector = ctx.vector if query == ctx.query else None
    ctx.hits = ctx.assistant.retriever.retrieve(query, k=5, vector=vector)
