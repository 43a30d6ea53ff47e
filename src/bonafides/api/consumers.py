"""Downstream consumers: operators register them and see who still holds removed data;
a consumer acknowledges the feed's tombstones with the token it got at registration.

See docs/exports.md, "Consumers".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Header, Path
from pydantic import BaseModel, Field

from bonafides.app import consumers
from bonafides.http.auth import http_error, require
from bonafides.http.deps import ContextDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role, Scope
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["exports"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]
ConsumerName = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")]


class ConsumerIn(BaseModel):
    name: str = Field(min_length=2, max_length=64, description="a-z, 0-9, '.', '_', '-'.")
    contact: str = Field(min_length=1, max_length=254, description="Who to reach about it.")


class RegisteredOut(BaseModel):
    name: str
    contact: str
    token: str = Field(description="Shown once: the consumer acknowledges with it.")


class AckIn(BaseModel):
    cursor: int = Field(ge=0, description="Every tombstone up to this feed cursor is applied.")


class AckOut(BaseModel):
    name: str
    acked_cursor: int


class HoldingOut(BaseModel):
    name: str
    contact: str
    acked_cursor: int
    acked_at: dt.datetime | None
    pending_tombstones: int = Field(description="Removals past the cursor, not acknowledged.")
    first_pending: int | None = Field(description="The cursor of the oldest of them.")
    holding_since: dt.datetime | None = Field(description="When the oldest of them happened.")
    days: int | None = Field(description="How long it has been held since.")


@router.post(
    "/consumers",
    response_model=RegisteredOut,
    status_code=201,
    responses=errors(401, 403, 409, 422),
)
def register_consumer(body: ConsumerIn, principal: Operator, ctx: ContextDep) -> RegisteredOut:
    """Register a downstream consumer (operators); the answer carries its token, once."""
    try:
        done = consumers.register(ctx, actor=principal.actor, name=body.name, contact=body.contact)
    except WorkflowError as exc:
        raise http_error(exc) from None
    return RegisteredOut(name=done.name, contact=done.contact, token=done.token)


@router.get("/consumers", response_model=list[HoldingOut], responses=errors(401, 403))
def consumer_report(principal: Operator, ctx: ContextDep) -> list[HoldingOut]:
    """Which consumers have not acknowledged removals, how many and since when (operators)."""
    return [
        HoldingOut(
            name=h.lag.name,
            contact=h.lag.contact,
            acked_cursor=h.lag.acked_cursor,
            acked_at=h.lag.acked_at,
            pending_tombstones=h.lag.pending,
            first_pending=h.lag.first_pending,
            holding_since=h.lag.oldest_pending_at,
            days=h.days,
        )
        for h in consumers.report(ctx)
    ]


@router.post("/consumers/{name}/ack", response_model=AckOut, responses=errors(403, 404, 409, 422))
def acknowledge(
    name: ConsumerName,
    body: AckIn,
    ctx: ContextDep,
    token: Annotated[str, Header(alias="X-Consumer-Token", min_length=8, max_length=100)],
) -> AckOut:
    """A consumer acknowledges every tombstone up to a feed cursor (its token in
    ``X-Consumer-Token``); the cursor never moves back."""
    try:
        cursor = consumers.acknowledge(
            ctx, actor=f"consumer:{name}", name=name, cursor=body.cursor, token=token
        )
    except WorkflowError as exc:
        raise http_error(exc) from None
    return AckOut(name=name, acked_cursor=cursor)
