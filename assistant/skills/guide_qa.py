"""Guide Q&A: any question a service guide answers, from any domain."""

from __future__ import annotations

from assistant.answer.followup import resolve
from assistant.skills.registry import skill


@skill(name="guide_qa", title={"zh": "办事指南问答", "en": "Service guide questions"},
       examples=["办护照需要什么材料", "公积金怎么提取", "how do I get a residence permit"])
def handle(ctx) -> None:
    """Retrieve guide passages for each question of the message (follow-ups against the topic)."""
    ctx.asks = resolve(ctx)
