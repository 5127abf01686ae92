"""Answer units: a guide section cut into the pieces an answer can quote, and quoted back faithfully.

A section's text is read as blocks: paragraphs (cut into sentences), lists (each item with its
sub-items, under the line that introduces the list), tables (each row under its header) and
sub-headed parts. An answer selects units; `render` quotes the selected units in the guide's order,
keeps a list's lead-in and numbering, and says when items of a list were left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ITEM = re.compile(r"^(\s*)(?:\d{1,2}[.、．)）]|[（(]\d{1,2}[)）]|[-*•·]|[①-⑳])\s*")
_TABLE = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
_EN_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\"'])")


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a section: a sentence, a list item (with its sub-items) or a table row."""

    section: str
    block: int
    index: int
    kind: str      # sentence | item | row
    text: str
    lead: str = ""  # the line that introduces the list, or the table's header


@dataclass(frozen=True)
class Block:
    kind: str      # para | list | table
    lead: str
    units: tuple[str, ...]


def _sentences(text: str) -> list[str]:
    """Sentences at Chinese stops, then at English ones ("…(澄湾市交通运输局) and … Ltd. It can be used…":
    English guides quote Chinese names, so a Chinese character does not make the text Chinese)."""
    if re.search(r"[\u4e00-\u9fff]", text):
        parts = [m.group(0) for m in re.finditer(r"[^。！？!?；;\n]+[。！？!?；;]*", text)]
    else:
        parts = [text]
    parts = [piece for part in parts for piece in _EN_SENTENCE.split(part)]
    return [p.strip() for p in parts if p.strip()]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def blocks(text: str) -> list[Block]:
    """The blocks of a section's text in order."""
    out: list[Block] = []
    para: list[str] = []
    lines = text.splitlines()
    i = 0

    def flush_para() -> None:
        if para:
            out.append(Block("para", "", tuple(_sentences(" ".join(para)))))
            para.clear()

    while i < len(lines):
        line = lines[i]
        if not line.strip():
            flush_para()
            i += 1
            continue
        if _TABLE.match(line):
            flush_para()
            rows = []
            while i < len(lines) and _TABLE.match(lines[i]):
                if not _TABLE_RULE.match(lines[i]):
                    rows.append(_cells(lines[i]))
                i += 1
            header, body = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
            out.append(Block("table", "｜".join(header), tuple("｜".join(r) for r in body)))
            continue
        m = _ITEM.match(line)
        if m and not m.group(1):
            lead = ""
            if para and re.search(r"[：:]\s*$", para[-1]):  # "标准如下：" introduces the list
                sentences = _sentences(para.pop())
                lead = sentences.pop()
                if sentences:
                    para.append("".join(sentences))
            elif not para and out and out[-1].kind == "para" and re.search(r"[：:]\s*$", out[-1].units[-1]):
                lead = out[-1].units[-1]  # "There are the following types:", a blank line, then the list
                out[-1] = Block("para", "", out[-1].units[:-1])
                if not out[-1].units:
                    out.pop()
            flush_para()
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                sub = _ITEM.match(lines[i])
                if sub and not sub.group(1):
                    items.append(lines[i].rstrip())
                elif items:
                    items[-1] += "\n" + lines[i].rstrip()
                i += 1
            out.append(Block("list", lead, tuple(items)))
            continue
        para.append(line.strip())
        i += 1
    flush_para()
    return out


def units(section: str, text: str) -> list[Unit]:
    """Every unit of one section, in reading order."""
    out = []
    for b, block in enumerate(blocks(text)):
        kind = {"para": "sentence", "list": "item", "table": "row"}[block.kind]
        out.extend(Unit(section=section, block=b, index=i, kind=kind, text=t, lead=block.lead)
                   for i, t in enumerate(block.units))
    return out


def render(section_text: str, chosen: set[tuple[int, int]], lang: str) -> str:
    """Quote the chosen (block, index) units of one section in order: sentences joined, list items
    under their lead-in with their own numbering, table rows as "header: value" lines. A list quoted
    in part says how many of its items were left out."""
    parts = []
    for b, block in enumerate(blocks(section_text)):
        picked = [i for i in range(len(block.units)) if (b, i) in chosen]
        if not picked:
            continue
        if block.kind == "para":
            joiner = "" if lang == "zh" else " "
            parts.append(joiner.join(block.units[i] for i in picked))
        elif block.kind == "list":
            lines = ([block.lead] if block.lead else []) + [block.units[i] for i in picked]
            left = len(block.units) - len(picked)
            if left:
                lines.append(f"（另有{left}项，见原文）" if lang == "zh" else f"({left} more item{'s' * (left > 1)} in the guide)")
            parts.append("\n".join(lines))
        else:
            header = block.lead.split("｜") if block.lead else []
            for i in picked:
                cells = block.units[i].split("｜")
                if header and len(header) == len(cells):
                    sep = "：" if lang == "zh" else ": "
                    parts.append(("；" if lang == "zh" else "; ").join(
                        f"{h}{sep}{c}" if h else c for h, c in zip(header, cells)))
                else:
                    parts.append(("；" if lang == "zh" else "; ").join(cells))
    return "\n".join(parts)
