"""Real HTTP servers for tests: the app under uvicorn in a thread, or `python app.py` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app):
    """Serve an ASGI app on 127.0.0.1 at a free port until the block ends; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_process(command: list[str], ready: str, log: Path, *, env: dict[str, str] | None = None,
                  timeout: float = 300):
    """Run `command` (its output in `log`) until the block ends; yields the process once `ready` answers 200."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(command[1:3])} exited with {process.returncode}: "
                                   f"{log.read_text()[-2000:]}")
            try:
                if httpx.get(ready, timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command[1:3])} did not become ready in {timeout:.0f} s: "
                                   f"{log.read_text()[-2000:]}")
            time.sleep(1)
        yield process
    finally:
        stop(process)


@contextmanager
def serve_app_py(env: dict[str, str], log: Path, timeout: float = 300):
    """Run `python app.py --port N` with `env` added; yields the base URL once /healthz answers 200."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    full_env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", **env)
    url = f"http://127.0.0.1:{port}"
    with serve_process([sys.executable, "app.py", "--port", str(port)], url + "/healthz", log, env=full_env,
                       timeout=timeout):
        yield url


def stop(process: subprocess.Popen) -> None:
    """End a server process: politely first, then for good after 20 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
