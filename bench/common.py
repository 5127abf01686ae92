"""Helpers the bench scripts share: paths, a temporary copy of the knowledge folder, statistics."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _import_library(name: str) -> None:
    """Import the installed `name` before bench/ can shadow it (bench/requests.py is a script)."""
    here = str(Path(__file__).resolve().parent)
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]
    try:
        __import__(name)
    finally:
        sys.path[:] = saved


_import_library("requests")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results")  # tests write elsewhere


@contextmanager
def temporary_home(files: int | None = None):
    """A temporary CITYDESK_HOME and a copy of knowledge/ (optionally only the first `files` guides)."""
    with tempfile.TemporaryDirectory(prefix="citydesk-bench-") as tmp:
        knowledge = Path(tmp) / "knowledge"
        sources = sorted(p for p in (ROOT / "knowledge").rglob("*") if p.is_file())
        for path in sources[:files] if files else sources:
            target = knowledge / path.relative_to(ROOT / "knowledge")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        yield Path(tmp) / "home", knowledge


def regression_questions() -> list[dict]:
    out = []
    for path in sorted((ROOT / "tests" / "regression").glob("*.yaml")):
        out.extend(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
    return out


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory since it started its program (VmHWM). Not getrusage's
    ru_maxrss: on Linux that keeps the parent's resident size at fork through exec."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


def write_json(name: str, data) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    return path
