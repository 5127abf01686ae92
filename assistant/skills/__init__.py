"""The skill registry: every skill is listed here explicitly and registered with `@skill`."""

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


def skill(*, name: str, title: dict[str, str], domains: list[str] | None = None,
          examples: list[str] | None = None) -> Callable:
    """Register the decorated `handle(ctx)` function as a skill."""
    def register(handle: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"skill {name!r} is registered twice")
        REGISTRY[name] = Skill(name=name, title=title, handle=handle, domains=list(domains or []),
                               examples=list(examples or []))
        return handle
    return register


from assistant.skills import guide_qa  # noqa: E402,F401  (the explicit list of built-in skills)
