"""Documents to chunks that follow headings, sized in tokens, each knowing its guide and section."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.knowledge.load import Document
from assistant.core.tokens import encoding
from assistant.core.types import Chunk

# The version of the chunking rules: a change makes the next ingestion chunk every file again
# (vectors are reused for chunks whose text did not change).
CHUNKER_VERSION = "2: one chunk per FAQ pair; whole sections kept for answers"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A question line of an FAQ section as guides write it: **问：…** / 问：… / **Q: …**
_QUESTION = re.compile(r"^\s*(?:\*\*)?\s*(?:问|Q)\s*[:：]\s*(.+?)\s*(?:\*\*)?\s*$")
_ANSWER = re.compile(r"^\s*(?:\*\*)?(?:答|A)\s*[:：]\s*(?:\*\*)?\s*")
_SEPARATORS = ["\n\n", "\n", "。", "；", "！", "？", ". ", "; ", "，", ", ", " ", ""]


@lru_cache(maxsize=8)
def _splitter(chunk_tokens: int) -> RecursiveCharacterTextSplitter:
    enc = encoding()
    return RecursiveCharacterTextSplitter(chunk_size=chunk_tokens, chunk_overlap=chunk_tokens // 8,
                                          separators=_SEPARATORS, keep_separator="end",
                                          length_function=lambda text: len(enc.encode_ordinary(text)))


def sections(body: str) -> list[tuple[list[str], str]]:
    """Split markdown at headings into (heading path, text) pairs, keeping the text as written.

    LangChain's MarkdownHeaderTextSplitter is not used here: it drops blank lines and appends
    trailing spaces, and an extractive answer must quote a section exactly as the guide has it.
    """
    path: list[tuple[int, str]] = []
    out: list[tuple[list[str], str]] = []
    lines: list[str] = []
    in_fence = False

    def flush():
        text = "\n".join(lines).strip()
        if text:
            out.append(([title for _, title in path], text))
        lines.clear()

    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, m.group(2).strip())]
        else:
            lines.append(line)
    flush()
    return out


def faq_pairs(text: str) -> list[tuple[str, str]]:
    """The (question, answer) pairs of an FAQ section written as question lines followed by answers;
    empty when the text is not made of such pairs."""
    pairs: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _QUESTION.match(line)
        if m:
            pairs.append((m.group(1).strip(), []))
        elif pairs:
            pairs[-1][1].append(_ANSWER.sub("", line, count=1) if not pairs[-1][1] else line)
        elif line.strip():
            return []
    return [(q, "\n".join(a).strip()) for q, a in pairs if "\n".join(a).strip()]


def document_sections(doc: Document) -> list[tuple[str, str]]:
    """The guide as (section path, whole text) pairs in reading order: what answers quote from.

    FAQ pairs (from an FAQ sheet, or an FAQ section of a guide) are one section each, named
    "<heading> > 问：<question>" ("Q: " in English), so that one pair can be quoted and cited alone.
    """
    label = "问：" if doc.lang == "zh" else "Q: "
    out = [(f"{category + ' > ' if category else ''}{label}{question}", answer) for question, answer, category in doc.faq]
    for heading_path, text in sections(doc.body):
        if heading_path and heading_path[0] == doc.title:
            heading_path = heading_path[1:]
        section = " > ".join(heading_path)
        pairs = faq_pairs(text)
        if pairs:
            out.extend((f"{section + ' > ' if section else ''}{label}{q}", a) for q, a in pairs)
        else:
            out.append((section, text))
    return out


def english_names(doc: Document) -> dict[str, str]:
    """A Chinese guide's English name and search words from its front matter (`title_en`, `tags_en` as a
    list or a comma-separated text, as HTML meta tags give it), so English questions find it."""
    if doc.lang == "en":
        return {"title_en": "", "tags_en": ""}
    tags = doc.meta.get("tags_en") or []
    tags = [str(t).strip() for t in (tags if isinstance(tags, list) else str(tags).split(","))]
    return {"title_en": str(doc.meta.get("title_en") or "").strip()[:200], "tags_en": ", ".join(t for t in tags if t)[:300]}


def chunk_document(doc: Document, *, chunk_tokens: int, content_hash: str) -> list[Chunk]:
    """All chunks of one document; ids depend on its path and content, so re-indexing is idempotent."""
    prefix = hashlib.sha1(doc.path.encode()).hexdigest()[:10] + "-" + content_hash[:10]
    common = dict(doc=doc.path, domain=doc.domain, title=doc.title, lang=doc.lang,
                  source_url=str(doc.meta.get("source_url", "")), updated=str(doc.meta.get("updated", "")),
                  city=str(doc.meta.get("city") or "").strip(),
                  **english_names(doc))
    pieces = [(section, part.strip()) for section, text in document_sections(doc)
              for part in _splitter(chunk_tokens).split_text(text)]
    return [Chunk(id=f"{prefix}-{i:04d}", section=section, text=text, ordinal=i, **common)
            for i, (section, text) in enumerate(pieces) if text]
