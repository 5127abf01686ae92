"""Guide Q&A: any question a service guide answers, from any domain."""

from __future__ import annotations

from assistant.skills import skill


@skill(name="guide_qa", title={"zh": "办事指南问答", "en": "Service guide questions"},
       examples=["办护照需要什么材料", "公积金怎么提取", "how do I get a residence permit"])
def handle(ctx) -> None:
    """Retrieve guide passages; the compose step quotes them or says nothing was found."""
    ctx.hits = ctx.assistant.retrieve(ctx.query, k=5)
