"""Cold start to a served page and serving memory of a real `citydesk serve` on an existing index.

    nice -n 15 python bench/serving.py --home DIR [--knowledge DIR] [--city 澄湾] [--runs 3] [--requests 60]

Each run starts the server as a new process (`python -m assistant.cli serve`), times until the
web page (GET /) answers 200 and until the first /api/chat answer (and that first question's own time
against the median of the following ones: the models and index are warmed before the port opens, so a
citizen's first question is not slower), then sends the regression questions over HTTP and reads the
process's peak RSS (VmHWM) while it is serving.
Use bench/scale.py first to build a large index, e.g. --home bench/results/scale/100000/home.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from common import ROOT, peak_rss_mb, regression_questions, spread, write_json


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(home: Path, knowledge: Path, port: int, extra_env: dict | None = None) -> subprocess.Popen:
    """`citydesk serve` on 127.0.0.1:port in its own process, with a clean CITYDESK_* environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    env |= {"CITYDESK_HOME": str(home), "CITYDESK_KNOWLEDGE": str(knowledge), "CITYDESK_PORT": str(port),
            "CITYDESK_RATE_LIMIT": "0", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve"], cwd=ROOT, env=env | (extra_env or {}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until GET url answers 200; a server that dies or never answers is an error with its stderr."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def one_run(home: Path, knowledge: Path, requests: int, city: str = "") -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    process = start(home, knowledge, port, {"CITYDESK_CITY": city} if city else None)
    try:
        wait_ready(base + "/", process)
        page_s = time.perf_counter() - began
        with httpx.Client(base_url=base, timeout=60) as client:
            asked = time.perf_counter()
            first = client.post("/api/chat", json={"message": "护照怎么办理？"})
            first.raise_for_status()
            first_ask_ms = (time.perf_counter() - asked) * 1000
            first_answer_s = time.perf_counter() - began
            questions = [q["q"] for q in regression_questions()]
            times = []
            for i in range(requests):
                sent = time.perf_counter()
                client.post("/api/chat", json={"message": questions[i % len(questions)]}).raise_for_status()
                times.append((time.perf_counter() - sent) * 1000)
        return {"page_s": page_s, "first_answer_s": first_answer_s, "first_ask_ms": first_ask_ms,
                "http_ask_median_ms": statistics.median(times),
                "serving_peak_rss_mb": peak_rss_mb(process.pid)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="an indexed CITYDESK_HOME")
    parser.add_argument("--knowledge", type=Path, help="its knowledge folder (default: HOME/../knowledge "
                                                       "when it exists, else knowledge/)")
    parser.add_argument("--city", default="", help="CITYDESK_CITY of the server (澄湾 for bench/scale.py corpora)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--name", default="serving")
    args = parser.parse_args()
    home = args.home.resolve()
    if not (home / "index" / "manifest.sqlite").exists():
        print(f"{home} holds no index: build one first (citydesk ingest, or bench/scale.py)")
        return 2
    knowledge = args.knowledge or (home.parent / "knowledge" if (home.parent / "knowledge").is_dir() else ROOT / "knowledge")
    rows = []
    for run in range(args.runs):
        rows.append(one_run(home, knowledge.resolve(), args.requests, args.city))
        r = rows[-1]
        print(f"run {run + 1}: page {r['page_s']:.1f} s, first answer {r['first_answer_s']:.1f} s "
              f"(the first question itself {r['first_ask_ms']:.0f} ms), HTTP ask median {r['http_ask_median_ms']:.0f} ms, "
              f"peak RSS {r['serving_peak_rss_mb']:.0f} MB")
    print()
    print(f"cold start to the page, s:   {spread([r['page_s'] for r in rows])}")
    print(f"cold start to an answer, s:  {spread([r['first_answer_s'] for r in rows])}")
    print(f"first question after ready, ms: {spread([r['first_ask_ms'] for r in rows])}; "
          f"the following ones' median, ms: {spread([r['http_ask_median_ms'] for r in rows])}")
    print(f"serving peak RSS, MB:        {spread([r['serving_peak_rss_mb'] for r in rows])}")
    write_json(args.name, {"home": str(home), "runs": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
