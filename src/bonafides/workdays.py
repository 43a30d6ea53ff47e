"""Working days: deadlines in the rules are counted in them, not in calendar days.

China moves working days around public holidays (调休), so a calendar is weekends,
minus the official holidays, plus the weekend days declared working days. The
operator keeps the list current from the State Council's yearly notice
(``BONAFIDES_HOLIDAYS`` points at a YAML file; see docs/configuration.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml


class WorkingCalendar(Protocol):
    def is_working_day(self, day: dt.date) -> bool: ...

    def add_working_days(self, start: dt.date, days: int) -> dt.date: ...

    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...


@dataclass(frozen=True)
class HolidayCalendar:
    """Monday to Friday, less ``holidays``, plus ``extra_working_days`` (adjusted weekends)."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_working_days: frozenset[dt.date] = field(default_factory=frozenset)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The day on which a deadline of ``days`` working days after ``start`` falls."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        while days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        if end <= start:
            return 0
        total = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            total += self.is_working_day(day)
        return total


def _dates(items: Iterable[object]) -> frozenset[dt.date]:
    out: set[dt.date] = set()
    for item in items:
        if isinstance(item, dt.date):
            out.add(item)
        elif isinstance(item, str) and ".." in item:
            first, last = (dt.date.fromisoformat(x.strip()) for x in item.split(".."))
            while first <= last:
                out.add(first)
                first += dt.timedelta(days=1)
        else:
            out.add(dt.date.fromisoformat(str(item)))
    return frozenset(out)


def load_calendar(path: Path | None = None) -> HolidayCalendar:
    """Read holidays (single dates or ``a..b`` ranges) and adjusted working days."""
    if path is None:
        path = Path(__file__).with_name("holidays.yaml")
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    return HolidayCalendar(
        holidays=_dates(data.get("holidays", [])),
        extra_working_days=_dates(data.get("working_days", [])),
    )
