"""The sensitive-word list: a plain text file staff can edit; replies and requests that hit it are declined.

Chinese deployments must filter output against a list the operator maintains (敏感词过滤). The file
(CITYDESK_SENSITIVE_WORDS, default prompts/sensitive_words.txt) has one entry per line: a word or
phrase, or `re:` and a regular expression for a harmful request ("how do I forge …"); `#` starts a
comment. Matching ignores case, full-width forms and the spaces or dots put between characters to
slip past a filter. The file is read again when it changes, so staff edits apply without a restart.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("citydesk.sensitive")

_FILLER = re.compile(r"[\s._\-*·•|/\\]+")


@dataclass(frozen=True)
class WordList:
    """The compiled entries of one sensitive-word file."""

    words: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]

    def find(self, text: str) -> str | None:
        """The first entry the text hits (a word, or a pattern's source), or None."""
        plain = unicodedata.normalize("NFKC", text).lower()
        squeezed = _FILLER.sub("", plain)
        for word in self.words:
            if word in plain or word in squeezed:
                return word
        for pattern in self.patterns:
            if pattern.search(plain) or pattern.search(squeezed):
                return pattern.pattern
        return None


def parse(text: str, source: str = "") -> WordList:
    """Entries from the file's text; a bad regular expression is reported with its line and skipped."""
    words, patterns = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("re:") else raw.strip()
        if not line:
            continue
        if line.startswith("re:"):
            try:
                patterns.append(re.compile(line[3:].strip(), re.IGNORECASE))
            except re.error as exc:
                log.error("%s:%d: not a regular expression (%s); entry skipped", source, number, exc)
        else:
            words.append(_FILLER.sub("", unicodedata.normalize("NFKC", line).lower()))
    return WordList(words=tuple(words), patterns=tuple(patterns))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> WordList:
    return parse(Path(path).read_text(encoding="utf-8"), source=path)


def word_list(path: Path) -> WordList:
    """The list in `path`, re-read when the file changes; a missing file is an empty list (logged)."""
    try:
        return _load(str(path), path.stat().st_mtime)
    except FileNotFoundError:
        log.error("sensitive-word list %s not found; no output filtering", path)
        return WordList(words=(), patterns=())
