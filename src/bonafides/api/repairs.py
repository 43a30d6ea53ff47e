"""Credit repair over HTTP: eligibility, the application with its evidence and signed
commitment, and the source department's decision."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form
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
from bonafides.app.due_process import repairs as steps
from bonafides.http.auth import http_error
from bonafides.http.deps import UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.store.tables import RepairApplication
from bonafides.workflows import repair
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["due process"])


class EligibilityOut(BaseModel):
    record_id: int
    eligible: bool
    reason: str | None
    possible_from: dt.date | None = Field(description="The first day repair can be applied for.")


class RepairOut(BaseModel):
    id: int
    record_id: int
    source: str
    status: str
    evidence: str
    commitment_id: int
    submitted_at: dt.datetime
    due_on: dt.date
    decided_at: dt.datetime | None
    reasons: str | None
    attachments: list[AttachmentOut]


class RepairDecisionIn(BaseModel):
    approve: bool
    reasons: str = Field(min_length=1, max_length=20_000)


def _out(session: Session, a: RepairApplication) -> RepairOut:
    return RepairOut(
        id=a.id,
        record_id=a.record_id,
        source=a.source,
        status=a.status,
        evidence=a.evidence,
        commitment_id=a.commitment_id,
        submitted_at=a.submitted_at,
        due_on=a.due_on,
        decided_at=a.decided_at,
        reasons=a.reasons,
        attachments=attachments_out(session, repair.KIND, a.id),
    )


@router.get(
    "/repairs/eligibility/{record_id}",
    response_model=EligibilityOut,
    responses=errors(401, 403, 404),
)
def repair_eligibility(
    record_id: Id, unit: UnitDep, desk: DeskDep, subject: OwnWorkflows
) -> EligibilityOut:
    """Whether a record of one's file can be repaired now, and if not yet, from when."""
    try:
        verdict = steps.eligibility(unit.session, desk, subject, record_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return EligibilityOut(
        record_id=record_id,
        eligible=verdict.eligible,
        reason=verdict.reason,
        possible_from=verdict.possible_from,
    )


@router.post(
    "/repairs",
    response_model=RepairOut,
    status_code=201,
    responses=errors(401, 403, 404, 409, 413, 422),
)
def apply_repair(
    unit: UnitDep,
    desk: DeskDep,
    subject: OwnWorkflows,
    record_id: Annotated[int, Form(ge=1, le=2**62)],
    evidence: Annotated[
        str, Form(min_length=1, max_length=20_000, description="How the obligations were met.")
    ],
    commitment: Annotated[
        str,
        Form(min_length=1, max_length=5000, description="The credit commitment, signed by this."),
    ],
    files: Files = None,
) -> RepairOut:
    """Apply for credit repair with evidence and a signed credit commitment.

    Refused with 422 before the minimum publication period is served; the problem's detail
    names the first day an application is possible.
    """
    try:
        application = steps.apply_repair(
            unit,
            desk,
            subject,
            record_id=record_id,
            evidence=evidence,
            commitment=commitment,
            uploads=uploads(files, desk.services.attachment_max_bytes),
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(unit.session, application)


@router.get("/repairs", response_model=list[RepairOut], responses=errors(401, 403))
def list_repairs(unit: UnitDep, desk: DeskDep, principal: SignedIn) -> list[RepairOut]:
    """Repair applications the caller may see."""
    try:
        found = steps.list_repairs(unit.session, desk, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return [_out(unit.session, a) for a in found]


@router.post(
    "/repairs/{application_id}/decision",
    response_model=RepairOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_repair(
    application_id: Id, body: RepairDecisionIn, unit: UnitDep, desk: DeskDep, officer: Answerer
) -> RepairOut:
    """The source department's decision; approval ends publication and the list entries."""
    try:
        application = steps.decide_repair(
            unit, desk, officer, application_id, approve=body.approve, reasons=body.reasons
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(unit.session, application)
