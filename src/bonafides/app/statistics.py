"""Use cases of the office's statistics for a period: the public figures and the report sent up.

Aggregates only: no figure names a subject. The public scope counts what the disclosure
rule counts; the report an office sends up counts every record, for the level above.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

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
