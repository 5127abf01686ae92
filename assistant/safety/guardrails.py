"""Input and output checks: bad input, PII detection and masking, instructions aimed at the assistant."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from assistant.safety import injection

MAX_INPUT_CHARS = 2000

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d(?:[- ]?\d{4}){2})(?!\d)")
_SPACED_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{4,6}(?:[ -]\d{1,8}){2,4}[Xx]?)(?![0-9A-Za-z])")
_LANDLINE_RE = re.compile(r"(?<!\d)(?:[(（]\s*(0\d{2,3})\s*[)）]\s*|(0\d{2,3})[- ])([2-9]\d{6,7})(?!\d)")
_CARD_RE = re.compile(r"(?<!\d)((?:\d[ -]?){15,18}\d)(?!\d)")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"))


@dataclass(frozen=True)
class InputProblem:
    """Why a message cannot be processed; `reason` names a canned reply in prompts/replies.yaml."""

    reason: str


def normalize(text: str) -> str:
    """For matching: NFKC (full-width to half-width), without zero-width and control characters."""
    return strip_invisible(unicodedata.normalize("NFKC", text))


def strip_invisible(text: str) -> str:
    """For display and quoting: the text as written, without zero-width and control characters
    (newlines and tabs kept); full-width punctuation stays full-width."""
    text = text.translate(_ZERO_WIDTH)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def check_input(text: str | None) -> InputProblem | None:
    """Empty, over-long or binary input; None when the message can be processed."""
    if text is None or not text.strip():
        return InputProblem("empty")
    if len(text) > MAX_INPUT_CHARS:
        return InputProblem("too_long")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t\r")
    if "\x00" in text or controls > max(3, len(text) // 20) or "\ufffd" in text:
        return InputProblem("binary")
    if not normalize(text).strip():
        return InputProblem("empty")
    return None


def looks_like_injection(text: str) -> bool:
    """True when the text contains instructions aimed at the assistant itself (see assistant/safety/injection.py)."""
    return injection.detect(text, injection.INSTRUCTION_KINDS) is not None


def valid_resident_id(number: str) -> bool:
    """An 18-digit Chinese resident ID number whose check digit is right."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that bank card numbers carry."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mask_id(m: re.Match) -> str:
    # Masked even when the check digit is wrong: a mistyped ID is still somebody's ID.
    number = m.group(1)
    return number[:6] + "*" * 8 + number[14:]


def _mask_spaced_id(m: re.Match) -> str:
    # "110101 19900307 4514" or "1101 0119 9003 0745 14": an ID when the digits have an ID's shape and
    # either its check digit is right or they are no bank card
    digits = re.sub(r"[ -]", "", m.group(1))
    if not _ID_RE.fullmatch(digits) or not (valid_resident_id(digits) or not luhn_valid(digits[:-1] + "0")):
        return m.group(0)
    return digits[:6] + "*" * 8 + digits[14:]


def _mask_mobile(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(1))
    return m.group(0).replace(m.group(1), digits[:3] + "****" + digits[7:])


def _mask_card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(1))
    if not 16 <= len(digits) <= 19 or not luhn_valid(digits):
        return m.group(0)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_email(m: re.Match) -> str:
    user, _, host = m.group(0).partition("@")
    return user[:1] + "***@" + host


def _mask_landline(m: re.Match) -> str:
    area, number = m.group(1) or m.group(2), m.group(3)
    return f"{area}-{number[:2]}{'*' * (len(number) - 4)}{number[-2:]}"


def mask_resident_ids(text: str) -> str:
    """Mask only resident ID numbers (replies keep office phone numbers readable)."""
    return _SPACED_ID_RE.sub(_mask_spaced_id, _ID_RE.sub(_mask_id, text))


def name_numbers(text: str) -> str:
    """Resident IDs, bank cards and phone numbers replaced by the words for them ("身份证号", "phone
    number"): what a classifier learned from phrasings can read, where a run of digits only confuses it."""
    zh = has_chinese(text)
    for pattern, word in ((_ID_RE, ("身份证号", "ID number")), (_SPACED_ID_RE, ("身份证号", "ID number")),
                          (_CARD_RE, ("银行卡号", "card number")), (_MOBILE_RE, ("手机号", "phone number")),
                          (_LANDLINE_RE, ("电话号码", "phone number"))):
        text = pattern.sub(word[0] if zh else f" {word[1]} ", text)
    return re.sub(r"  +", " ", text)


def mask_pii(text: str) -> str:
    """Mask resident IDs, bank cards, mobile and landline numbers and e-mail addresses."""
    text = _ID_RE.sub(_mask_id, text)
    text = _SPACED_ID_RE.sub(_mask_spaced_id, text)
    text = _CARD_RE.sub(_mask_card, text)
    text = _MOBILE_RE.sub(_mask_mobile, text)
    text = _LANDLINE_RE.sub(_mask_landline, text)
    return _EMAIL_RE.sub(_mask_email, text)


_QUESTION = re.compile(r"[?？]\s*$|[吗呢]\s*[?？]?\s*$|多少|怎么|如何|(?<![好十])几[天个点号年月分小次岁]|哪[里儿个家些]|什么|是否|能不能|可不可以"
                       r"|要不要|有没有|^\s*(how|what|when|where|which|who|can|could|do|does|is|are|will)\b", re.IGNORECASE)


def looks_like_question(text: str) -> bool:
    """True when the text is asked as a question ("一学期收多少钱", "how much is the late fee?")."""
    return bool(_QUESTION.search(text))


_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def has_chinese(text: str) -> bool:
    return _HAN.search(text) is not None


def script_counts(text: str) -> tuple[int, int]:
    """(Chinese characters, Latin letters) in the text."""
    return len(_HAN.findall(text)), len(_LATIN.findall(text))


def detect_language(text: str, default: str = "zh") -> str:
    """'zh' when the text has Chinese characters, 'en' when it is mostly Latin letters."""
    if has_chinese(text):
        return "zh"
    if len(_LATIN.findall(text)) >= 2:
        return "en"
    return default


def phone_digits(text: str) -> str | None:
    """The 11-digit mobile number in the text, if there is exactly one kind of it."""
    m = _MOBILE_RE.search(normalize(text))
    return re.sub(r"\D", "", m.group(1)) if m else None


MAX_FAILED_LOOKUPS = 5


def lookups_blocked(state: dict) -> bool:
    """True once a conversation has tried too many codes or numbers that matched nothing (probing)."""
    return state.get("failed_lookups", 0) >= MAX_FAILED_LOOKUPS


def note_failed_lookup(state: dict) -> None:
    """Count a booking code, application or work-order number that did not match the phone given."""
    state["failed_lookups"] = state.get("failed_lookups", 0) + 1


def phone_digest(phone: str, key: bytes) -> str:
    """A keyed hash of a phone number: lets us check "the same phone" without storing it."""
    digits = re.sub(r"\D", "", phone)[-11:]
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
