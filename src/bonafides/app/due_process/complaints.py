"""Complaints and reports of violations, routed to the competent department, which alone
learns who filed them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk, commit_step, log_staff_read
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import Principal
from bonafides.store.tables import Attachment, Complaint
from bonafides.workflows import attachments, complaints
from bonafides.workflows.attachments import Upload
from bonafides.workflows.complaints import ComplaintRequest, Informant

#: The rate-limit bucket of filings, per API key or address: the page and the API share it.
BUCKET = "complaints"


@dataclass(frozen=True)
class Seen:
    """A complaint as the principal may see it: the informant only for the competent department."""

    complaint: Complaint
    informant: Informant | None


@dataclass(frozen=True)
class Opened:
    """One complaint opened: its files, and whether the principal answers it (an officer
    of the competent department)."""

    complaint: Complaint
    informant: Informant | None
    files: list[Attachment]
    handles: bool


def file_complaint(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    request: ComplaintRequest,
    uploads: Sequence[Upload] = (),
) -> Complaint:
    """Signed in or not; the department it is routed to is told. A report never creates a
    record."""
    return commit_step(
        unit,
        desk,
        lambda session: complaints.file(
            session, desk.services, principal, request, uploads=uploads
        ),
    )


def list_complaints(unit: UnitOfWork, desk: Desk, principal: Principal) -> list[Seen]:
    """The department's complaints, one's own, or all (operators); each one staff lists
    is a logged read."""

    def read(session: Session) -> list[Seen]:
        found = complaints.visible_to(session, desk.services, principal)
        for complaint in found:
            log_staff_read(session, principal, complaint, "list")
        return [Seen(c, complaints.informant(desk.services, principal, c)) for c in found]

    return commit_step(unit, desk, read, mail=False)


def read_complaint(unit: UnitOfWork, desk: Desk, principal: Principal, complaint_id: int) -> Opened:
    """One complaint with its files; staff's read is logged, naming the complaint only."""

    def read(session: Session) -> Opened:
        complaint = complaints.get(session, desk.services, principal, complaint_id)
        who = complaints.informant(desk.services, principal, complaint)
        what = "complaint with informant" if who else "complaint"
        log_staff_read(session, principal, complaint, what)
        return Opened(
            complaint,
            who,
            attachments.of(session, complaints.KIND, complaint.id),
            complaints.handles(desk.services, principal, complaint),
        )

    return commit_step(unit, desk, read, mail=False)


def answer_complaint(
    unit: UnitOfWork, desk: Desk, principal: Principal, complaint_id: int, answer: str
) -> Complaint:
    """The competent department's answer; an informant with an account is told."""
    return commit_step(
        unit,
        desk,
        lambda session: complaints.answer(session, desk.services, principal, complaint_id, answer),
    )
