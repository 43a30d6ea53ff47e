"""Special inquiries over HTTP: a department applies to read restricted records of named
subjects, for a purpose and a period; an operator approves or refuses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, Field

from bonafides.api.cases import Id, SignedIn
from bonafides.app.due_process import inquiries as steps
from bonafides.http.auth import http_error, require
from bonafides.http.deps import SessionDep, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role, Scope
from bonafides.store.tables import SpecialInquiry
from bonafides.workflows import inquiries
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["due process"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]
Applicant = Annotated[
    Principal, Depends(require(Role.OFFICER, Role.INQUIRER, scope=Scope.INQUIRIES_APPLY))
]


class InquiryIn(BaseModel):
    purpose: str = Field(min_length=1, max_length=300)
    legal_basis: str = Field(min_length=1, max_length=300)
    codes: list[str] = Field(min_length=1, max_length=inquiries.MAX_SUBJECTS)
    valid_from: dt.date
    valid_until: dt.date


class InquiryOut(BaseModel):
    id: int
    department: str
    purpose: str
    legal_basis: str
    subjects: int
    valid_from: dt.date
    valid_until: dt.date
    status: str
    decision_note: str | None


class InquiryDecisionIn(BaseModel):
    approve: bool
    note: str = Field(min_length=1, max_length=300)


def _out(i: SpecialInquiry) -> InquiryOut:
    return InquiryOut(
        id=i.id,
        department=i.department,
        purpose=i.purpose,
        legal_basis=i.legal_basis,
        subjects=len(i.subject_ids),
        valid_from=i.valid_from,
        valid_until=i.valid_until,
        status=i.status,
        decision_note=i.decision_note,
    )


@router.post(
    "/inquiries",
    response_model=InquiryOut,
    status_code=201,
    responses=errors(401, 403, 422),
)
def apply_inquiry(
    body: InquiryIn, unit: UnitDep, desk: DeskDep, applicant: Applicant
) -> InquiryOut:
    """Apply to read restricted records of named subjects, for a purpose and a period."""
    request = inquiries.InquiryRequest(
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        codes=body.codes,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    try:
        inquiry = steps.apply_inquiry(unit, desk, applicant, request)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(inquiry)


@router.get("/inquiries", response_model=list[InquiryOut], responses=errors(401))
def list_inquiries(session: SessionDep, principal: SignedIn) -> list[InquiryOut]:
    """One's own applications, or all of them (operators)."""
    return [_out(i) for i in steps.list_inquiries(session, principal)]


@router.post(
    "/inquiries/{inquiry_id}/decision",
    response_model=InquiryOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_inquiry(
    inquiry_id: Id, body: InquiryDecisionIn, unit: UnitDep, desk: DeskDep, operator: Operator
) -> InquiryOut:
    """Approve or refuse a special inquiry (operators)."""
    try:
        inquiry = steps.decide_inquiry(
            unit, desk, operator, inquiry_id, approve=body.approve, note=body.note
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(inquiry)
