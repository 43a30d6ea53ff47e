"""Public statistics: aggregates only, recomputed at most every few minutes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from bonafides.app.public import FigureCache, Statistics, office_today, statistics
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes

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
