"""Complaints and reports of violations over HTTP: anyone files, signed in or not; the
competent department, which alone learns who filed, answers."""

from __future__ import annotations

import datetime as dt

from fastapi import Depends
from pydantic import BaseModel, Field

from bonafides.api.cases import Answerer, Id, SignedIn
from bonafides.app.due_process import complaints as steps
from bonafides.http.auth import PrincipalDep, http_error, rate_limit, search_limit
from bonafides.http.deps import UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.workflows import complaints
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["due process"])


class ComplaintIn(BaseModel):
    kind: complaints.ComplaintKind
    text: str = Field(min_length=1, max_length=20_000)
    about: str = Field(min_length=1, max_length=300, description="Who or what it concerns.")
    code: str | None = Field(default=None, max_length=18, description="The subject's code.")
    type: str | None = Field(default=None, max_length=64, description="The record type at issue.")
    department: str | None = Field(default=None, max_length=32)
    informant_name: str | None = Field(default=None, max_length=200)
    informant_contact: str | None = Field(default=None, max_length=200)


class InformantOut(BaseModel):
    account: str | None
    name: str | None
    contact: str | None


class ComplaintOut(BaseModel):
    id: int
    kind: str
    department: str
    about: str
    text: str
    status: str
    created_at: dt.datetime
    due_on: dt.date
    answer: str | None
    answered_at: dt.datetime | None
    informant: InformantOut | None = Field(
        description="Who filed it: shown to the department it was routed to, and no one else."
    )


class ComplaintFiledOut(BaseModel):
    id: int
    department: str
    due_on: dt.date


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=20_000)


def _out(seen: steps.Seen) -> ComplaintOut:
    c, who = seen.complaint, seen.informant
    return ComplaintOut(
        id=c.id,
        kind=c.kind,
        department=c.department,
        about=c.about,
        text=c.text,
        status=c.status,
        created_at=c.created_at,
        due_on=c.due_on,
        answer=c.answer,
        answered_at=c.answered_at,
        informant=InformantOut(account=who.account, name=who.name, contact=who.contact)
        if who
        else None,
    )


@router.post(
    "/complaints",
    response_model=ComplaintFiledOut,
    status_code=201,
    responses=errors(401, 403, 422, 429),
    dependencies=[Depends(rate_limit(steps.BUCKET, search_limit))],
)
def file_complaint(
    body: ComplaintIn, unit: UnitDep, desk: DeskDep, principal: PrincipalDep
) -> ComplaintFiledOut:
    """File a complaint or report a violation, signed in or not; it goes to the competent
    department, which alone learns who filed it. A report never creates a record."""
    request = complaints.ComplaintRequest(
        kind=body.kind,
        text=body.text,
        about=body.about,
        code=body.code,
        type_code=body.type,
        department=body.department,
        informant_name=body.informant_name,
        informant_contact=body.informant_contact,
    )
    try:
        complaint = steps.file_complaint(unit, desk, principal, request)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return ComplaintFiledOut(
        id=complaint.id, department=complaint.department, due_on=complaint.due_on
    )


@router.get("/complaints", response_model=list[ComplaintOut], responses=errors(401, 403))
def list_complaints(unit: UnitDep, desk: DeskDep, principal: SignedIn) -> list[ComplaintOut]:
    """The department's complaints (with informants), one's own, or all (operators,
    without informants)."""
    try:
        found = steps.list_complaints(unit, desk, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return [_out(seen) for seen in found]


@router.post(
    "/complaints/{complaint_id}/answer",
    response_model=ComplaintOut,
    responses=errors(401, 403, 404, 409, 422),
)
def answer_complaint(
    complaint_id: Id,
    body: AnswerIn,
    unit: UnitDep,
    desk: DeskDep,
    officer: Answerer,
) -> ComplaintOut:
    """The competent department's answer; the informant is notified if signed in."""
    try:
        found = steps.answer_complaint(unit, desk, officer, complaint_id, body.answer)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(steps.Seen(found, complaints.informant(desk.services, officer, found)))
