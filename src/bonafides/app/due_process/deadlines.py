"""What the daily jobs do: list the overdue, escalate them, mail what is queued."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk
from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import Principal
from bonafides.store.tables import Objection
from bonafides.workflows import complaints, disclosure_requests, notify, objections, repair

#: The workflows whose overdue items are escalated to the operators, by area name.
ESCALATED = {
    "objections": objections,
    "repairs": repair,
    "complaints": complaints,
    "disclosure": disclosure_requests,
}


def overdue_objections(session: Session, desk: Desk) -> list[Objection]:
    """Open objections past their deadline, oldest deadline first."""
    return objections.overdue(session, desk.services.deadlines)


def escalate(unit: UnitOfWork, desk: Desk, operator: Principal, area: str) -> int:
    """Escalate ``area``'s overdue items to the operators (safe to repeat); how many."""
    workflow = ESCALATED[area]
    services = desk.services
    done = run(
        unit,
        lambda session: workflow.escalate(
            session, services.deadlines, services.notifier, actor=operator.actor
        ),
    )
    return len(done)


def send_mail(unit: UnitOfWork, desk: Desk, mailer: notify.Mailer) -> notify.Delivery:
    """Mail the queued notifications, and retry the failed ones; each outcome is stored."""
    return run(unit, lambda session: notify.deliver(session, mailer, desk.services.clock))
