"""Objections over HTTP, and the attachments of every due-process case.

A subject objects to a record of its own file; the source department answers. The use
cases (``bonafides.app.due_process``) authorise through the workflow service, log staff
reads for the subject, commit once, then mail.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bonafides.api.cases import (
    Answerer,
    AttachmentOut,
    Files,
    Id,
    OwnWorkflows,
    SignedIn,
    attachments_out,
    uploads,
)
from bonafides.app.due_process import objections as steps
from bonafides.app.due_process.attachments import read_attachment
from bonafides.http.auth import http_error
from bonafides.http.deps import UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.store.tables import Objection
from bonafides.workflows import objections
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["due process"])


class ObjectionOut(BaseModel):
    id: int
    record_id: int
    source: str
    grounds: str
    status: str
    opened_at: dt.datetime
    due_on: dt.date
    escalated: bool
    outcome: str | None
    reasons: str | None
    decided_at: dt.datetime | None
    attachments: list[AttachmentOut]


class DecisionIn(BaseModel):
    outcome: objections.ObjectionOutcome
    reasons: str = Field(min_length=1, max_length=20_000)
    corrected: dict[str, str | int | float | bool] | None = Field(
        default=None, description="Field name to corrected value, for the outcome 'corrected'."
    )


def _out(session: Session, o: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=o.id,
        record_id=o.record_id,
        source=o.source,
        grounds=o.grounds,
        status=o.status,
        opened_at=o.opened_at,
        due_on=o.due_on,
        escalated=o.escalated_at is not None,
        outcome=o.outcome,
        reasons=o.reasons,
        decided_at=o.decided_at,
        attachments=attachments_out(session, objections.KIND, o.id),
    )


@router.post(
    "/objections",
    response_model=ObjectionOut,
    status_code=201,
    responses=errors(401, 403, 404, 409, 413, 422),
)
def open_objection(
    unit: UnitDep,
    desk: DeskDep,
    subject: OwnWorkflows,
    record_id: Annotated[int, Form(ge=1, le=2**62, description="The record objected to.")],
    grounds: Annotated[str, Form(min_length=1, max_length=20_000)],
    files: Files = None,
) -> ObjectionOut:
    """Object to a record of one's own file; it is marked under objection at once."""
    try:
        objection = steps.open_objection(
            unit,
            desk,
            subject,
            record_id=record_id,
            grounds=grounds,
            uploads=uploads(files, desk.services.attachment_max_bytes),
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(unit.session, objection)


@router.get("/objections", response_model=list[ObjectionOut], responses=errors(401, 403))
def list_objections(
    unit: UnitDep,
    desk: DeskDep,
    principal: SignedIn,
    status: Annotated[objections.ObjectionStatus | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only open ones past their deadline.")] = False,
) -> list[ObjectionOut]:
    """Objections the caller may see: its own, its department's, or all (operators)."""
    try:
        found = steps.list_objections(unit.session, desk, principal, status=status, overdue=overdue)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return [_out(unit.session, o) for o in found]


@router.get("/objections/{objection_id}", response_model=ObjectionOut, responses=errors(401, 404))
def get_objection(
    objection_id: Id, unit: UnitDep, desk: DeskDep, principal: SignedIn
) -> ObjectionOut:
    """One objection, with its deadline, outcome and attachments."""
    try:
        found = steps.read_objection(unit, desk, principal, objection_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(unit.session, found)


@router.post(
    "/objections/{objection_id}/decision",
    response_model=ObjectionOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_objection(
    objection_id: Id, body: DecisionIn, unit: UnitDep, desk: DeskDep, officer: Answerer
) -> ObjectionOut:
    """The source department's answer: corrected (with the values), revoked, or upheld."""
    try:
        found = steps.decide_objection(
            unit,
            desk,
            officer,
            objection_id,
            outcome=body.outcome,
            reasons=body.reasons,
            corrected=body.corrected,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(unit.session, found)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(401, 404)},
)
def get_attachment(
    attachment_id: Id, unit: UnitDep, desk: DeskDep, principal: SignedIn
) -> Response:
    """An attachment, to those who may see what it is attached to; always as a download.

    One answer for an unknown id and for a file whose case the principal may not see: the
    answer names the attachment only, never the case it belongs to.
    """
    try:
        found = read_attachment(unit, desk, principal, attachment_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return Response(
        found.data,
        media_type=found.row.content_type,
        headers={
            "content-disposition": "attachment; filename=attachment; "
            f"filename*=UTF-8''{quote(found.row.file_name)}"
        },
    )
