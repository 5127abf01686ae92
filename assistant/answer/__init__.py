"""Answers from guide passages: the extractive composer, question aspects and follow-ups, LLM generation with verification and attribution."""
