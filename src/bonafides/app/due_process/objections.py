"""Objections: a subject objects to a record of its file; the source department answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk, commit_step, log_staff_read
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import Principal
from bonafides.store.tables import Objection
from bonafides.workflows import objections
from bonafides.workflows.attachments import Upload
from bonafides.workflows.objections import ObjectionOutcome, ObjectionStatus


def open_objection(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    *,
    record_id: int,
    grounds: str,
    uploads: Sequence[Upload] = (),
) -> Objection:
    """The record is marked under objection at once; the department and the subject are told."""
    return commit_step(
        unit,
        desk,
        lambda session: objections.open_objection(
            session,
            desk.services,
            principal,
            record_id=record_id,
            grounds=grounds,
            uploads=list(uploads),
        ),
    )


def list_objections(
    session: Session,
    desk: Desk,
    principal: Principal,
    *,
    status: ObjectionStatus | None = None,
    overdue: bool = False,
    escalated: bool = False,
) -> list[Objection]:
    """Those the principal may see: its own, its department's, or all (operators)."""
    found = objections.visible_to(
        session,
        desk.services.catalogue,
        principal,
        status=status,
        overdue_on=desk.services.deadlines.today() if overdue else None,
    )
    return [o for o in found if o.escalated_at is not None] if escalated else found


def read_objection(
    unit: UnitOfWork, desk: Desk, principal: Principal, objection_id: int
) -> Objection:
    """One objection, if the principal may see it; staff's read is logged for the subject."""

    def read(session: Session) -> Objection:
        found = objections.get(session, desk.services.catalogue, principal, objection_id)
        log_staff_read(session, principal, found, f"objection {found.id}")
        return found

    return commit_step(unit, desk, read, mail=False)


def decide_objection(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    objection_id: int,
    *,
    outcome: ObjectionOutcome,
    reasons: str,
    corrected: dict[str, str | int | float | bool] | None = None,
) -> Objection:
    """The source department's answer; the subject is told."""
    return commit_step(
        unit,
        desk,
        lambda session: objections.decide(
            session,
            desk.services,
            principal,
            objection_id,
            outcome=outcome,
            reasons=reasons,
            corrected=corrected,
        ),
    )
