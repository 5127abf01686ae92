"""Answer-quality suites: YAML files of scripted conversations, loaded and checked with file:line errors.

A suite is data (see evals/README.md): a name, optional defaults, thresholds and clock, and cases;
a case is one or more turns, each a message (`say`) and what the reply must show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from assistant.core.config import ROOT

from assistant.core.types import STATUSES

SUITES_DIR = ROOT / "evals" / "suites"
EXPECTATIONS = ("status", "skill", "cites", "contains_all", "contains_any", "not_contains", "asks_for", "lang",
                "max_latency_ms")
TURN_KEYS = ("say", "note") + EXPECTATIONS
CASE_KEYS = ("id", "tags", "smoke", "note", "turns")
SUITE_KEYS = ("suite", "description", "defaults", "thresholds", "clock", "cases")
# Minimums (rates from 0 to 1) and maximums (milliseconds) a suite may declare for the release gate.
MINIMUMS = ("pass_rate", "routing_accuracy", "hit_at_1", "hit_at_5", "mrr", "fact_recall", "refusal_precision",
            "refusal_recall", "emergency_recall", "handoff_correctness", "judge_faithfulness", "judge_relevance")
MAXIMUMS = ("latency_median_ms", "latency_p95_ms")


class SuiteError(ValueError):
    """A suite file cannot be used; the message starts with the file and line."""


@dataclass(frozen=True)
class Turn:
    """One message of a scripted conversation and the expectations on its reply."""

    say: str
    expect: dict
    line: int


@dataclass(frozen=True)
class Case:
    """A scripted conversation, run in a fresh session."""

    id: str
    suite: str
    file: str
    line: int
    turns: list[Turn]
    tags: list[str] = field(default_factory=list)
    smoke: bool = False


@dataclass(frozen=True)
class Suite:
    """A file of cases with its thresholds and, optionally, the clock its cases run at."""

    name: str
    file: str
    description: str
    thresholds: dict[str, float]
    cases: list[Case]
    clock: dt.datetime | None = None


class _Map(dict):
    """A YAML mapping that remembers its line and the line of each key."""

    line = 0
    key_lines: dict = {}


class _Loader(yaml.SafeLoader):
    """Safe YAML whose mappings keep their line numbers; `file` names the file in errors."""

    file = ""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out, lines = _Map(), {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in lines:
            raise SuiteError(f"{loader.file}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
        lines[key] = key_node.start_mark.line + 1
        out[key] = loader.construct_object(value_node, deep=True)
    out.line, out.key_lines = node.start_mark.line + 1, lines
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def load_suite(path: Path, skills: set[str] | None = None) -> Suite:
    """Read and check one suite file; any problem raises SuiteError naming the file and line."""
    name = str(path)
    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"{name}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SuiteError(f"{name}: not UTF-8 text") from None
    loader.file = name
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise SuiteError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    finally:
        loader.dispose()
    return _Checker(name, skills).suite(data, path.stem)


def load_suites(paths: list[Path], skills: set[str] | None = None, smoke: bool = False) -> list[Suite]:
    """Load several suites; case ids must be unique across them. `smoke` keeps only smoke cases."""
    suites, seen = [], {}
    for path in paths:
        suite = load_suite(path, skills)
        for case in suite.cases:
            if case.id in seen:
                raise SuiteError(f"{case.file}:{case.line}: case id {case.id!r} is already used at {seen[case.id]}")
            seen[case.id] = f"{case.file}:{case.line}"
        if smoke:
            suite = Suite(name=suite.name, file=suite.file, description=suite.description,
                          thresholds=suite.thresholds, cases=[c for c in suite.cases if c.smoke], clock=suite.clock)
        suites.append(suite)
    return suites


def _shown(path: Path) -> Path:
    """A path as a person reads it in messages: relative to the working directory when it is below it."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def resolve_paths(names: list[str], directory: Path = SUITES_DIR) -> list[Path]:
    """Suite files from command-line names: a path, or a name under evals/suites; all of them by default."""
    if not names:
        found = sorted(directory.glob("*.yaml"))
        if not found:
            raise SuiteError(f"{directory}: no suite files (*.yaml)")
        return [_shown(p) for p in found]
    paths = []
    for name in names:
        candidates = [Path(name), directory / name, directory / f"{name}.yaml"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise SuiteError(f"{name}: no such suite (not a file, nor a name under {directory})")
        paths.append(_shown(path))
    return paths


class _Checker:
    """Turns parsed YAML into a Suite, or a SuiteError at the first problem."""

    def __init__(self, file: str, skills: set[str] | None) -> None:
        self.file = file
        self.skills = skills

    def fail(self, line: int, message: str) -> SuiteError:
        return SuiteError(f"{self.file}:{line}: {message}")

    def keys(self, node, allowed: tuple[str, ...], what: str) -> None:
        if not isinstance(node, _Map):
            raise self.fail(getattr(node, "line", 1), f"{what} must be a mapping")
        for key in node:
            if key not in allowed:
                raise self.fail(node.key_lines[key], f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)})")

    def suite(self, data, stem: str) -> Suite:
        if data is None:
            raise self.fail(1, "the file is empty")
        self.keys(data, SUITE_KEYS, "the suite")
        name = str(data.get("suite") or stem)
        defaults = data.get("defaults") or _Map()
        self.keys(defaults, EXPECTATIONS, "defaults")
        self.expectations(defaults)
        thresholds = self.thresholds(data.get("thresholds") or _Map())
        clock = self.clock(data)
        cases = data.get("cases")
        if not isinstance(cases, list) or not cases:
            raise self.fail(data.key_lines.get("cases", data.line), "a suite needs a non-empty list of cases")
        built = [self.case(node, name, defaults) for node in cases]
        return Suite(name=name, file=self.file, description=str(data.get("description", "")),
                     thresholds=thresholds, cases=built, clock=clock)

    def clock(self, data: _Map) -> dt.datetime | None:
        raw = data.get("clock")
        if raw is None:
            return None
        try:
            return raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(str(raw))
        except ValueError:
            raise self.fail(data.key_lines["clock"], f"clock {raw!r} is not a date and time such as "
                                                     "2026-11-30T08:00") from None

    def thresholds(self, node: _Map) -> dict[str, float]:
        self.keys(node, MINIMUMS + MAXIMUMS, "thresholds")
        out = {}
        for key, value in node.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(node.key_lines[key], f"threshold {key} must be a number")
            if key in MINIMUMS and not 0 <= value <= 1:
                raise self.fail(node.key_lines[key], f"threshold {key} is a rate between 0 and 1, not {value}")
            out[key] = float(value)
        return out

    def case(self, node, suite: str, defaults: _Map) -> Case:
        if not isinstance(node, _Map):
            raise self.fail(getattr(node, "line", 1), "a case must be a mapping with id and turns (or say)")
        single = "say" in node
        self.keys(node, (CASE_KEYS + TURN_KEYS) if single else CASE_KEYS, f"case {node.get('id', '?')!r}")
        case_id = node.get("id")
        if not isinstance(case_id, str) or not case_id.strip():
            raise self.fail(node.line, "a case needs an id (a non-empty string)")
        if single and "turns" in node:
            raise self.fail(node.key_lines["turns"], f"case {case_id!r} has both say and turns: use one")
        turn_nodes = [_Map({k: v for k, v in node.items() if k in TURN_KEYS})] if single else node.get("turns")
        if single:
            turn_nodes[0].line, turn_nodes[0].key_lines = node.line, node.key_lines
        if not isinstance(turn_nodes, list) or not turn_nodes:
            raise self.fail(node.key_lines.get("turns", node.line), f"case {case_id!r} needs turns (or say)")
        tags = node.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise self.fail(node.key_lines.get("tags", node.line), "tags must be a list of words")
        if not isinstance(node.get("smoke", False), bool):
            raise self.fail(node.key_lines["smoke"], "smoke must be true or false")
        turns = [self.turn(t, case_id, defaults) for t in turn_nodes]
        return Case(id=case_id, suite=suite, file=self.file, line=node.line, turns=turns, tags=tags,
                    smoke=node.get("smoke", False))

    def turn(self, node, case_id: str, defaults: _Map) -> Turn:
        self.keys(node, TURN_KEYS, f"a turn of case {case_id!r}")
        say = node.get("say")
        if not isinstance(say, str):
            raise self.fail(node.line, f"a turn of case {case_id!r} needs say: the citizen's message as text")
        self.expectations(node)
        expect = {**{k: v for k, v in defaults.items()}, **{k: v for k, v in node.items() if k in EXPECTATIONS}}
        return Turn(say=say, expect=expect, line=node.line)

    def expectations(self, node: _Map) -> None:
        def line(key):
            return node.key_lines.get(key, node.line)

        for key in ("status", "skill", "asks_for"):
            if key in node:
                values = node[key] if isinstance(node[key], list) else [node[key]]
                if not values or not all(isinstance(v, str) for v in values):
                    raise self.fail(line(key), f"{key} must be a word or a list of alternatives")
                if key == "status" and set(values) - set(STATUSES):
                    raise self.fail(line(key), f"unknown status {sorted(set(values) - set(STATUSES))} "
                                               f"(known: {', '.join(STATUSES)})")
                if key == "skill" and self.skills and set(values) - self.skills - {""}:
                    raise self.fail(line(key), f"unknown skill {sorted(set(values) - self.skills)} "
                                               f"(known: {', '.join(sorted(self.skills))})")
        for key in ("contains_any", "not_contains"):
            if key in node and (not isinstance(node[key], list) or not node[key]
                                or not all(isinstance(v, str) and v for v in node[key])):
                raise self.fail(line(key), f"{key} must be a non-empty list of texts (got {node[key]!r}; "
                                           "quote numbers, and texts with commas)")
        for key, what in (("contains_all", "facts; a fact"), ("cites", "guide paths; an item")):
            items = node.get(key)
            ok = items is None or isinstance(items, list) and items and all(
                (isinstance(v, str) and v) or (isinstance(v, list) and v and all(isinstance(a, str) and a for a in v))
                for v in items)
            if not ok:
                raise self.fail(line(key), f"{key} must be a list of {what} is a text or a list of alternatives "
                                           f"(got {items!r}; quote numbers, and texts with commas)")
        if "lang" in node and node["lang"] not in ("zh", "en"):
            raise self.fail(line("lang"), "lang must be zh or en")
        if "max_latency_ms" in node:
            value = node["max_latency_ms"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise self.fail(line("max_latency_ms"), "max_latency_ms must be a number of milliseconds above 0")
