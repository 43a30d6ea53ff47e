"""The review desk over HTTP: rows without a code, judged by operators and the officers of
the department that sent them (``bonafides.app.review``, as the CLI and portal call it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from bonafides.app import review as steps
from bonafides.http.auth import http_error, require
from bonafides.http.deps import ContextDep, Id, UnitDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role
from bonafides.store.tables import ReviewItem
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["review desk"])

Reviewer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.OFFICER))]


class ReviewItemOut(BaseModel):
    id: int
    department: str
    type: str
    decision_no: str | None
    name: str
    reason: str
    status: str
    created_at: dt.datetime
    algorithm: str | None
    best: dict[str, Any] | None = Field(description="The best candidate: code, name, score.")


class JudgementOut(BaseModel):
    verdict: str
    code: str | None
    reason: str
    by: str
    at: dt.datetime
    record: int | None


class ReviewItemDetailOut(ReviewItemOut):
    row: int
    values: dict[str, Any] = Field(description="The row as submitted, by field name.")
    candidates: list[dict[str, Any]] = Field(
        description="Up to five {code, name, score, explanation}, best first, none rejected."
    )
    judgements: list[JudgementOut]


class JudgementIn(BaseModel):
    code: str = Field(min_length=18, max_length=18, description="The candidate's USCC.")
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def _out(item: ReviewItem) -> ReviewItemOut:
    best = item.candidates[0] if item.candidates else None
    return ReviewItemOut(
        id=item.id,
        department=item.source,
        type=item.type_code,
        decision_no=item.decision_no,
        name=item.subject_name,
        reason=item.reason,
        status=item.status,
        created_at=item.created_at,
        algorithm=item.algorithm,
        best={k: best[k] for k in ("code", "name", "score") if k in best} if best else None,
    )


def _detail(view: steps.ItemView) -> ReviewItemDetailOut:
    return ReviewItemDetailOut(
        **_out(view.item).model_dump(),
        row=view.item.row,
        values=dict(view.item.raw),
        candidates=view.candidates,
        judgements=[
            JudgementOut(
                verdict=j.verdict,
                code=j.code,
                reason=j.reason,
                by=j.actor,
                at=j.judged_at,
                record=j.record_id,
            )
            for j in view.judgements
        ],
    )


@router.get("/review", response_model=list[ReviewItemOut], responses=errors(401, 403, 422))
def list_review(
    unit: UnitDep,
    ctx: ContextDep,
    principal: Reviewer,
    department: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[str | None, Query(max_length=64, description="A record type.")] = None,
    status: Annotated[
        str, Query(description="open, unsure, accepted, rejected, or all.")
    ] = steps.OPEN,
) -> list[ReviewItemOut]:
    """The queue the caller may judge, oldest first: all (operators) or its department's."""
    try:
        found = steps.list_queue(
            unit.session,
            ctx.catalogue,
            principal,
            department=department,
            type_code=type,
            status=None if status == "all" else status,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return [_out(i) for i in found]


@router.get(
    "/review/{item_id}", response_model=ReviewItemDetailOut, responses=errors(401, 403, 404)
)
def get_review(
    item_id: Id, unit: UnitDep, ctx: ContextDep, principal: Reviewer
) -> ReviewItemDetailOut:
    """One item with its candidates, their explanations and the judgements so far."""
    try:
        return _detail(steps.read_item(unit, ctx, principal, item_id))
    except WorkflowError as exc:
        raise http_error(exc) from exc


@router.post(
    "/review/{item_id}/accept",
    response_model=ReviewItemDetailOut,
    responses=errors(401, 403, 404, 409, 422),
)
def accept_review(
    item_id: Id, body: JudgementIn, unit: UnitDep, ctx: ContextDep, principal: Reviewer
) -> ReviewItemDetailOut:
    """Link the row to a candidate: it becomes a record of that subject, audited."""
    try:
        view = steps.accept(unit, ctx, principal, item_id, code=body.code, reason=body.reason)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _detail(view)


@router.post(
    "/review/{item_id}/reject",
    response_model=ReviewItemDetailOut,
    responses=errors(401, 403, 404, 409, 422),
)
def reject_review(
    item_id: Id, body: JudgementIn, unit: UnitDep, ctx: ContextDep, principal: Reviewer
) -> ReviewItemDetailOut:
    """The candidate is not the subject: never proposed again for the name."""
    try:
        view = steps.reject(unit, ctx, principal, item_id, code=body.code, reason=body.reason)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _detail(view)


@router.post(
    "/review/{item_id}/unsure",
    response_model=ReviewItemDetailOut,
    responses=errors(401, 403, 404, 409, 422),
)
def unsure_review(
    item_id: Id, body: NoteIn, unit: UnitDep, ctx: ContextDep, principal: Reviewer
) -> ReviewItemDetailOut:
    """No judgement yet: the item stays on the desk with the note."""
    try:
        view = steps.unsure(unit, ctx, principal, item_id, reason=body.reason)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _detail(view)
