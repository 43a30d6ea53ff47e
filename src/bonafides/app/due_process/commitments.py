"""Credit commitments on application: a subject signs its licence type's commitment; the
licensing department records whether it was kept, and a breach becomes a record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk, commit_step
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue.commitments import CommitmentTemplate, commitment_templates
from bonafides.security.roles import Principal
from bonafides.store.tables import Commitment
from bonafides.workflows import commitments as workflow
from bonafides.workflows.commitments import Breach, Outcome


def templates(desk: Desk) -> list[CommitmentTemplate]:
    """Every licence type's commitment, with its text, legal basis and digest."""
    return list(commitment_templates(desk.services.catalogue).values())


def sign_commitment(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    *,
    licence_type: str,
    licence_ref: str,
    accept_digest: str,
) -> Commitment:
    """Signed by the bound subject; the licensing department's officers are told."""
    return commit_step(
        unit,
        desk,
        lambda session: workflow.sign(
            session,
            desk.services,
            principal,
            licence_type=licence_type,
            licence_ref=licence_ref,
            accept_digest=accept_digest,
        ),
    )


def list_commitments(session: Session, desk: Desk, principal: Principal) -> list[Commitment]:
    """One's own licence commitments, the department's, or all (operators)."""
    return workflow.visible_to(session, desk.services, principal)


def record_outcome(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    commitment_id: int,
    *,
    outcome: Outcome,
    note: str,
    breach: Breach | None = None,
) -> Commitment:
    """Kept or breached, once; a breach is written as a record in the same commit, and
    the subject is notified (mailed after the commit)."""
    return commit_step(
        unit,
        desk,
        lambda session: workflow.record_outcome(
            session,
            desk.services,
            principal,
            commitment_id,
            outcome=outcome,
            note=note,
            breach=breach,
        ),
    )
