"""``screen --engine spark``: the same answer file, stored lines, certificate summary and
audit event as the store's own engine, on both stores (SQLite through a Parquet
snapshot, PostgreSQL over JDBC); its line certificates verify like any other."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bonafides.app.screening import screen_file, verify
from bonafides.cli import app
from bonafides.context import Context
from bonafides.screening.batch import EntriesNotCurrentError, ScreenReport
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent, Check, CheckLine
from tests import factories
from tests.rules.fixtures import Write
from tests.rules.fixtures import ctx as ctx
from tests.rules.fixtures import write as write
from tests.screening.test_batch import codes_file
from tests.spark.test_jobs import SECRET, _over_tcp

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]
DAY = dt.date(2026, 1, 15)


def _codes(write: Write) -> list[str]:
    """A file mixing every kind of line: listed organisations and persons (some on two
    lists), organisations with records but on no list, unknown ones, bad codes, blanks,
    and codes that come twice."""
    listed = [factories.org() for _ in range(4)]
    for firm in listed:
        write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    write("tax.major_violation", listed[0], dt.date(2025, 3, 1), source="sta", case_nature="other")
    person = factories.person()
    write("courts.defaulter", person, dt.date(2025, 6, 1), performance="partial")
    clear = [factories.org() for _ in range(3)]
    for firm in clear:
        write("market.penalty", firm, dt.date(2025, 6, 1), source="samr", severity="minor")
    unknown = [factories.org().code for _ in range(3)]
    return [
        *(firm.code for firm in listed),
        person.code,
        *(firm.code for firm in clear),
        *unknown,
        "91110105000000019X",
        "",
        "=cmd|' /C calc'!A0",
        factories.person().code,
        listed[1].code,
        clear[0].code.lower(),
    ]


def _stored(ctx: Context, report: ScreenReport) -> dict[str, Any]:
    with ctx.sessions() as session:
        check = session.execute(select(Check).where(Check.cert_id == report.cert_id)).scalar_one()
        lines = session.execute(
            select(
                CheckLine.line,
                CheckLine.code_display,
                CheckLine.subject_id,
                CheckLine.status,
                CheckLine.digest,
                CheckLine.answer,
            )
            .where(CheckLine.check_id == check.id)
            .order_by(CheckLine.line)
        ).all()
        event = session.execute(
            select(AuditEvent.tag, AuditEvent.purpose, AuditEvent.detail).where(
                AuditEvent.object_ref == f"certificate {report.cert_id}"
            )
        ).one()
        return {
            "summary": (check.answer, check.digest, check.lines, check.rules_digest),
            "lines": [tuple(row) for row in lines],
            "event": tuple(event),
            "invalid": report.invalid,
            "counts": report.counts,
        }


def test_spark_screening_answers_and_stores_what_sql_does(
    spark: object, ctx: Context, write: Write, tmp_path: Path
) -> None:
    source = codes_file(tmp_path / "in.csv", _codes(write))
    spark_ctx = Context(Settings(db=_over_tcp(ctx.settings.db), secret_key=SECRET, demo=True))
    options: dict[str, Any] = {"as_of": DAY, "inquirer": "t@mof", "purpose": "tender 7"}
    try:
        with pytest.raises(EntriesNotCurrentError, match="lists recompute --engine spark"):
            screen_file(spark_ctx, source, action="procurement.bid", engine="spark", **options)
        for action, fmt, listed in (
            ("procurement.bid", "csv", 6),
            ("inspection.frequency", "jsonl", 1),
        ):
            by_sql = screen_file(ctx, source, action=action, out=tmp_path / f"sql.{fmt}", **options)
            by_spark = screen_file(
                spark_ctx,
                source,
                action=action,
                out=tmp_path / f"spark.{fmt}",
                engine="spark",
                **options,
            )
            assert by_sql.cert_id != by_spark.cert_id
            assert by_spark.counts["measures_apply"] == listed
            assert by_spark.invalid
            sql_text = (tmp_path / f"sql.{fmt}").read_bytes()
            spark_text = (tmp_path / f"spark.{fmt}").read_bytes()
            assert spark_text.replace(by_spark.cert_id.encode(), b"CERT") == sql_text.replace(
                by_sql.cert_id.encode(), b"CERT"
            )
            assert _stored(ctx, by_spark) == _stored(ctx, by_sql)
            whole = verify(ctx, by_spark.cert_id, actor="a")
            assert whole.intact
            assert whole.same_now
            for line in (2, 6, 10, 13):
                assert verify(ctx, f"{by_spark.cert_id}.{line}", actor="a").same_now
    finally:
        spark_ctx.close()


def test_screen_engine_is_checked_before_any_work(db_url: str, tmp_path: Path) -> None:
    source = codes_file(tmp_path / "in.csv", [factories.org().code])
    result = CliRunner().invoke(
        app,
        ["screen", str(source), "--action", "procurement.bid", "--engine", "flink", "--db", db_url],
    )
    assert result.exit_code == 2
    assert "--engine must be sql or spark, not 'flink'" in result.stderr
