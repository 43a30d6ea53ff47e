"""Signed checkpoints of the audit chain, published so that anyone can keep them.

A checkpoint is a count of events, the hash of the last one, a time and an Ed25519
signature with the key published at ``/api/v1/keys``: nothing about any subject. Whoever
fetches and keeps them can later have ``bonafides audit verify --checkpoint`` prove that
the platform's chain still passes through each one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from bonafides.http.deps import ContextDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.anchor import CHECKPOINT_TYPE, stored_checkpoints

router = Routes(tags=["audit"])


class CheckpointOut(BaseModel):
    type: str = Field(CHECKPOINT_TYPE, description="What this object is, with its version.")
    event_count: int = Field(description="Events in the chain at the checkpoint.")
    head_hash: str = Field(description="The hash of event number event_count.")
    at: str = Field(description="When it was signed (ISO 8601, UTC).")
    keyed_from: int = Field(
        description="The first event hashed with the audit key; earlier ones use plain SHA-256."
    )
    key_id: str = Field(description="The Ed25519 key that signed it (GET /api/v1/keys).")
    algorithm: str
    signature: str = Field(
        description="Base64 Ed25519 signature of the canonical JSON of the other fields."
    )


class CheckpointsOut(BaseModel):
    checkpoints: list[CheckpointOut] = Field(description="Newest first.")
    keys: str = Field(description="Where the public keys that sign them are published.")


@router.get("/audit/checkpoints", response_model=CheckpointsOut, responses=errors(422))
def checkpoints(
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
    before: Annotated[
        int | None, Query(ge=1, description="Only checkpoints of fewer events (paging back).")
    ] = None,
) -> CheckpointsOut:
    """The signed checkpoints of the audit chain's head, public: keep them to prove later
    that the platform's history was neither cut short nor rewritten."""
    with ctx.read_sessions() as session:
        found = stored_checkpoints(session, limit=limit, before=before)
    return CheckpointsOut(
        checkpoints=[CheckpointOut(**c.to_json()) for c in found], keys="/api/v1/keys"
    )
