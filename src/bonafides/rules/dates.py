"""Calendar arithmetic shared by the Python evaluator and mirrored in SQL.

Month arithmetic clamps to the end of a shorter month (31 January plus one month is
28 or 29 February), as PostgreSQL's ``date + interval`` does; ``rules.sqlfuncs`` spells the
same rule for SQLite. Terms are inclusive: a 24-month term from 1 March 2024 ends on
28 February 2026, the day before the same calendar day.
"""

from __future__ import annotations

import calendar
import datetime as dt

#: Stands for "no end from this source" when the earliest of several ends is taken.
FAR_FUTURE = dt.date(9999, 12, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


def term_end(start: dt.date, months: int) -> dt.date:
    """Last day of a term of ``months`` that starts on ``start``."""
    return add_days(add_months(start, months), -1)
