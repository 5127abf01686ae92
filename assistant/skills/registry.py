"""The skill registry: `Skill`, the `@skill` decorator and REGISTRY. It imports no skill; the package's
__init__ lists the built-in ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

REGISTRY: dict[str, "Skill"] = {}


@dataclass(frozen=True)
class Skill:
    """What the router needs to know about a skill, and the function that handles its turns."""

    name: str
    title: dict[str, str]
    handle: Callable
    domains: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)


def skill(*, name: str, title: dict[str, str], domains: list[str] | None = None,
          examples: list[str] | None = None, cues: list[str] | None = None) -> Callable:
    """Register the decorated `handle(ctx)` function as a skill.

    `examples` join the router's training phrasings (seeds/training/skills/ holds most of them);
    `cues` are regular expressions a message must match for this skill to take the turn from another
    skill that waits for an answer.
    """
    def register(handle: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"skill {name!r} is registered twice")
        REGISTRY[name] = Skill(name=name, title=title, handle=handle, domains=list(domains or []),
                               examples=list(examples or []), cues=list(cues or []))
        return handle
    return register
