"""How departments' exports spell clean values: the mess ingest has to read.

Real files are messy in consistent ways: one department's system writes every date as
2021/5/6, another's as 2021年5月6日; one leaves empty cells, another writes 无 or a dash;
a clerk who typed a few rows by hand used full-width digits. So each department gets a
house style, a small share of rows stray from it, and every spelling here is a real
spelling of the clean value (the tests read them back).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from itertools import accumulate
from random import Random
from typing import Final

#: Date spellings, by index: ISO, slashes, Chinese, dots, compact, ISO with a time.
DATE_STYLE_WEIGHTS: Final = (55.0, 18.0, 12.0, 5.0, 5.0, 5.0)
DATE_STYLES: Final = len(DATE_STYLE_WEIGHTS)
EMPTY_STYLES: Final = ("", "—", "无", "/", "-")
EMPTY_STYLE_WEIGHTS: Final = (60.0, 10.0, 10.0, 10.0, 10.0)

#: Share of rows typed by hand with full-width digits; of rows off the house date style.
FULLWIDTH_ROWS: Final = 0.03
STRAY_DATE_ROWS: Final = 0.08
#: Share of text cells with stray whitespace around them (copy-paste from a document).
PADDED_TEXT: Final = 0.01

_FULLWIDTH: Final = str.maketrans("0123456789", "０１２３４５６７８９")


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def spell_date(day: dt.date, style: int) -> str:
    if style == 0:
        return day.isoformat()
    if style == 1:
        return f"{day.year}/{day.month}/{day.day}"
    if style == 2:
        return f"{day.year}年{day.month}月{day.day}日"
    if style == 3:
        return f"{day.year}.{day.month:02d}.{day.day:02d}"
    if style == 4:
        return f"{day.year}{day.month:02d}{day.day:02d}"
    return f"{day.isoformat()} 00:00:00"


def group_thousands(amount: str) -> str:
    """'12345.60' -> '12,345.60'; the clean text otherwise stays as it is."""
    whole, dot, fraction = amount.partition(".")
    return f"{int(whole):,}" + dot + fraction


def _pick(rng: Random, cumulative: tuple[float, ...]) -> int:
    index = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
    return min(index, len(cumulative) - 1)


_DATE_CUMULATIVE: Final = tuple(accumulate(DATE_STYLE_WEIGHTS))
_EMPTY_CUMULATIVE: Final = tuple(accumulate(EMPTY_STYLE_WEIGHTS))


@dataclass(frozen=True, slots=True)
class HouseStyle:
    """One department's export habits."""

    date_style: int
    empty: str
    labels: bool  # enums as their Chinese labels (most systems) or as codes
    thousands: bool  # amounts with thousands separators
    list_separator: str  # between the values of a multi-valued enum

    @classmethod
    def draw(cls, rng: Random) -> HouseStyle:
        return cls(
            date_style=_pick(rng, _DATE_CUMULATIVE),
            empty=EMPTY_STYLES[_pick(rng, _EMPTY_CUMULATIVE)],
            labels=rng.random() < 0.85,
            thousands=rng.random() < 0.6,
            list_separator=("；", ";", "、")[int(rng.random() * 3)],
        )
