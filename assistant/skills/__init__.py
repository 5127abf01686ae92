"""The skills: thin domain handlers, each registered with `@skill` (see registry.py).

Importing the package registers the built-in skills listed here; an add-on skill is one more import.
"""

from assistant.skills import emergency, guide_qa, handoff, health_booking, permits, report_issue, smalltalk  # noqa: F401
from assistant.skills.registry import REGISTRY, Skill, skill  # noqa: F401
