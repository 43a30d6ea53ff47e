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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Date, Interval, case, cast, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from bonafides.store.disclosure import record_is_counted
from bonafides.store.tables import (
    Complaint,
    DisclosureRequest,
    IngestBatch,
    IngestRejection,
    Objection,
    Record,
    RecordType,
    RepairApplication,
    ReviewItem,
    Subject,
)
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


def _local_date(
    session: Session, offset_hours: int, column: Any = Record.received_at
) -> ColumnElement[Any]:
    """The calendar date of a stored UTC time in the office's time zone, on either store."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{offset_hours:+d} hours")
    return cast(column + literal(dt.timedelta(hours=offset_hours), Interval()), Date)


def _as_date(value: Any) -> dt.date:
    """A date column as SQLite (text) or PostgreSQL (date) returns it."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


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
    until: dt.date | None = None,
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
    if until:
        query = query.where(Record.decision_date <= until)

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
        days = delay(decided, _as_date(got))
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


def missing_years(rows: Iterable[DelayRow | DeadlineRow]) -> tuple[int, ...]:
    """Every year some delay or days taken could not be counted for, across departments."""
    return tuple(sorted({year for row in rows for year in row.missing_years}))


#: Digits of the region code (positions 3-8 of a USCC) that name each level.
REGION_DIGITS = {"province": 2, "city": 4, "district": 6}


def _decided_in(start: dt.date, end: dt.date) -> list[ColumnElement[bool]]:
    return [Record.decision_date >= start, Record.decision_date <= end]


def volumes_by_region(
    session: Session, level: str, start: dt.date, end: dt.date, *, counted_on: dt.date | None
) -> dict[str, int]:
    """Decisions in ``start``..``end`` per region code at ``level``, padded to six digits.

    With ``counted_on`` only the records ``bonafides.disclosure.COUNTED_RULE`` counts in
    public figures on that day; without it every record, for the office's own report.
    Subjects without a region are counted under the empty code.
    """
    digits = REGION_DIGITS[level]
    region = func.coalesce(func.substr(Subject.region, 1, digits), "").label("region")
    query = (
        select(region, func.count())
        .select_from(Record)
        .join(Subject, Subject.id == Record.subject_id)
        .where(*_decided_in(start, end))
        .group_by(region)
    )
    if counted_on is not None:
        query = query.join(RecordType, RecordType.code == Record.type_code).where(
            record_is_counted(counted_on)
        )
    return {(str(code).ljust(6, "0") if code else ""): n for code, n in session.execute(query)}


def volumes_by_department(
    session: Session, start: dt.date, end: dt.date, *, counted_on: dt.date | None
) -> dict[str, int]:
    """Decisions in ``start``..``end`` per source department; ``counted_on`` as above."""
    query = (
        select(Record.source, func.count())
        .select_from(Record)
        .where(*_decided_in(start, end))
        .group_by(Record.source)
    )
    if counted_on is not None:
        query = (
            query.join(RecordType, RecordType.code == Record.type_code)
            .join(Subject, Subject.id == Record.subject_id)
            .where(record_is_counted(counted_on))
        )
    return {str(source): n for source, n in session.execute(query)}


@dataclass(frozen=True)
class DeadlineRow:
    """Cases of one workflow (and department) whose deadline fell in the period.

    A case counts once its deadline has passed or it is decided: ``met`` were decided on or
    before their due day, ``overdue_open`` are still undecided after it. ``median_days``
    are working days from opening to decision, over the decided cases; ``uncounted``
    decided cases span a day of ``missing_years``, which the calendar does not cover.
    """

    workflow: str
    department: str
    cases: int
    met: int
    overdue_open: int
    median_days: int | None
    uncounted: int = 0
    missing_years: tuple[int, ...] = ()

    @property
    def share_met(self) -> float | None:
        """None without cases: no deadline was due, which is neither kept nor missed."""
        return self.met / self.cases if self.cases else None


#: Workflow name to (table, department column, opened, decided) of its deadline.
WORKFLOWS: dict[str, tuple[Any, InstrumentedAttribute[Any], Any, Any]] = {
    "objection": (Objection, Objection.source, Objection.opened_at, Objection.decided_at),
    "repair": (
        RepairApplication,
        RepairApplication.source,
        RepairApplication.submitted_at,
        RepairApplication.decided_at,
    ),
    "complaint": (Complaint, Complaint.department, Complaint.created_at, Complaint.answered_at),
    "disclosure": (
        DisclosureRequest,
        DisclosureRequest.department,
        DisclosureRequest.created_at,
        DisclosureRequest.decided_at,
    ),
}


def deadlines_met(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    calendar: WorkingCalendar,
    today: dt.date,
    utc_offset_hours: int = 8,
) -> list[DeadlineRow]:
    """Objection, repair, complaint and disclosure deadlines in ``start``..``end`` met, per
    department.

    The database counts cases per (department, met, day opened, day decided); the working
    days between each pair of days are counted once, with the office's ``calendar`` that
    set the deadlines, and medians come from those counts. Each workflow also gets a row
    for all departments, ``department`` empty.
    """

    @cache
    def taken(opened: dt.date, decided: dt.date) -> int | CalendarNotCoveredError:
        try:
            return calendar.working_days_between(opened, decided)
        except CalendarNotCoveredError as exc:
            return exc

    rows: list[DeadlineRow] = []
    for workflow, (table, department, opened, decided) in WORKFLOWS.items():
        decided_day = _local_date(session, utc_offset_hours, decided).label("decided")
        opened_day = _local_date(session, utc_offset_hours, opened).label("opened")
        met = case((decided.is_(None), -1), (decided_day <= table.due_on, 1), else_=0).label("met")
        query = (
            select(department, met, opened_day, decided_day, func.count())
            .where(
                table.due_on >= start,
                table.due_on <= end,
                or_(decided.is_not(None), table.due_on < today),
            )
            .group_by(department, met, opened_day, decided_day)
        )
        found: dict[str, list[tuple[int, int | CalendarNotCoveredError | None, int]]]
        found = defaultdict(list)
        for dept, flag, opened_on, decided_on, n in session.execute(query):
            days = None if decided_on is None else taken(_as_date(opened_on), _as_date(decided_on))
            found[str(dept)].append((int(flag), days, n))
        everything = [item for items in found.values() for item in items]
        for dept, items in [("", everything), *sorted(found.items())]:
            durations: dict[int, int] = defaultdict(int)
            years: set[int] = set()
            uncounted = 0
            for _flag, days, n in items:
                if isinstance(days, CalendarNotCoveredError):
                    uncounted += n
                    years.add(days.year)
                elif days is not None:
                    durations[days] += n
            rows.append(
                DeadlineRow(
                    workflow=workflow,
                    department=dept,
                    cases=sum(n for _, _, n in items),
                    met=sum(n for flag, _, n in items if flag == 1),
                    overdue_open=sum(n for flag, _, n in items if flag == -1),
                    median_days=_quantile(list(durations.items()), 0.5) if durations else None,
                    uncounted=uncounted,
                    missing_years=tuple(sorted(years)),
                )
            )
    return rows


@dataclass(frozen=True)
class QualityRow:
    """What one department sent in the period: rows kept, rejected or left for review."""

    source: str
    received: int
    rejected: int
    review: int

    @property
    def rows(self) -> int:
        return self.received + self.rejected + self.review

    @property
    def rejection_rate(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0

    @property
    def review_rate(self) -> float:
        return self.review / self.rows if self.rows else 0.0


def utc_bounds(
    start: dt.date, end: dt.date, utc_offset_hours: int = 8
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which the office's ``start`` begins and the day after ``end`` does."""
    zone = dt.timezone(dt.timedelta(hours=utc_offset_hours))
    first = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return first, after


def data_quality(
    session: Session, start: dt.date, end: dt.date, *, utc_offset_hours: int = 8
) -> list[QualityRow]:
    """Rows received, rejected and sent to review per department, by when they arrived.

    A rejected row of a file submitted without ``--source`` names no department it could
    be trusted to belong to, so it counts under the empty department.
    """
    first, after = utc_bounds(start, end, utc_offset_hours)
    received = session.execute(
        select(Record.source, func.count())
        .where(Record.received_at >= first, Record.received_at < after)
        .group_by(Record.source)
    ).all()
    source = func.coalesce(IngestBatch.source, "")
    rejected = session.execute(
        select(source, func.count())
        .select_from(IngestRejection)
        .join(IngestBatch, IngestBatch.id == IngestRejection.batch_id)
        .where(IngestBatch.started_at >= first, IngestBatch.started_at < after)
        .group_by(source)
    ).all()
    review = session.execute(
        select(ReviewItem.source, func.count())
        .where(ReviewItem.created_at >= first, ReviewItem.created_at < after)
        .group_by(ReviewItem.source)
    ).all()
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for column, counts in enumerate((received, rejected, review)):
        for dept, n in counts:
            tallies[str(dept)][column] += n
    return [QualityRow(dept, *tallies[dept]) for dept in sorted(tallies)]
