"""Reporting periods an office sends figures up for: a year, a quarter or a month.

One parser for the CLI, the API and the portal, so ``2026-Q4`` means the same days
everywhere: 1 October to 31 December 2026, both included, on the office's calendar.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: What the API's path parameter admits; ``parse_period`` reads the same forms.
PATTERN = r"^(19|20)\d{2}(-(Q[1-4]|0[1-9]|1[0-2]))?$"
_FORMS = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


class PeriodError(ValueError):
    """Text that names no period; the message says which forms are understood."""


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def parse_period(text: str) -> Period:
    """``2026`` (a year), ``2026-Q4`` (a quarter) or ``2026-11`` (a month)."""
    found = _FORMS.match(text.strip().upper())
    if found is None:
        raise PeriodError(
            f"not a period: {text!r}; write a year (2026), a quarter (2026-Q4) or a month (2026-11)"
        )
    year = int(found["year"])
    if not 1900 <= year <= 2099:
        raise PeriodError(f"not a period: {text!r}; the year must be from 1900 to 2099")
    if found["quarter"]:
        quarter = int(found["quarter"])
        first = 3 * quarter - 2
        return Period(f"{year}-Q{quarter}", dt.date(year, first, 1), _month_end(year, first + 2))
    if found["month"]:
        month = int(found["month"])
        return Period(f"{year}-{month:02d}", dt.date(year, month, 1), _month_end(year, month))
    return Period(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))
