"""Disclosure on application (依申请公开) over HTTP: a company's or person's account asks a
department for information the platform holds; the department grants, partly grants or
refuses within 20 working days; operators read the figures per department."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, Field

from bonafides.api.cases import Answerer, Id, OwnWorkflows, SignedIn
from bonafides.app.due_process import disclosure_requests as steps
from bonafides.http.auth import http_error, rate_limit, require, search_limit
from bonafides.http.deps import SessionDep, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role, Scope
from bonafides.store.tables import DisclosureRequest
from bonafides.workflows.common import WorkflowError
from bonafides.workflows.disclosure_requests import DisclosureAsk, Outcome

router = Routes(tags=["due process"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]


class DisclosureRequestIn(BaseModel):
    department: str = Field(min_length=1, max_length=32, description="The department asked.")
    asked: str = Field(
        min_length=1, max_length=20_000, description="The information asked for, described."
    )
    purpose: str | None = Field(default=None, max_length=300)


class DisclosureRequestOut(BaseModel):
    id: int
    department: str
    asked: str
    purpose: str | None
    status: str
    created_at: dt.datetime
    due_on: dt.date
    escalated: bool
    outcome: Outcome | None
    answer: str | None
    provision: str | None
    decided_at: dt.datetime | None


class DecisionIn(BaseModel):
    outcome: Outcome
    answer: str = Field(
        min_length=1,
        max_length=20_000,
        description="The information given, or the reason it is (partly) withheld.",
    )
    provision: str | None = Field(
        default=None,
        max_length=300,
        description="The provision relied on: required to refuse or grant in part.",
    )


class DepartmentFiguresOut(BaseModel):
    department: str
    received: int
    decided: int
    decided_in_time: int
    open_overdue: int
    median_days: float | None


def _out(item: DisclosureRequest) -> DisclosureRequestOut:
    return DisclosureRequestOut(
        id=item.id,
        department=item.department,
        asked=item.asked,
        purpose=item.purpose,
        status=item.status,
        created_at=item.created_at,
        due_on=item.due_on,
        escalated=item.escalated_at is not None,
        outcome=Outcome(item.outcome) if item.outcome else None,
        answer=item.answer,
        provision=item.provision,
        decided_at=item.decided_at,
    )


@router.post(
    "/disclosure-requests",
    response_model=DisclosureRequestOut,
    status_code=201,
    responses=errors(401, 403, 422, 429),
    dependencies=[Depends(rate_limit("disclosure-requests", search_limit))],
)
def submit_request(
    body: DisclosureRequestIn, unit: UnitDep, desk: DeskDep, applicant: OwnWorkflows
) -> DisclosureRequestOut:
    """Ask a department for information the platform holds; it answers within 20 working
    days (Regulations on the Disclosure of Government Information, art. 33)."""
    ask = DisclosureAsk(department=body.department, asked=body.asked, purpose=body.purpose)
    try:
        return _out(steps.submit_request(unit, desk, applicant, ask))
    except WorkflowError as exc:
        raise http_error(exc) from exc


@router.get(
    "/disclosure-requests", response_model=list[DisclosureRequestOut], responses=errors(401, 403)
)
def list_requests(unit: UnitDep, desk: DeskDep, principal: SignedIn) -> list[DisclosureRequestOut]:
    """One's own applications, the department's, or all of them (operators)."""
    try:
        return [_out(i) for i in steps.list_requests(unit, desk, principal)]
    except WorkflowError as exc:
        raise http_error(exc) from exc


@router.get(
    "/disclosure-requests/figures",
    response_model=list[DepartmentFiguresOut],
    responses=errors(401, 403),
)
def request_figures(
    session: SessionDep, desk: DeskDep, operator: Operator
) -> list[DepartmentFiguresOut]:
    """Per department: applications received, decided, decided in time, open past their
    deadline, and the median working days to a decision (operators)."""
    return [
        DepartmentFiguresOut(
            department=f.department,
            received=f.received,
            decided=f.decided,
            decided_in_time=f.decided_in_time,
            open_overdue=f.open_overdue,
            median_days=f.median_days,
        )
        for f in steps.department_figures(session, desk)
    ]


@router.get(
    "/disclosure-requests/{request_id}",
    response_model=DisclosureRequestOut,
    responses=errors(401, 404),
)
def read_request(
    request_id: Id, unit: UnitDep, desk: DeskDep, principal: SignedIn
) -> DisclosureRequestOut:
    """One application: the applicant's, the department's, or any (operators)."""
    try:
        return _out(steps.read_request(unit, desk, principal, request_id))
    except WorkflowError as exc:
        raise http_error(exc) from exc


@router.post(
    "/disclosure-requests/{request_id}/decision",
    response_model=DisclosureRequestOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_request(
    request_id: Id, body: DecisionIn, unit: UnitDep, desk: DeskDep, officer: Answerer
) -> DisclosureRequestOut:
    """Grant, grant in part or refuse (the department asked); anything short of a grant
    names its reason and provision. The applicant is notified."""
    try:
        item = steps.decide_request(
            unit,
            desk,
            officer,
            request_id,
            outcome=body.outcome,
            answer=body.answer,
            provision=body.provision,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(item)
