"""Use cases of the office's statistics for a period: the public figures and the report sent up.

Aggregates only: no figure names a subject. The public scope counts what the disclosure
rule counts; the report an office sends up counts every record, for the level above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from bonafides.app.public import month_starts, statistics
from bonafides.context import Context
from bonafides.periods import Period
from bonafides.reports.periodic import OfficeStatistics, Scope, build, render_pdf, render_xlsx
from bonafides.workdays import load_calendar

ReportFormat = Literal["pdf", "xlsx"]


def office_statistics(
    session: Session, ctx: Context, period: Period, *, scope: Scope
) -> OfficeStatistics:
    """Every figure of ``period`` as of its last day, or of today while it runs."""
    return build(
        session,
        ctx.catalogue,
        load_calendar(ctx.settings.holidays),
        period,
        today=ctx.today(),
        scope=scope,
        limit_days=ctx.settings.publicity_working_days,
    )


def periodic_report(
    ctx: Context, period: Period, *, fmt: ReportFormat, lang: str, scope: Scope = "all"
) -> bytes:
    """The report file for ``period``: the same figures give the same bytes."""
    with ctx.sessions() as session:
        figures = office_statistics(session, ctx, period, scope=scope)
    return render_pdf(figures, lang) if fmt == "pdf" else render_xlsx(figures, lang)


@dataclass(frozen=True)
class PublicFigures:
    as_of: dt.date
    subjects: int
    public_records: int
    #: (field, "YYYY-MM", decisions), by month then field.
    by_field_month: list[tuple[str, str, int]]


def public_figures(
    ctx: Context, *, months: int = 12, engine: str = "sql", snapshot_dir: Path | None = None
) -> PublicFigures:
    """The headline counts and decisions per field and month of the public statistics,
    as of today: in the store's SQL, or with ``engine`` "spark" over whole tables on
    Spark (``spark.statistics``; a ``snapshot_dir`` keeps the Parquet snapshot it reads)."""
    today = ctx.today()
    if engine == "spark":
        from bonafides.spark.session import job_session

        spark = job_session(ctx.settings.spark_driver_memory)
        from bonafides.spark.statistics import figures

        with ctx.sessions() as session:
            found = figures(
                spark,
                session,
                ctx.settings.db,
                today=today,
                since=month_starts(today, months)[0],
                snapshot_dir=snapshot_dir,
            )
        return PublicFigures(today, found.subjects, found.public_records, found.by_field_month)
    if engine != "sql":
        raise ValueError(f"unknown engine {engine!r}: sql or spark")
    with ctx.sessions() as session:
        stats = statistics(session, ctx, today=today, months=months)
    return PublicFigures(
        today,
        stats.headline.subjects,
        stats.headline.public_records,
        [(row.field, row.month, row.records) for row in stats.by_field_month],
    )
