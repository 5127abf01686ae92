"""The package's shape: folders in layers, no import cycle, no import from a lower layer to a higher one,
and size limits on modules, skills and functions. Parsed from the source with `ast`, so an import
made only for type checking counts as much as one made at run time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

# lowest first: a module may import from its own layer and the layers before it, never after it
LAYERS = ["core", "search", "safety", "knowledge", "services", "answer", "skills", "dialogue",
          "assistant", "channels", "evaluation", "cli"]
MODULE_LINES, SKILL_LINES, FUNCTION_LINES = 300, 150, 60


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer(module: str) -> int:
    """assistant.core.config -> core; the package itself and assistant.assistant -> assistant."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "assistant"
    return LAYERS.index(name)


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the package that `module` imports, however it spells the import."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known and target != module}
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules, or [] (depth-first search with colours)."""
    state, stack = {}, []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_every_module_sits_in_a_known_layer():
    assert [m for m in modules() if m.split(".")[1:2] and m.split(".")[1] not in LAYERS] == []


def test_no_import_cycle():
    assert cycle(graph()) == []


def test_no_module_imports_from_a_higher_layer():
    upward = sorted(f"{a} -> {b}" for a, targets in graph().items() for b in targets if layer(b) > layer(a))
    assert upward == []


def test_the_checker_finds_a_cycle_and_an_upward_import():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []
    assert layer("assistant.channels.web") > layer("assistant.skills.handoff") > layer("assistant.core.types")


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sizes(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    limit = SKILL_LINES if path.parent.name == "skills" else MODULE_LINES
    assert len(lines) <= limit, f"{path.name} has {len(lines)} lines (at most {limit})"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(ast.parse("\n".join(lines)))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > FUNCTION_LINES]
    assert long == []
