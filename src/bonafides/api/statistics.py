"""Public statistics: aggregates only, recomputed at most every few minutes."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query, Request

from bonafides.app.public import FigureCache, Statistics, office_today, statistics
from bonafides.app.statistics import office_statistics
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.periods import PATTERN, PeriodError, parse_period
from bonafides.reports.periodic import OfficeStatistics

router = Routes(tags=["statistics"])


def cached_statistics(
    request: Request, ctx: ContextDep, session: SessionDep, months: int
) -> Statistics:
    cache = request.app.state.figures
    assert isinstance(cache, FigureCache)
    today = office_today(ctx)
    return cache.get(
        ("statistics", today, months),
        lambda: statistics(session, ctx, today=today, months=months),
    )


@router.get("/statistics", response_model=Statistics, responses=errors(422))
def public_statistics(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    months: Annotated[int, Query(ge=1, le=36, description="Months back, this one included.")] = 12,
) -> Statistics:
    """Headline counts, public decisions per field and month, publicity delay per department."""
    return cached_statistics(request, ctx, session, months)


@router.get("/statistics/periods/{period}", response_model=OfficeStatistics, responses=errors(422))
def period_statistics(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    period: Annotated[
        str,
        Path(
            description="A year (2026), a quarter (2026-Q4) or a month (2026-11).",
            pattern=PATTERN,
        ),
    ],
) -> OfficeStatistics:
    """Public figures of a period: volumes by region and department (what the disclosure
    rule counts), timeliness, objection, repair and complaint deadlines met, data quality."""
    try:
        chosen = parse_period(period)
    except PeriodError as exc:
        raise HTTPException(422, str(exc)) from exc
    cache = request.app.state.figures
    assert isinstance(cache, FigureCache)
    return cache.get(
        ("period statistics", chosen, office_today(ctx)),
        lambda: office_statistics(session, ctx, chosen, scope="counted"),
    )
