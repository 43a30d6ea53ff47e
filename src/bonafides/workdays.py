"""Working days: deadlines in the rules are counted in them, not in calendar days.

China moves working days around public holidays (调休), so a calendar is weekends,
minus the official holidays, plus the weekend days declared working days. Both come
from the ``holidays`` package, which carries the State Council's yearly notices; an
operator's YAML file (``BONAFIDES_HOLIDAYS``, see docs/configuration.md) adds local
holidays and working days, and may supply a year the package does not know yet.

A deadline counted over a day whose year the calendar does not cover raises
:class:`CalendarNotCoveredError`: for a year without its notice, any answer would be a
guess, and a legal deadline shown to a subject must not be one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Protocol

import yaml
from holidays.constants import PUBLIC
from holidays.countries.china import China, ChinaStaticHolidays


class CalendarNotCoveredError(LookupError):
    """A working day was asked for in a year the calendar has no arrangement for."""

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self.year = day.year
        super().__init__(
            f"the working-day calendar does not cover {day.year} (asked about "
            f"{day.isoformat()}): add the State Council's {day.year} holiday arrangement "
            f"to the BONAFIDES_HOLIDAYS file, with {day.year} under 'years', or upgrade "
            "the holidays package"
        )


class CalendarFileError(ValueError):
    """The operator's holiday file cannot be used as it stands."""


class WorkingCalendar(Protocol):
    def is_working_day(self, day: dt.date) -> bool: ...

    def add_working_days(self, start: dt.date, days: int) -> dt.date: ...

    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...


@dataclass(frozen=True)
class HolidayCalendar:
    """Monday to Friday, less ``holidays``, plus ``extra_working_days`` (adjusted weekends).

    ``years`` are the years whose arrangement it knows; a day outside them raises
    :class:`CalendarNotCoveredError`. None is a plain calendar that covers every year
    (for tests that need only weekends).
    """

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_working_days: frozenset[dt.date] = field(default_factory=frozenset)
    years: frozenset[int] | None = None

    def covers(self, day: dt.date) -> bool:
        return self.years is None or day.year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        if not self.covers(day):
            raise CalendarNotCoveredError(day)
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


def package_years() -> frozenset[int]:
    """Years for which the ``holidays`` package carries the State Council's notice.

    Every notice moves days off (the package's substitutions), so the years with
    substitution data are the years with a notice. For any other year the package
    estimates holidays from the lunar calendar: the guess a deadline must not rest on.
    """
    return frozenset(ChinaStaticHolidays.special_public_holidays)


@cache
def package_calendar() -> HolidayCalendar:
    """China's statutory public holidays, the days off moved by the notices, and the
    weekend days worked in exchange, for the years of :func:`package_years`.

    Only the ``public`` category counts: ``half_day`` holidays (Women's Day, Youth Day)
    are working days for a department.
    """
    years = package_years()
    china = China(years=sorted(years), categories=(PUBLIC,))  # type: ignore[no-untyped-call]
    return HolidayCalendar(
        holidays=frozenset(d for d in china if d.year in years),
        extra_working_days=frozenset(d for d in china.weekend_workdays if d.year in years),
        years=years,
    )


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


def _overrides(path: Path) -> tuple[frozenset[dt.date], frozenset[dt.date], frozenset[int]]:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CalendarFileError(f"holiday file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarFileError(f"holiday file {path}: expected holidays, working_days, years")
    try:
        off = _dates(data.get("holidays") or [])
        on = _dates(data.get("working_days") or [])
        years = frozenset(int(y) for y in data.get("years") or [])
    except (TypeError, ValueError) as exc:
        raise CalendarFileError(f"holiday file {path}: {exc}") from exc
    if both := sorted(off & on):
        raise CalendarFileError(
            f"holiday file {path}: {both[0].isoformat()} is both a holiday and a working day"
        )
    return off, on, years


def load_calendar(path: Path | None = None) -> HolidayCalendar:
    """The package's calendar with the operator's file (``BONAFIDES_HOLIDAYS``) over it.

    The file lists ``holidays`` and ``working_days`` (single dates or ``a..b`` ranges) and,
    under ``years``, the years whose whole arrangement it gives. A year under ``years``
    that the package does not know is taken from the file alone (weekends, its holidays,
    its working days); every date in the file must fall in a covered year.
    """
    base = package_calendar()
    if path is None:
        return base
    off, on, own_years = _overrides(path)
    covered = package_years() | own_years
    if stray := sorted(d for d in off | on if d.year not in covered):
        year = stray[0].year
        raise CalendarFileError(
            f"holiday file {path}: {stray[0].isoformat()} is in {year}, which neither the "
            f"holidays package nor the file's 'years' cover; list {year} under 'years' once "
            "the file holds that year's whole arrangement"
        )
    return HolidayCalendar(
        holidays=(base.holidays - on) | off,
        extra_working_days=(base.extra_working_days - off) | on,
        years=covered,
    )


#: How far ahead the operator is warned that the calendar ends: the longest deadline the
#: platform counts (20 working days for a complaint) plus the publicity window, with room.
WARN_AHEAD = dt.timedelta(days=60)


def coverage_warning(calendar: HolidayCalendar, today: dt.date) -> str | None:
    """A line for the operator when a deadline counted from today may reach a year the
    calendar does not cover; None while every day of the coming weeks is covered."""
    years = range(today.year, (today + WARN_AHEAD).year + 1)
    missing = [year for year in years if not calendar.covers(dt.date(year, 1, 1))]
    if not missing:
        return None
    named = ", ".join(str(year) for year in missing)
    return (
        f"the working-day calendar does not cover {named}: deadlines reaching into it "
        "(objections, repairs, complaints) are refused until the State Council's holiday "
        f"arrangement for {named} is in the BONAFIDES_HOLIDAYS file (with the year under "
        "'years') or the holidays package is upgraded"
    )
