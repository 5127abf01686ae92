"""What a question asks: its aspects (fee, documents, time…), the situation (lost, renewal…), values
the citizen states about themselves (an age, months paid), whether it wants a yes or no, and the
single questions of a message that asks several."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from assistant.safety.guardrails import normalize
from assistant.core.prompts import PROMPTS_DIR

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(\d+|[零〇一二两三四五六七八九十百]+)"
# values a citizen states about themselves: (kind, pattern); the number is group 1
_VALUES = [
    ("age", re.compile(_NUM + r"\s*(?:周岁|岁)")),
    ("age", re.compile(r"(?:i am|i'm|im|aged|age|he is|she is|he's|she's|is|turned|turning)\s+(\d{1,3})(?!\s*(?:months?|years? of|%|yuan))\b", re.I)),
    ("age", re.compile(r"(\d{1,3})\s*(?:-\s*)?years?[- ]old", re.I)),
    ("months", re.compile(r"(?:交|缴|缴纳|缴费|参保|住|居住|工作|干|上班|满|连续|累计)[^，。？?,]{0,6}?" + _NUM + r"\s*个\s*(?:多)?月")),
    ("months", re.compile(_NUM + r"\s*个月(?:了)?(?:的)?(?:社保|医保|公积金|养老)")),
    ("months", re.compile(r"(\d{1,3})\s*months?", re.I)),
    ("years", re.compile(r"(?:交|缴|缴纳|缴费|参保|住|居住|工作|干|上班|满|连续|累计)[^，。？?,]{0,6}?" + _NUM + r"\s*(?:多)?年(?!级|龄|代|底|初|前|后|月|\d)")),
    ("years", re.compile(_NUM + r"\s*年(?:的)?(?:社保|医保|公积金|养老|工龄)")),
    ("years", re.compile(r"(\d{1,2})\s*years?(?! old)", re.I)),
]
_YESNO = re.compile(r"(能|可以|可不可以|能不能|是不是|是否|会不会|要不要|需不需要|需要|用不用|有没有|算不算|行不行|够不够|让不让)"
                    r".{0,24}(吗|么|嘛|不|没有)?\s*[？?]?\s*$|吗\s*[？?]?\s*$|^(can|could|may|do|does|is|are|am|will|would|should|must|have|has)\b",
                    re.I)
_SPLIT = re.compile(r"(?<=[？?])\s*|[。；;，,]\s*(?:另外|还有就是|还有一个|顺便问一下|顺便问下|再问一下|再问下|还想问)[，,:：]?\s*"
                    r"|[.;,]?\s+(?:and also|also,|another question:)\s+"
                    # "How much is a ticket, and what time does the last train leave?": a question clause
                    r"|,?\s+and\s+(?=(?:what|when|where|which|who|why|how|is|are|can|could|do|does|will|should)\s)",
                    re.I)


_ASKING = re.compile(r"哪|什么|啥|怎么|怎样|如何|多少|多久|几|吗|呢|么|\b(how|what|where|when|which|who|why|whether)\b", re.I)


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    """prompts/aspects.yaml, with its patterns compiled."""
    data = yaml.safe_load((PROMPTS_DIR / "aspects.yaml").read_text(encoding="utf-8"))
    data["answer_patterns"] = {k: re.compile(v, re.I) for k, v in data["answers"].items()}
    data["enumeration_pattern"] = re.compile(data["enumeration"], re.I)
    return data


def to_number(text: str) -> int | None:
    """An Arabic or simple Chinese numeral (六十五, 八十, 十二) as an int."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


@dataclass
class Question:
    """The analysis of one question."""

    text: str
    aspects: list[str] = field(default_factory=list)
    situations: set[str] = field(default_factory=set)
    values: list[tuple[str, int]] = field(default_factory=list)
    yesno: bool = False

    @property
    def aspect(self) -> str | None:
        return self.aspects[0] if self.aspects else None


def _has(cue: str, text: str) -> bool:
    if re.fullmatch(r"[a-z][a-z' -]*", cue):  # an English cue is a whole word ("app" is not in "applies")
        return re.search(rf"\b{re.escape(cue)}\b", text) is not None
    return cue in text


def analyze(text: str) -> Question:
    """Aspects in order of how many of their cues the question has (ties: the order of aspects.yaml)."""
    vocab = vocabulary()
    clean = normalize(text).lower()
    counted = []
    for n, (name, spec) in enumerate(vocab["aspects"].items()):
        hits = sum(1 for lang in ("zh", "en") for cue in spec["cues"][lang] if _has(cue.lower(), clean))
        if hits:
            counted.append((-hits, n, name))
    aspects = [name for _, _, name in sorted(counted)]
    if "amount" in aspects and "fees" in aspects:
        aspects.remove("fees")  # "高龄津贴一个月多少钱" asks what is received, not what is paid
    situations = {name for name, cues in vocab["situations"].items()
                  if any(_has(c.lower(), clean) for lang in ("zh", "en") for c in cues[lang])}
    values = []
    for kind, pattern in _VALUES:
        for m in pattern.finditer(clean):
            number = to_number(m.group(1))
            if number is not None and (kind, number) not in values and not any(k == kind for k, _ in values):
                values.append((kind, number))
    return Question(text=text, aspects=aspects, situations=situations, values=values,
                    yesno=bool(_YESNO.search(clean.strip())))


def split_questions(text: str) -> list[str]:
    """The single questions of a message, in order ("临时身份证多少钱？几天能拿" is two); a message
    with one question is returned whole. Parts too short to ask anything are joined to the previous."""
    parts = [p.strip(" ，,。") for p in _SPLIT.split(text) if p and p.strip(" ，,。")]
    out: list[str] = []
    for n, part in enumerate(parts):
        if n + 1 < len(parts) and re.fullmatch(r"[A-Za-z]+(?: [A-Za-z]+)?", part):  # "Where and when do I…"
            parts[n + 1] = f"{part} and {parts[n + 1]}"
            continue
        asks = re.search(r"[？?]\s*$", part) or _ASKING.search(part) or analyze(part).yesno
        if out and (len(re.sub(r"\W", "", part)) < 3 or not asks):  # "…ready? Application CW…, phone …"
            out[-1] += part
        else:
            out.append(part)
    return out or [text]


def needed(question: Question) -> list[re.Pattern]:
    """What the quoted text must contain to answer the question's main aspects (any one of them)."""
    vocab = vocabulary()
    required = [a for a in question.aspects if vocab["aspects"][a].get("required")]
    kinds = [vocab["aspects"][a]["answer"] for a in (required[:1] or question.aspects[:2])]
    if not kinds or not all(kinds):
        return []
    return [vocab["answer_patterns"][k] for k in kinds]


def identifiers(text: str) -> list[str]:
    """Names made of a number in the question (5号线, 23路公交, Line 5), normalised for comparison."""
    pattern = re.compile(vocabulary()["identifiers"], re.I)
    return [re.sub(r"\s+", "", m.group(0)).lower() for m in pattern.finditer(normalize(text))]
