"""Credit repair: a subject that has met its obligations applies with evidence and a
signed commitment; the source department decides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk, commit_step, log_staff_read
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import Principal
from bonafides.store.tables import Record, RepairApplication
from bonafides.workflows import repair
from bonafides.workflows.attachments import Upload
from bonafides.workflows.repair import Eligibility


def eligibility(session: Session, desk: Desk, principal: Principal, record_id: int) -> Eligibility:
    """Whether a record of the principal's own file can be repaired now, or from when."""
    return repair.check(session, desk.services, principal, record_id)


def record_eligibility(desk: Desk, record: Record) -> Eligibility:
    return repair.record_eligibility(desk.services, record)


def apply_repair(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    *,
    record_id: int,
    evidence: str,
    commitment: str,
    uploads: Sequence[Upload] = (),
) -> RepairApplication:
    """Refused (``TooEarlyError``, naming the first possible day) before the minimum
    publication period is served."""
    return commit_step(
        unit,
        desk,
        lambda session: repair.apply(
            session,
            desk.services,
            principal,
            record_id=record_id,
            evidence=evidence,
            commitment=commitment,
            uploads=uploads,
        ),
    )


def list_repairs(session: Session, desk: Desk, principal: Principal) -> list[RepairApplication]:
    return repair.visible_to(session, desk.services, principal)


def read_repair(
    unit: UnitOfWork, desk: Desk, principal: Principal, application_id: int
) -> RepairApplication:
    """One application, if the principal may see it; staff's read is logged for the subject."""

    def read(session: Session) -> RepairApplication:
        found = repair.get(session, desk.services, principal, application_id)
        log_staff_read(session, principal, found, f"repair application {found.id}")
        return found

    return commit_step(unit, desk, read, mail=False)


def decide_repair(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    application_id: int,
    *,
    approve: bool,
    reasons: str,
) -> RepairApplication:
    """Approval ends publication and the list entries; the subject is told either way."""
    return commit_step(
        unit,
        desk,
        lambda session: repair.decide(
            session, desk.services, principal, application_id, approve=approve, reasons=reasons
        ),
    )
