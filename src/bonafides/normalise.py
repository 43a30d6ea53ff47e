"""Turning what departments actually export into clean values, or saying why not.

Government exports are messy in known ways: dashes or 无 for empty, dates in three
spellings, amounts with thousands separators, full-width digits and letters. What is
unambiguous is normalised and noted (so the report can say so); anything else raises
``BadValueError`` with a reason a clerk understands.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

T = TypeVar("T")

#: Spellings that stand for "no value" in real exports.
EMPTY_MARKERS = frozenset(
    {
        "",
        "-",
        "--",
        "—",
        "——",
        "— —",
        "－",
        "/",
        "／",
        "\\",
        "无",
        "空",
        "暂无",
        "null",
        "NULL",
        "None",
        "none",
        "N/A",
        "n/a",
        "NA",
    }
)

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_DATETIME_TAIL = re.compile(r"^(\S+?)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")
_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$")
_SPACES = re.compile(r"\s+")


class BadValueError(ValueError):
    """A value that cannot be read without guessing; ``reason`` is shown to the clerk."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Cleaned(Generic[T]):
    value: T
    note: str | None = None


def is_empty(raw: str | None) -> bool:
    return raw is None or raw.strip() in EMPTY_MARKERS


def to_ascii(raw: str) -> str:
    """Full-width digits, letters and punctuation to ASCII; Chinese text is unchanged."""
    return unicodedata.normalize("NFKC", raw)


def text(raw: str) -> Cleaned[str]:
    """Trim and collapse runs of whitespace; the words themselves are the department's."""
    value = _SPACES.sub(" ", raw.replace("\u3000", " ")).strip()
    return Cleaned(value, "whitespace trimmed" if value != raw else None)


#: After NFKC, the year brackets of a decision number in their official forms: round ones
#: as the courts' case numbers write them (（2026）京执9304号), square ones as the hexagonal
#: brackets of administrative document numbers (京市监罚〔2026〕12号), which clerks type as
#: [ ], ［ ］ or 【 】. Round and square stay distinct: they are different kinds of number.
_NUMBER_BRACKETS = str.maketrans(
    {"(": "（", ")": "）", "[": "〔", "]": "〕", "【": "〔", "】": "〕", "〘": "〔", "〙": "〕"}
)


def decision_number(raw: str) -> Cleaned[str]:
    """One spelling per decision number, so (source, number) identifies one decision.

    NFKC makes full-width digits, letters and hyphens ASCII (２０２６ → 2026), then the
    brackets take their official form and spaces, which only typing adds, are dropped.
    The Chinese characters are untouched; the number as submitted stays in the raw values.
    NFC last: dropping a space NFKC made (¨ is a space and a combining mark) can leave a
    mark beside a letter it composes with, and the spelling must not change on a second
    pass. NFC, not NFKC, so the official brackets stay full-width.
    """
    value = unicodedata.normalize("NFC", "".join(to_ascii(raw).translate(_NUMBER_BRACKETS).split()))
    return Cleaned(value, None if value == raw else f"decision number {raw!r} read as {value}")


def date(raw: str) -> Cleaned[dt.date]:
    ascii_ = to_ascii(raw).strip()
    stripped = _DATETIME_TAIL.sub(r"\1", ascii_)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(stripped)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                value = dt.date(year, month, day)
            except ValueError:
                raise BadValueError(f"{raw!r} is not a real date") from None
            note = None if raw == value.isoformat() else f"date {raw!r} read as {value.isoformat()}"
            return Cleaned(value, note)
    raise BadValueError(f"{raw!r} is not a date; write it as 2021-05-06")


def decimal(raw: str, *, allow_negative: bool = False) -> Cleaned[Decimal]:
    ascii_ = to_ascii(raw).strip().replace(" ", "")
    negative = ascii_.startswith("-")
    body = ascii_[1:] if negative else ascii_
    if not _AMOUNT.match(body):
        raise BadValueError(f"{raw!r} is not a number")
    try:
        value = Decimal(body.replace(",", ""))
    except InvalidOperation:
        raise BadValueError(f"{raw!r} is not a number") from None
    if negative:
        if not allow_negative:
            raise BadValueError(f"{raw!r} is negative; amounts cannot be")
        value = -value
    note = None if str(value) == raw else f"number {raw!r} read as {value}"
    return Cleaned(value, note)


def integer(raw: str) -> Cleaned[int]:
    cleaned = decimal(raw)
    if cleaned.value != cleaned.value.to_integral_value():
        raise BadValueError(f"{raw!r} is not a whole number")
    value = int(cleaned.value)
    return Cleaned(value, None if str(value) == raw else f"number {raw!r} read as {value}")


_TRUE = frozenset({"是", "true", "yes", "y", "1", "有"})
_FALSE = frozenset({"否", "false", "no", "n", "0"})


def boolean(raw: str) -> Cleaned[bool]:
    key = to_ascii(raw).strip().lower()
    if key in _TRUE:
        return Cleaned(True, None if key == "true" else f"yes/no {raw!r} read as yes")
    if key in _FALSE:
        return Cleaned(False, None if key == "false" else f"yes/no {raw!r} read as no")
    raise BadValueError(f"{raw!r} is not yes/no (是/否)")
