"""The change feed: every change a consumer may see, after a cursor, in order.

Anonymous callers get the public events; a department's key or officer what its scope
allows; an operator everything. Removals come as tombstones (``tombstone: true``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from bonafides.app import feed as feed_app
from bonafides.app import sync as sync_app
from bonafides.http.auth import principal_for
from bonafides.http.deps import ContextDep, UnitDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.signing import file_key_store, keys_dir

router = Routes(tags=["feed"])


class EventOut(BaseModel):
    cursor: int = Field(description="The event's position; ask with after=cursor for later ones.")
    kind: str = Field(description="record.published, record.revoked, list_entry.started, ...")
    occurred_at: str = Field(description="When the change was made (ISO 8601, UTC).")
    origin: str = Field(description="The instance where the change was made.")
    tombstone: bool = Field(description="A removal: a copy must drop what it holds.")
    disclosure: str = Field(description="Disclosure class of what the event is about.")
    subject_code: str | None = Field(description="USCC, or a person's masked ID number.")
    record_id: int | None
    record_version: int | None
    list_entry_id: int | None
    payload: dict[str, Any] = Field(description="What a copy needs to apply the change.")


class FeedOut(BaseModel):
    events: list[EventOut]
    next_cursor: int = Field(description="Ask with after=next_cursor next; it stays valid.")
    more: bool = Field(description="The page is full: more events may follow at once.")


@router.get("/feed", response_model=FeedOut, responses=errors(401, 422))
def read_feed(
    request: Request,
    ctx: ContextDep,
    unit: UnitDep,
    after: Annotated[int, Query(ge=0, description="The cursor: events after this one.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=feed_app.MAX_LIMIT, description="Most events in the answer.")
    ] = 100,
) -> Response:
    """Events after a cursor, oldest first, as the caller may see them.

    Reading non-public events is logged in the audit chain and in each subject's access
    log.
    """
    principal = principal_for(request, unit.session)
    try:
        page = feed_app.read_feed(unit, ctx.catalogue, principal, after=after, limit=limit)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    # The answer is FeedOut, assembled from the payloads' stored text (never decoded).
    return Response(page.to_json_text(), media_type="application/json")


class SignedBatchOut(BaseModel):
    algorithm: str = Field(description="Ed25519.")
    key_id: str = Field(description="The signing key, as published at /api/v1/keys.")
    signature: str = Field(description="Base64 Ed25519 signature over the bytes of batch.")
    batch: str = Field(
        description="The batch as canonical JSON text: format, origin, after, next_cursor, "
        "more and events (as GET /api/v1/feed gives them)."
    )


@router.get("/feed/signed", response_model=SignedBatchOut, responses=errors(401, 422))
def read_signed_batch(
    request: Request,
    ctx: ContextDep,
    unit: UnitDep,
    after: Annotated[int, Query(ge=0, description="The cursor: events after this one.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=sync_app.MAX_BATCH, description="Most events in the batch.")
    ] = 100,
) -> SignedBatchOut:
    """The same events as /feed, as one batch signed by this instance's report key, for
    a peer instance to pull (``bonafides sync``) and verify before it applies them."""
    principal = principal_for(request, unit.session)
    store = file_key_store(keys_dir(ctx.settings.data_dir).resolve())
    try:
        secret = ctx.settings.federation_secret
        envelope = sync_app.signed_batch(
            unit,
            ctx.catalogue,
            principal,
            store,
            after=after,
            limit=limit,
            vault=ctx.vault,
            federation_secret=secret.get_secret_value() if secret else None,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return SignedBatchOut(**envelope)
