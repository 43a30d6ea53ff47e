"""The periodic statistics report: figures of a period, PDF and XLSX, CLI and API."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from bonafides.api.app import create_app
from bonafides.app.statistics import office_statistics, periodic_report
from bonafides.cli import app
from bonafides.context import Context
from bonafides.periods import PATTERN, PeriodError, parse_period
from bonafides.security.clock import FixedClock
from bonafides.settings import Settings
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import Account, Objection, Record
from tests import factories

runner = CliRunner()
DECIDED = dt.date(2025, 11, 3)


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(
        Settings(db=db_url, secret_key="statistics-test-secret-0123"),
        clock=FixedClock(dt.datetime(2025, 11, 10, 2, tzinfo=dt.UTC)),
    )
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
        write_records(
            session,
            context.keys,
            [
                factories.penalty(factories.org("110105"), decision_date=DECIDED),
                factories.penalty(factories.org("330106"), decision_date=DECIDED, source="sta"),
                factories.penalty(
                    factories.person(dt.date(2012, 1, 1), "440305"), decision_date=DECIDED
                ),
            ],
            actor="test",
            received_at=dt.datetime(2025, 11, 5, 2, tzinfo=dt.UTC),
        )
    yield context
    context.close()


def test_periods_are_years_quarters_and_months() -> None:
    assert (parse_period("2026-Q4").start, parse_period("2026-Q4").end) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
    )
    assert parse_period("2024-02").end == dt.date(2024, 2, 29)
    assert parse_period("2026").label == "2026"
    assert re.fullmatch(PATTERN, "2026-Q4")
    for bad in ("2026-Q5", "2026-13", "26", "2026-11-01", "Q4", "0000", "2100"):
        assert not re.fullmatch(PATTERN, bad)
        with pytest.raises(PeriodError):
            parse_period(bad)


def test_an_open_objection_counts_as_missed_once_the_clock_passes_its_day(ctx: Context) -> None:
    q4 = parse_period("2025-Q4")
    with ctx.sessions.begin() as session:
        record = session.scalars(select(Record).where(Record.source == "sta")).one()
        account = Account(
            username="s",
            display_name="s",
            role="subject",
            created_at=ctx.clock.now(),
            created_by="t",
        )
        session.add(account)
        session.flush()
        session.add(
            Objection(
                subject_id=record.subject_id,
                record_id=record.id,
                account_id=account.id,
                source="sta",
                grounds="g",
                prior_status="active",
                status="open",
                opened_at=ctx.clock.now(),
                due_on=dt.date(2025, 11, 24),
            )
        )
    with ctx.sessions() as session:
        running = office_statistics(session, ctx, q4, scope="counted")
    assert running.as_of == dt.date(2025, 11, 10)
    assert [(d.department, d.cases) for d in running.deadlines if d.workflow == "objection"] == [
        ("", 0)
    ]
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(days=60)
    with ctx.sessions() as session:
        closed = office_statistics(session, ctx, q4, scope="counted")
    assert closed.as_of == dt.date(2025, 12, 31)
    objection = {d.department: d for d in closed.deadlines if d.workflow == "objection"}
    assert (objection["sta"].cases, objection["sta"].overdue_open, objection[""].share_met) == (
        1,
        1,
        0.0,
    )


def test_public_figures_leave_out_a_minors_record_and_the_office_report_counts_it(
    ctx: Context,
) -> None:
    q4 = parse_period("2025-Q4")
    with ctx.sessions() as session:
        public = office_statistics(session, ctx, q4, scope="counted")
        office = office_statistics(session, ctx, q4, scope="all")
    assert [(r.code, r.records) for r in public.by_province] == [("110000", 1), ("330000", 1)]
    assert {r.code for r in office.by_province} == {"110000", "330000", "440000"}
    assert public.by_city[0].name.startswith(("北京市", "浙江省"))
    assert [q.received for q in office.quality] == [2, 1]


def test_the_pdf_and_workbook_of_a_closed_period_are_the_same_bytes_each_time(
    ctx: Context,
) -> None:
    q4 = parse_period("2025-Q4")
    ctx.clock.advance(days=90)  # type: ignore[attr-defined]
    pdf = periodic_report(ctx, q4, fmt="pdf", lang="en")
    ctx.clock.advance(days=30)  # type: ignore[attr-defined]
    assert periodic_report(ctx, q4, fmt="pdf", lang="en") == pdf
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for heading in ("Decisions by province", "Timeliness (7 working days)", "Data quality"):
        assert heading in text
    book = periodic_report(ctx, q4, fmt="xlsx", lang="zh")
    assert periodic_report(ctx, q4, fmt="xlsx", lang="zh") == book
    sheets = load_workbook(io.BytesIO(book))
    # openpyxl stamps the moment of saving; the report carries the figures' day instead.
    assert sheets.properties.modified == dt.datetime(2025, 12, 31)
    assert len(sheets.sheetnames) == 7
    province = sheets[sheets.sheetnames[0]]
    rows = list(province.iter_rows(min_row=3, values_only=True))
    assert sorted(rows) == [
        ("110000", "北京市", 1),
        ("330000", "浙江省", 1),
        ("440000", "广东省", 1),
    ]


def test_stats_report_writes_the_file_and_refuses_a_bad_period_or_suffix(
    ctx: Context, tmp_path: Path
) -> None:
    db = ctx.settings.db
    out = tmp_path / "report.xlsx"
    done = runner.invoke(
        app, ["stats", "report", "--period", "2025-Q4", "--out", str(out), "--db", db]
    )
    assert done.exit_code == 0, done.output
    assert len(load_workbook(out).sheetnames) == 7
    pdf = tmp_path / "report.pdf"
    done = runner.invoke(
        app,
        ["stats", "report", "--period", "2025-11", "--out", str(pdf), "--lang", "en", "--db", db],
    )
    assert done.exit_code == 0, done.output
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(
        app, ["stats", "report", "--period", "2025-Q5", "--out", str(out), "--db", db]
    )
    assert bad.exit_code == 2
    assert "2025-Q5" in bad.output
    assert "quarter" in bad.output
    csv = runner.invoke(
        app, ["stats", "report", "--period", "2025", "--out", str(tmp_path / "r.csv"), "--db", db]
    )
    assert csv.exit_code == 2
    assert not (tmp_path / "r.csv").exists()


def test_the_api_serves_the_public_figures_of_a_period(ctx: Context) -> None:
    with TestClient(create_app(ctx.settings)) as client:
        body = client.get("/api/v1/statistics/periods/2025-Q4").json()
        assert body["scope"] == "counted"
        assert [r["code"] for r in body["by_district"]] == ["110105", "330106"]
        assert {d["workflow"] for d in body["deadlines"]} == {
            "objection",
            "repair",
            "complaint",
            "disclosure",
        }
        wrong = client.get("/api/v1/statistics/periods/2025-Q5")
        assert wrong.status_code == 422
        assert "period" in wrong.text, wrong.text
