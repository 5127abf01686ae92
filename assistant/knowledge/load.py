"""Guide files to clean text and metadata, one reader per format; unreadable files raise Rejected."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.knowledge.quarantine import REASON as QUARANTINED
from assistant.safety.guardrails import detect_language, looks_like_injection, strip_invisible

GUIDE_TYPES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
FAQ_TYPES = (".csv", ".xlsx")
SUPPORTED = GUIDE_TYPES + FAQ_TYPES
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_PDF_PAGES = 500
PDF_SECONDS = 30  # a PDF whose text takes longer than this to extract is rejected (parser loops, op bombs)
PDF_MEMORY = 1 << 30  # address space of the process that parses a PDF

QUESTION_COLUMNS = ("问题", "question", "q", "问", "常见问题")
ANSWER_COLUMNS = ("答案", "answer", "a", "答", "回答", "解答")
CATEGORY_COLUMNS = ("分类", "category", "类别", "主题")

# Section names of a service guide; in PDFs and plain text they become headings.
KNOWN_SECTIONS = ("事项简介", "适用对象", "申请条件", "所需材料", "办理流程", "办理地点", "办理时限",
                  "收费标准", "咨询电话", "常见问题", "立即拨打", "安全要点", "不要做", "报警时要说清",
                  "一次办好的事项", "Overview", "Who it is for", "Eligibility", "Required materials",
                  "Process", "Where to apply", "Processing time", "Fees", "Contact", "FAQ")
_SECTION_LINE = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]\s*|\d+[、.．]\s*)?(" + "|".join(map(re.escape, KNOWN_SECTIONS)) + r")\s*[:：]?\s*$")
_HIDDEN_HTML = re.compile(r"<(\w+)[^>]*(?:display\s*:\s*none|visibility\s*:\s*hidden|\shidden[\s>=]|aria-hidden\s*=\s*.true)[^>]*>.*?</\1\s*>",
                          re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


class Rejected(Exception):
    """A file that cannot be indexed; the message is the reason shown to staff."""


@dataclass
class Document:
    """A loaded guide: markdown-like text with `#` headings, or FAQ rows, plus front matter."""

    path: str
    domain: str
    title: str
    lang: str
    meta: dict = field(default_factory=dict)
    body: str = ""
    faq: list[tuple[str, str, str]] = field(default_factory=list)


def load(path: Path, root: Path, max_bytes: int, *, released: bool = False) -> Document:
    """Read one file under `root`; raise Rejected with a reason staff can act on. A `released` file (an editor
    read it: quarantine.py) is not quarantined for text that looks like instructions to the assistant."""
    rel = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise Rejected(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}")
    size = path.stat().st_size
    if size == 0:
        raise Rejected("empty file")
    if size > max_bytes:
        raise Rejected(f"too large: {size / 1e6:.1f} MB, the limit is {max_bytes / 1e6:.1f} MB")
    data = path.read_bytes()
    reader = _READERS[suffix]
    try:
        meta, body, faq = reader(data)
    except Rejected:
        raise
    except Exception as exc:  # every parser has its own exceptions; staff need the gist, not a trace
        raise Rejected(f"unreadable {suffix[1:].upper()} file: {type(exc).__name__}: {str(exc)[:120]}") from None
    body = clean(body)
    faq = [(clean(q), clean(a), clean(c)) for q, a, c in faq if clean(q) and clean(a)]
    if not body.strip() and not faq:
        raise Rejected("no text found in the file")
    all_text = body + "\n".join(q + "\n" + a for q, a, _ in faq)
    if looks_like_injection(all_text) and not released:
        raise Rejected(QUARANTINED)
    domain = rel.split("/")[0] if "/" in rel else "general"
    title = strip_invisible(str(meta.get("title") or _first_heading(body) or path.stem)).strip()
    lang = str(meta.get("lang") or detect_language(all_text[:2000]))
    return Document(path=rel, domain=domain, title=title, lang=lang, meta=meta, body=body, faq=faq)


def clean(text: str) -> str:
    """Drop hidden HTML, comments, zero-width and control characters; tidy blank lines. Punctuation is
    kept as written (full-width stays full-width): answers quote guides exactly."""
    text = _COMMENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _HIDDEN_HTML.sub("", text)
    text = strip_invisible(text) if text else text
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _first_heading(body: str) -> str:
    m = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    return m.group(1) if m else ""


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise Rejected("binary content, not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Rejected("not valid UTF-8 or GB18030 text")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 8:
        raise Rejected("binary content, not text")
    return text


def _split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    m = re.match(r"^---\s*\n(.*?)\n---\s*(?:\n|$)", text, re.DOTALL)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise Rejected(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise Rejected("front matter must be a YAML mapping (title: …, lang: …)")
    return {k: v for k, v in meta.items() if v is not None}, text[m.end():]


def _read_markdown(data: bytes):
    meta, body = _split_front_matter(_decode(data))
    return meta, body, []


def _read_text(data: bytes):
    meta, body = _split_front_matter(_decode(data))
    return meta, _mark_section_lines(body), []


def _mark_section_lines(text: str) -> str:
    """Lines that are exactly a known section name become `##` headings (PDF and plain text)."""
    return "\n".join(f"## {m.group(1)}" if (m := _SECTION_LINE.match(line)) else line
                     for line in text.splitlines())


def _read_html(data: bytes):
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(_decode(data), "lxml")
    meta = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    for tag in soup.find_all("meta"):
        name, content = (tag.get("name") or "").lower(), tag.get("content")
        if name in ("updated", "department", "source_url", "lang", "city") and content:
            meta[name] = content
    if soup.html and soup.html.get("lang") and "lang" not in meta:
        meta["lang"] = "en" if soup.html["lang"].lower().startswith("en") else "zh"
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    hidden = soup.find_all(["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "iframe"])
    hidden += soup.find_all(attrs={"hidden": True}) + soup.find_all(attrs={"aria-hidden": "true"})
    hidden += soup.find_all(style=re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I))
    for tag in hidden:
        if not tag.decomposed:
            tag.decompose()
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            tag.insert(0, "\n" + "#" * level + " ")
    for tag in soup.find_all("li"):
        tag.insert(0, "\n- ")
    for tag in soup.find_all(["td", "th"]):
        tag.insert(0, " | ")
    for tag in soup.find_all(["p", "div", "tr", "br", "section", "article", "table", "ul", "ol", "h1", "h2",
                              "h3", "h4", "h5", "h6", "dd", "dt", "li"]):
        tag.append("\n")
    root = soup.body or soup
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in root.get_text("").splitlines()]
    return meta, "\n".join(line.removeprefix("| ") for line in lines if line), []


# Runs in a child process with its own time and memory limits: a PDF that makes pypdf loop or
# balloon is killed and rejected, and neither the caller's thread nor its memory is held.
_PDF_CHILD = """
import io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from pypdf import PdfReader
reader = PdfReader(io.BytesIO(sys.stdin.buffer.read()))
if len(reader.pages) > {pages}:
    json.dump({{"pages": len(reader.pages)}}, sys.stdout)
    sys.exit()
info = reader.metadata
title = str(info.title) if info and info.title else ""
text = "\\n".join((page.extract_text() or "") for page in reader.pages)
json.dump({{"title": title, "text": text}}, sys.stdout)
"""


def _read_pdf(data: bytes):
    code = _PDF_CHILD.format(memory=PDF_MEMORY, pages=MAX_PDF_PAGES)
    try:
        done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=PDF_SECONDS)
    except subprocess.TimeoutExpired:
        raise Rejected(f"refused: reading its text took over {PDF_SECONDS} s (a malformed or hostile PDF)") from None
    if done.returncode != 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["the parser stopped"])[-1]
        raise Rejected(f"unreadable PDF file: {last[:160]}")
    parsed = json.loads(done.stdout)
    if "pages" in parsed:
        raise Rejected(f"too many pages: {parsed['pages']}, the limit is {MAX_PDF_PAGES}")
    meta = {"title": parsed["title"]} if parsed["title"] else {}
    text = parsed["text"]
    if not meta.get("title"):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if first and len(first) <= 60:
            meta["title"] = first
    return meta, _mark_section_lines(text), []


def _check_zip(data: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    unzipped = sum(info.file_size for info in archive.infolist())
    if unzipped > MAX_UNZIPPED_BYTES or unzipped > MAX_ZIP_RATIO * max(len(data), 1):
        raise Rejected(f"refused: expands to {unzipped / 1e6:.0f} MB (a zip bomb or not a real document)")
    return archive


def _read_docx(data: bytes):
    import docx

    _check_zip(data)
    document = docx.Document(io.BytesIO(data))
    meta = {"title": document.core_properties.title} if document.core_properties.title else {}
    lines = []
    for paragraph in document.paragraphs:
        text, style = paragraph.text.strip(), (paragraph.style.name if paragraph.style else "")
        if not text:
            continue
        if style == "Title":
            lines.append(f"# {text}")
        elif m := re.match(r"Heading (\d)", style):
            lines.append("#" * min(int(m.group(1)) + 1, 6) + " " + text)
        elif style.startswith("List"):
            lines.append(f"- {text}")
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return meta, _mark_section_lines("\n".join(lines)), []


def _faq_rows(rows: list[list[str]]) -> list[tuple[str, str, str]]:
    header = [str(c or "").strip().lower() for c in rows[0]] if rows else []

    def column(names):
        return next((i for i, h in enumerate(header) if h in names), None)

    q, a, c = column(QUESTION_COLUMNS), column(ANSWER_COLUMNS), column(CATEGORY_COLUMNS)
    if q is None or a is None:
        raise Rejected("an FAQ table needs a question and an answer column (问题 / 答案 or question / answer)")
    out = []
    for row in rows[1:]:
        cells = [str(x).strip() if x is not None else "" for x in row] + [""] * len(header)
        out.append((cells[q], cells[a], cells[c] if c is not None else ""))
    return out


def _read_csv(data: bytes):
    return {}, "", _faq_rows(list(csv.reader(io.StringIO(_decode(data)))))


def _read_xlsx(data: bytes):
    import openpyxl

    _check_zip(data)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = []
    for sheet in book.worksheets:
        sheet_rows = [list(r) for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
        if sheet_rows:
            rows.extend(_faq_rows(sheet_rows))
    meta = {"title": book.properties.title} if book.properties and book.properties.title else {}
    return meta, "", rows


_READERS = {".md": _read_markdown, ".markdown": _read_markdown, ".txt": _read_text, ".html": _read_html,
            ".htm": _read_html, ".pdf": _read_pdf, ".docx": _read_docx, ".csv": _read_csv, ".xlsx": _read_xlsx}
