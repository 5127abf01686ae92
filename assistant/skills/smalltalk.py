"""Small talk: greetings, thanks, goodbyes and "what can you do", answered briefly."""

from __future__ import annotations

import re

from assistant.skills.registry import skill

_THANKS = re.compile(r"谢谢|多谢|感谢|thank|thx|cheers", re.IGNORECASE)
_BYE = re.compile(r"再见|拜拜|bye|see you", re.IGNORECASE)
_CAPABILITIES = re.compile(r"能做什么|能干什么|会什么|有什么功能|能帮我什么|怎么用|机器人|what can you (do|help)|help me with|what do you do|"
                           r"who are you|are you a (robot|bot|human)|your name|你是谁",
                           re.IGNORECASE)


@skill(name="smalltalk", title={"zh": "问候", "en": "Small talk"},
       examples=["您好", "谢谢", "谢谢你的帮助", "你能做什么", "你是谁", "你是机器人吗",
                 "好的谢谢，没有别的问题了", "hi there", "hiya", "thanks", "thank you very much",
                 "goodbye, nice talking to you", "what can you do", "what can you help me with",
                 "who are you", "are you a robot", "what is your name"],
       cues=[r"^\s*(你好|您好|hi|hello|hey|嗨|在吗|谢谢|再见)\W*$"])
def handle(ctx) -> None:
    """A short reply, and what the assistant can do."""
    if _CAPABILITIES.search(ctx.query):
        ctx.canned("capabilities", "answered")
    elif _THANKS.search(ctx.query):
        ctx.canned("thanks", "answered")
    elif _BYE.search(ctx.query):
        ctx.canned("goodbye", "answered")
    else:
        ctx.canned("greeting", "answered")
