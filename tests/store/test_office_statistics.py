"""Office figures for a period: volumes by region and department, deadlines met, data quality."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from bonafides.store.statistics import (
    data_quality,
    deadlines_met,
    volumes_by_department,
    volumes_by_region,
)
from bonafides.store.tables import (
    Account,
    Complaint,
    DisclosureRequest,
    IngestBatch,
    IngestRejection,
    Objection,
    Record,
    ReviewItem,
)
from bonafides.workdays import load_calendar
from tests import factories

Q4 = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
AT = dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC)
CALENDAR = load_calendar()


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="statistics-test-secret-0123"))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def _write(ctx: Context, *inputs: object, received: dt.datetime = AT) -> None:
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, list(inputs), actor="test", received_at=received)  # type: ignore[arg-type]


def test_volumes_group_by_province_city_and_district_and_leave_out_a_minors_record(
    ctx: Context,
) -> None:
    day = dt.date(2026, 11, 2)
    _write(
        ctx,
        factories.penalty(factories.org("110105"), decision_date=day),
        factories.penalty(factories.org("110108"), decision_date=day),
        factories.penalty(factories.org("330106"), decision_date=day, source="sta"),
        # Outside the quarter: not counted.
        factories.penalty(factories.org("330106"), decision_date=dt.date(2026, 9, 30)),
        # A minor's record is never in a public figure, but the office counts it.
        factories.penalty(factories.person(dt.date(2012, 1, 1), "330106"), decision_date=day),
    )
    today = dt.date(2026, 12, 6)
    with ctx.sessions() as session:
        public = {
            level: volumes_by_region(session, level, *Q4, counted_on=today)
            for level in ("province", "city", "district")
        }
        office = volumes_by_region(session, "province", *Q4, counted_on=None)
        by_dept = volumes_by_department(session, *Q4, counted_on=today)
        by_dept_office = volumes_by_department(session, *Q4, counted_on=None)
    assert public["province"] == {"110000": 2, "330000": 1}
    assert public["city"] == {"110100": 2, "330100": 1}
    assert public["district"] == {"110105": 1, "110108": 1, "330106": 1}
    assert office == {"110000": 2, "330000": 2}
    assert by_dept == {"samr": 2, "sta": 1}
    assert by_dept_office == {"samr": 3, "sta": 1}


def _account(session: Session) -> int:
    account = Account(
        username="subject-1",
        display_name="S",
        role="subject",
        created_at=AT,
        created_by="test",
        active=True,
    )
    session.add(account)
    session.flush()
    return account.id


def _objection(
    session: Session,
    account: int,
    record: Record,
    due: dt.date,
    decided: dt.datetime | None,
    opened: dt.datetime = dt.datetime(2026, 10, 5, 2, tzinfo=dt.UTC),
) -> None:
    session.add(
        Objection(
            subject_id=record.subject_id,
            record_id=record.id,
            account_id=account,
            source=record.source,
            grounds="wrong",
            prior_status="active",
            status="decided" if decided else "open",
            opened_at=opened,
            due_on=due,
            decided_at=decided,
        )
    )


def test_deadlines_met_share_and_median_and_an_open_case_counts_once_its_day_passes(
    ctx: Context,
) -> None:
    _write(ctx, factories.penalty(decision_date=dt.date(2026, 10, 1)))
    with ctx.sessions.begin() as session:
        record = session.scalars(select(Record)).one()
        account = _account(session)
        due = dt.date(2026, 10, 20)
        # Decided on the 9th (local), the 21st (late, local 22nd), and still open.
        _objection(session, account, record, due, dt.datetime(2026, 10, 9, 3, tzinfo=dt.UTC))
        _objection(session, account, record, due, dt.datetime(2026, 10, 21, 17, tzinfo=dt.UTC))
        _objection(session, account, record, due, None)
        # Due next year: outside the quarter.
        _objection(session, account, record, dt.date(2027, 1, 4), None)
        session.add(
            Complaint(
                kind="complaint",
                department="sta",
                about="x",
                text="y",
                status="answered",
                created_at=dt.datetime(2026, 11, 1, 1, tzinfo=dt.UTC),
                due_on=dt.date(2026, 11, 30),
                answered_at=dt.datetime(2026, 11, 3, 1, tzinfo=dt.UTC),
            )
        )
    with ctx.sessions() as session:
        before = deadlines_met(session, *Q4, calendar=CALENDAR, today=dt.date(2026, 10, 20))
        after = deadlines_met(session, *Q4, calendar=CALENDAR, today=dt.date(2026, 10, 21))
    rows = {(r.workflow, r.department): r for r in before}
    objections = rows[("objection", "")]
    assert (objections.cases, objections.met, objections.overdue_open) == (2, 1, 0)
    # 2 and 12 working days from opening on a day of the National Day holiday: the lower
    # median of two.
    assert objections.median_days == 2
    assert rows[("objection", "samr")].cases == 2
    assert (rows[("complaint", "sta")].met, rows[("complaint", "")].median_days) == (1, 2)
    assert (rows[("repair", "")].cases, rows[("repair", "")].median_days) == (0, None)
    moved = {(r.workflow, r.department): r for r in after}[("objection", "")]
    assert (moved.cases, moved.met, moved.overdue_open) == (3, 1, 1)
    assert moved.share_met == pytest.approx(1 / 3)


def test_deadline_medians_count_working_days_of_the_offices_calendar(ctx: Context) -> None:
    """Across a weekend and a holiday, days taken are the calendar's working days."""
    _write(ctx, factories.penalty(decision_date=dt.date(2026, 9, 1)))
    with ctx.sessions.begin() as session:
        record = session.scalars(select(Record)).one()
        account = _account(session)

        def local(day: int, month: int = 9) -> dt.datetime:
            return dt.datetime(2026, month, day, 2, tzinfo=dt.UTC)

        # Thursday 24 September to Monday 28th: the 25th is the Mid-Autumn holiday, then
        # a weekend; one working day, four calendar days.
        _objection(session, account, record, dt.date(2026, 10, 15), local(28), local(24))
        # Friday 16 October to Tuesday 20th, over a plain weekend: two working days.
        _objection(session, account, record, dt.date(2026, 10, 30), local(20, 10), local(16, 10))
        # Decided late, in a year whose arrangement is not loaded: counted, never guessed.
        late = dt.datetime(2027, 1, 5, 2, tzinfo=dt.UTC)
        _objection(session, account, record, dt.date(2026, 12, 30), late, local(1, 12))
    with ctx.sessions() as session:
        rows = deadlines_met(session, *Q4, calendar=CALENDAR, today=dt.date(2027, 1, 6))
    objections = {(r.workflow, r.department): r for r in rows}[("objection", "")]
    assert (objections.cases, objections.met) == (3, 2)
    assert objections.median_days == 1
    assert (objections.uncounted, objections.missing_years) == (1, (2027,))


def test_applications_for_disclosure_count_among_the_deadlines(ctx: Context) -> None:
    """Disclosure on application has its 20-working-day deadline like the others (plan §68):
    an application answered in time and one left open past its day, per department."""
    with ctx.sessions.begin() as session:
        account = _account(session)
        for decided in (dt.datetime(2026, 11, 4, 2, tzinfo=dt.UTC), None):
            session.add(
                DisclosureRequest(
                    account_id=account,
                    department="samr",
                    asked="Inspection reports of 2025.",
                    status="decided" if decided else "open",
                    created_at=dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC),
                    due_on=dt.date(2026, 11, 30),
                    outcome="granted" if decided else None,
                    decided_at=decided,
                )
            )
    with ctx.sessions() as session:
        rows = deadlines_met(session, *Q4, calendar=CALENDAR, today=dt.date(2026, 12, 1))
    found = {(r.workflow, r.department): r for r in rows}
    for department in ("", "samr"):
        row = found[("disclosure", department)]
        assert (row.cases, row.met, row.overdue_open, row.median_days) == (2, 1, 1, 2)


def test_data_quality_counts_rows_received_rejected_and_for_review_per_department(
    ctx: Context,
) -> None:
    _write(ctx, factories.penalty(), factories.penalty())
    _write(ctx, factories.penalty(), received=dt.datetime(2027, 1, 1, 1, tzinfo=dt.UTC))
    with ctx.sessions.begin() as session:
        batch = IngestBatch(
            source="samr",
            type_code="market.penalty",
            file_name="f.csv",
            file_sha256="0" * 64,
            format="csv",
            actor="test",
            status="done",
            started_at=AT,
            counts={},
            notes={},
        )
        session.add(batch)
        session.flush()
        for row in (2, 3):
            session.add(
                IngestRejection(batch_id=batch.id, row=row, field="code", value="x", reason="bad")
            )
        session.add(
            ReviewItem(
                batch_id=batch.id,
                row=4,
                source="samr",
                type_code="market.penalty",
                decision_no="n1",
                subject_name="某公司",
                reason="no code",
                raw={},
                created_at=AT,
            )
        )
    with ctx.sessions() as session:
        (quality,) = data_quality(session, *Q4)
    # 2027-01-01 01:00 UTC is 09:00 on 1 January in the office: outside the quarter.
    assert (quality.source, quality.received, quality.rejected, quality.review, quality.rows) == (
        "samr",
        2,
        2,
        1,
        5,
    )
    assert (quality.rejection_rate, quality.review_rate) == (0.4, 0.2)
