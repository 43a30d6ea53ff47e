"""Operator statistics computed in the store, with working days applied in Python.

The database groups records by department, decision date and receipt date; the
number of distinct date pairs is small whatever the number of records, so working
days are counted once per pair in Python with the office's holiday calendar.

A pair that reaches into a year the calendar does not cover (its holiday arrangement not
yet published or loaded) is not counted, and not guessed: it is reported as
``uncounted`` beside the figures, naming the years, so the operator sees what to load.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Date, Interval, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bonafides.store.tables import Record
from bonafides.workdays import CalendarNotCoveredError, WorkingCalendar


@dataclass(frozen=True)
class DelayRow:
    """``records`` are the counted ones; ``uncounted`` span a day of ``missing_years``."""

    source: str
    records: int
    within_limit: int
    median_days: int
    p90_days: int
    max_days: int
    uncounted: int = 0
    missing_years: tuple[int, ...] = ()

    @property
    def share_within(self) -> float:
        return self.within_limit / self.records if self.records else 1.0


def _local_date(session: Session, offset_hours: int) -> ColumnElement[Any]:
    """The receipt date in the office's time zone, on either store."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(Record.received_at, f"{offset_hours:+d} hours")
    return cast(Record.received_at + literal(dt.timedelta(hours=offset_hours), Interval()), Date)


def _quantile(counts: list[tuple[int, int]], q: float) -> int:
    total = sum(n for _, n in counts)
    target = q * total
    seen = 0
    for value, n in sorted(counts):
        seen += n
        if seen >= target:
            return value
    return 0


def publication_delay(
    session: Session,
    calendar: WorkingCalendar,
    *,
    limit_days: int = 7,
    type_codes: list[str] | None = None,
    since: dt.date | None = None,
    utc_offset_hours: int = 8,
) -> list[DelayRow]:
    """Working days from decision to receipt per department, against the publicity limit."""
    received = _local_date(session, utc_offset_hours).label("received")
    query = select(Record.source, Record.decision_date, received, func.count()).group_by(
        Record.source, Record.decision_date, received
    )
    if type_codes:
        query = query.where(Record.type_code.in_(type_codes))
    if since:
        query = query.where(Record.decision_date >= since)

    @cache
    def delay(decided: dt.date, got: dt.date) -> int | CalendarNotCoveredError:
        try:
            return calendar.working_days_between(decided, got)
        except CalendarNotCoveredError as exc:
            return exc

    per_source: dict[str, list[tuple[int, int]]] = defaultdict(list)
    uncounted: dict[str, int] = defaultdict(int)
    missing: dict[str, set[int]] = defaultdict(set)
    for source, decided, got, n in session.execute(query):
        got_date = got if isinstance(got, dt.date) else dt.date.fromisoformat(str(got))
        days = delay(decided, got_date)
        if isinstance(days, CalendarNotCoveredError):
            uncounted[source] += n
            missing[source].add(days.year)
        else:
            per_source[source].append((days, n))
    rows = []
    for source in sorted(per_source.keys() | uncounted.keys()):
        merged: dict[int, int] = defaultdict(int)
        for days, n in per_source.get(source, []):
            merged[days] += n
        pairs = list(merged.items())
        rows.append(
            DelayRow(
                source=source,
                records=sum(merged.values()),
                within_limit=sum(n for d, n in pairs if d <= limit_days),
                median_days=_quantile(pairs, 0.5),
                p90_days=_quantile(pairs, 0.9),
                max_days=max(merged, default=0),
                uncounted=uncounted.get(source, 0),
                missing_years=tuple(sorted(missing.get(source, ()))),
            )
        )
    return rows


def missing_years(rows: list[DelayRow]) -> tuple[int, ...]:
    """Every year some delay could not be counted for, across departments."""
    return tuple(sorted({year for row in rows for year in row.missing_years}))
