"""Attachments of objections, repair applications and complaints, always as downloads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Case, Desk, commit_step, log_staff_read
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import Principal
from bonafides.store.tables import Attachment
from bonafides.workflows import attachments, complaints, objections, repair
from bonafides.workflows.common import NotFoundError


@dataclass(frozen=True)
class Download:
    row: Attachment
    data: bytes


def read_attachment(
    unit: UnitOfWork, desk: Desk, principal: Principal, attachment_id: int
) -> Download:
    """An attachment, to those who may see what it is attached to; its read is logged as
    a read of that case.

    One answer for an unknown id and for a file whose case the principal may not see: the
    error names the attachment only, never the case it belongs to.
    """

    def read(session: Session) -> Download:
        missing = NotFoundError("no such attachment")
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise missing
        owner: Case
        try:
            if row.owner_kind == objections.KIND:
                owner = objections.get(session, desk.services.catalogue, principal, row.owner_id)
            elif row.owner_kind == repair.KIND:
                owner = repair.get(session, desk.services, principal, row.owner_id)
            elif row.owner_kind == complaints.KIND:
                owner = complaints.get(session, desk.services, principal, row.owner_id)
            else:
                raise missing
        except NotFoundError:
            raise missing from None
        data = attachments.read(desk.services.data_dir, row)
        log_staff_read(session, principal, owner, f"attachment {row.id}")
        return Download(row, data)

    return commit_step(unit, desk, read, mail=False)
