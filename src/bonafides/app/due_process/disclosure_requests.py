"""Disclosure on application (依申请公开): a company or person asks a department for
information the platform holds; the department grants, partly grants or refuses within
20 working days, and the applicant is told (mailed after the commit)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk, commit_step
from bonafides.app.unit import UnitOfWork
from bonafides.security import audit
from bonafides.security.roles import Principal
from bonafides.store.tables import DisclosureRequest
from bonafides.workflows import disclosure_requests as workflow
from bonafides.workflows.disclosure_requests import DisclosureAsk, Outcome


def _log_staff_read(session: Session, principal: Principal, item: DisclosureRequest) -> None:
    """An application names its applicant: anyone but the applicant reading it leaves an
    audit event (principle 6), naming the application only."""
    if principal.account_id is not None and principal.account_id == item.account_id:
        return
    audit.append(
        session,
        actor=principal.actor,
        tag="disclosure:request:read",
        object_ref=workflow.ref(item),
        detail={"department": item.department},
    )


def submit_request(
    unit: UnitOfWork, desk: Desk, principal: Principal, ask: DisclosureAsk
) -> DisclosureRequest:
    """File it; the department's officers are told."""
    return commit_step(
        unit, desk, lambda session: workflow.submit(session, desk.services, principal, ask)
    )


def list_requests(unit: UnitOfWork, desk: Desk, principal: Principal) -> list[DisclosureRequest]:
    """One's own applications, the department's, or all (operators); staff reads logged."""

    def read(session: Session) -> list[DisclosureRequest]:
        found = workflow.visible_to(session, desk.services, principal)
        for item in found:
            _log_staff_read(session, principal, item)
        return found

    return commit_step(unit, desk, read, mail=False)


def read_request(
    unit: UnitOfWork, desk: Desk, principal: Principal, request_id: int
) -> DisclosureRequest:
    def read(session: Session) -> DisclosureRequest:
        item = workflow.get(session, desk.services, principal, request_id)
        _log_staff_read(session, principal, item)
        return item

    return commit_step(unit, desk, read, mail=False)


def decide_request(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    request_id: int,
    *,
    outcome: Outcome,
    answer: str,
    provision: str | None = None,
) -> DisclosureRequest:
    """The department's decision; the applicant is notified and mailed after the commit."""
    return commit_step(
        unit,
        desk,
        lambda session: workflow.decide(
            session,
            desk.services,
            principal,
            request_id,
            outcome=outcome,
            answer=answer,
            provision=provision,
        ),
    )


def department_figures(session: Session, desk: Desk) -> list[workflow.DepartmentFigures]:
    """Per department: received, decided, decided in time, overdue, median working days."""
    deadlines = desk.services.deadlines
    return workflow.figures(session, deadlines.calendar, deadlines.zone, deadlines.today())
