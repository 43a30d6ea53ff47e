"""Counterparty checks over HTTP: a company's account uploads a CSV of codes and gets the
public status of each under one certificate, optionally keeping them as a watchlist."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, File, Form, Request, Response, UploadFile
from pydantic import BaseModel, Field

from bonafides.app import counterparties as use
from bonafides.http.auth import clock_of, hit, http_error, require, search_limit
from bonafides.http.deps import ContextDep, UnitDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.screening.counterparties import MAX_BYTES
from bonafides.security.clock import office_day
from bonafides.security.ratelimit import Rate
from bonafides.security.roles import Principal, Role, Scope
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["checks"])

Enterprise = Annotated[Principal, Depends(require(Role.SUBJECT, scope=Scope.OWN_FILE))]


class KeptOut(BaseModel):
    id: int
    name: str
    codes: int
    secret: str = Field(description="Signs webhook deliveries (HMAC-SHA256); shown only now.")


class CounterpartiesOut(BaseModel):
    certificate: str = Field(description="Verify with `bonafides verify`, a line as `ID.LINE`.")
    as_of: dt.date
    counts: dict[str, int]
    lines: list[dict[str, Any]]
    watchlist: KeptOut | None


@router.post(
    "/counterparties",
    response_model=CounterpartiesOut,
    status_code=201,
    responses=errors(401, 403, 422, 429),
)
def check_counterparties(
    request: Request,
    response: Response,
    ctx: ContextDep,
    unit: UnitDep,
    principal: Enterprise,
    file: Annotated[UploadFile, File(description="CSV: one code per row, first column.")],
    watchlist: Annotated[
        str | None,
        Form(max_length=100, description="Keep the valid codes as a watchlist of this name."),
    ] = None,
) -> CounterpartiesOut:
    """The public status of each counterparty (public records and lists only), under one
    certificate; a company's account only, rate limited per account."""
    rate = Rate(search_limit(ctx.settings))
    hit(request, response, f"{use.BUCKET}:account:{principal.account_id}", rate)
    data = file.file.read(MAX_BYTES + 1)
    day = office_day(clock_of(request), ctx.settings.timezone)
    try:
        done = use.check_counterparties(unit, ctx, principal, data, day=day, keep_as=watchlist)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    kept = None
    if done.watchlist is not None:
        made = done.watchlist.watchlist
        kept = KeptOut(
            id=made.id,
            name=made.name,
            codes=sum(1 for line in done.check.lines if line["status"] != "invalid"),
            secret=done.watchlist.secret,
        )
    return CounterpartiesOut(
        certificate=done.check.cert_id,
        as_of=done.check.as_of,
        counts=done.check.counts,
        lines=done.check.lines,
        watchlist=kept,
    )
