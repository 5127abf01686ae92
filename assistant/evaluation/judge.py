"""LLM-as-judge: faithfulness of an answer to the passages it cites, and its relevance to the question.

Optional and reported beside the deterministic metrics, never instead of them. The prompts are in
prompts/judge.yaml (zh + en); the judge model is CITYDESK_JUDGE_MODEL on the configured LLM server
(the answer model when unset).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from assistant.core.config import Settings
from assistant.core.prompts import render
from assistant.core.types import Reply

_JSON = re.compile(r"\{.*\}", re.DOTALL)
JUDGED_STATUSES = ("answered",)


def parse_verdict(text: str) -> tuple[float | None, str]:
    """A judge's JSON verdict {"score": 1-5, "reason": …} as a 0-1 score and the reason; None when unusable."""
    found = _JSON.search(text or "")
    try:
        data = json.loads(found.group(0)) if found else None
        score = float(data["score"])
    except (ValueError, TypeError, KeyError):
        return None, f"unusable verdict: {(text or '')[:200]}"
    if not 1 <= score <= 5:
        return None, f"score {score} is outside 1-5"
    return round((score - 1) / 4, 4), str(data.get("reason", ""))


class Judge:
    """Scores replies with a chat model; one call per metric, failures recorded rather than raised."""

    def __init__(self, *, model, name: str) -> None:
        self.model = model
        self.name = name

    def _ask(self, metric: str, lang: str, **values) -> tuple[float | None, str]:
        messages = [("system", render(f"{metric}_system", lang, file="judge")),
                    ("human", render(f"{metric}_user", lang, file="judge", **values))]
        try:
            return parse_verdict(str(self.model.invoke(messages).content))
        except Exception as exc:  # the judge is optional: a failed call is a missing score, not a failed run
            return None, f"judge call failed: {type(exc).__name__}: {exc}"

    def score(self, question: str, reply: Reply, index) -> dict | None:
        """Faithfulness and relevance (0-1) of an answered reply, with the judge's reasons."""
        if reply.status not in JUDGED_STATUSES:
            return None
        chunks = index.chunks([c.chunk_id for c in reply.citations if c.chunk_id])
        passages = "\n\n".join(f"[{c.n}] {chunks[c.chunk_id].title} · {chunks[c.chunk_id].section}\n"
                               f"{chunks[c.chunk_id].text}" for c in reply.citations if c.chunk_id in chunks)
        faithfulness, why_faithful = self._ask("faithfulness", reply.lang, question=question, answer=reply.text,
                                               passages=passages or "-")
        relevance, why_relevant = self._ask("relevance", reply.lang, question=question, answer=reply.text)
        return {"faithfulness": faithfulness, "relevance": relevance,
                "reasons": {"faithfulness": why_faithful, "relevance": why_relevant}}


def build_judge(settings: Settings) -> Judge | None:
    """The judge on the configured LLM server, or None when no LLM is configured."""
    from assistant.answer.llm import build_chat_model

    name = settings.judge_model or settings.llm_model
    model = build_chat_model(replace(settings, llm_model=name))
    return Judge(model=model, name=name or "default") if model is not None else None
