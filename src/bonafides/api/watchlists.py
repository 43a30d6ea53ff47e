"""Watchlists: codes to follow, a webhook to be told at, and the feed narrowed to them.

Any signed-in account (a company, a bank's inquirer, a department) may keep watchlists.
Each follows public events only; the signing secret is shown once, in the answer that
creates the watchlist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from bonafides.api.feed import EventOut, FeedOut
from bonafides.app import watchlists as use
from bonafides.http.auth import clock_of, http_error, require
from bonafides.http.deps import ContextDep, SessionDep, UnitDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal
from bonafides.store.tables import Watchlist
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["watchlists"])

SignedIn = Annotated[Principal, Depends(require())]
WatchlistId = Annotated[int, Path(ge=1)]
#: Codes per request: the body stays under the request size limit; add more in batches.
MAX_CODES_PER_REQUEST = 2000


class WatchlistIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    url: str | None = Field(
        default=None,
        max_length=500,
        description="Where to POST signed events (https://); none to poll the feed only.",
    )
    codes: list[str] = Field(
        max_length=MAX_CODES_PER_REQUEST, description="USCCs or resident ID numbers to follow."
    )


class CodesIn(BaseModel):
    codes: list[str] = Field(min_length=1, max_length=MAX_CODES_PER_REQUEST)


class WatchlistOut(BaseModel):
    id: int
    name: str
    url: str | None
    active: bool
    codes: int
    cursor: int = Field(description="The last feed event matched against the codes.")
    created_at: str


class CreatedOut(WatchlistOut):
    secret: str = Field(description="Signs every delivery (HMAC-SHA256); shown only now.")


class DeliveryOut(BaseModel):
    id: int
    event: int = Field(description="The feed event's cursor.")
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_at: str
    last_at: str | None
    last_error: str | None
    delivered_at: str | None


def _out(watchlist: Watchlist, codes: int) -> WatchlistOut:
    return WatchlistOut(
        id=watchlist.id,
        name=watchlist.name,
        url=watchlist.url,
        active=watchlist.active,
        codes=codes,
        cursor=watchlist.cursor,
        created_at=watchlist.created_at.isoformat(),
    )


@router.post(
    "/watchlists", response_model=CreatedOut, status_code=201, responses=errors(401, 403, 413, 422)
)
def create_watchlist(
    body: WatchlistIn, ctx: ContextDep, unit: UnitDep, principal: SignedIn
) -> CreatedOut:
    """A watchlist following its codes' public events from now on."""
    try:
        made = use.create(unit, ctx, principal, name=body.name, url=body.url, codes=body.codes)
    except WorkflowError as exc:
        raise http_error(exc) from None
    out = _out(made.watchlist, len({c.strip() for c in body.codes if c.strip()}))
    return CreatedOut(**out.model_dump(), secret=made.secret)


@router.get("/watchlists", response_model=list[WatchlistOut], responses=errors(401, 403))
def my_watchlists(session: SessionDep, principal: SignedIn) -> list[WatchlistOut]:
    """The caller's watchlists."""
    try:
        return [_out(w, n) for w, n in use.mine(session, principal)]
    except WorkflowError as exc:
        raise http_error(exc) from None


@router.post(
    "/watchlists/{watchlist_id}/codes",
    response_model=dict[str, int],
    responses=errors(401, 404, 413, 422),
)
def add_codes(
    watchlist_id: WatchlistId,
    body: CodesIn,
    ctx: ContextDep,
    unit: UnitDep,
    principal: SignedIn,
) -> dict[str, int]:
    """Follow more codes; those already followed are left as they are."""
    try:
        added = use.add_codes(unit, ctx, principal, watchlist_id, body.codes)
    except WorkflowError as exc:
        raise http_error(exc) from None
    return {"added": added}


@router.delete("/watchlists/{watchlist_id}", status_code=204, responses=errors(401, 404))
def close_watchlist(watchlist_id: WatchlistId, unit: UnitDep, principal: SignedIn) -> Response:
    """Stop following: no more deliveries; the codes are dropped."""
    try:
        use.close(unit, principal, watchlist_id)
    except WorkflowError as exc:
        raise http_error(exc) from None
    return Response(status_code=204)


@router.get(
    "/watchlists/{watchlist_id}/feed", response_model=FeedOut, responses=errors(401, 404, 422)
)
def watchlist_feed(
    watchlist_id: WatchlistId,
    ctx: ContextDep,
    unit: UnitDep,
    principal: SignedIn,
    after: Annotated[int, Query(ge=0, description="The cursor: events after this one.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most events in the answer.")] = 100,
) -> FeedOut:
    """The change feed narrowed to the watchlist's subjects, for polling instead of a
    webhook; cursors are the feed's."""
    try:
        page = use.read_feed(unit, ctx, principal, watchlist_id, after=after, limit=limit)
    except WorkflowError as exc:
        raise http_error(exc) from None
    return FeedOut(
        events=[EventOut(**e.to_json()) for e in page.events],
        next_cursor=page.next_cursor,
        more=page.more,
    )


@router.get(
    "/watchlists/{watchlist_id}/deliveries",
    response_model=list[DeliveryOut],
    responses=errors(401, 404, 422),
)
def watchlist_deliveries(
    watchlist_id: WatchlistId,
    session: SessionDep,
    principal: SignedIn,
    status: Annotated[
        Literal["pending", "delivered", "dead"] | None,
        Query(description="Only deliveries in this state; dead: the dead letters."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """The watchlist's webhook deliveries, newest first, with each one's attempts."""
    try:
        found = use.deliveries(session, principal, watchlist_id, status=status, limit=limit)
    except WorkflowError as exc:
        raise http_error(exc) from None
    return [
        DeliveryOut(
            id=d.id,
            event=d.event_id,
            status=d.status,
            attempts=d.attempts,
            next_at=d.next_at.isoformat(),
            last_at=d.last_at.isoformat() if d.last_at else None,
            last_error=d.last_error,
            delivered_at=d.delivered_at.isoformat() if d.delivered_at else None,
        )
        for d in found
    ]


@router.post(
    "/watchlists/{watchlist_id}/redeliver",
    response_model=dict[str, int],
    responses=errors(401, 404),
)
def redeliver(
    watchlist_id: WatchlistId, request: Request, unit: UnitDep, principal: SignedIn
) -> dict[str, int]:
    """Queue the dead letters again (after the receiver is fixed)."""
    try:
        count = use.redeliver(unit, principal, watchlist_id, now=clock_of(request).now())
    except WorkflowError as exc:
        raise http_error(exc) from None
    return {"requeued": count}
