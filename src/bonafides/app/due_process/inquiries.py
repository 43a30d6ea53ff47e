"""Special inquiries: a department applies to read restricted records of named subjects,
for a purpose and a period; an operator decides."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bonafides.app.due_process.desk import Desk, commit_step
from bonafides.app.unit import UnitOfWork
from bonafides.security.roles import Principal
from bonafides.store.tables import SpecialInquiry
from bonafides.workflows import inquiries
from bonafides.workflows.inquiries import InquiryRequest


def apply_inquiry(
    unit: UnitOfWork, desk: Desk, principal: Principal, request: InquiryRequest
) -> SpecialInquiry:
    return commit_step(
        unit,
        desk,
        lambda session: inquiries.apply(
            session,
            desk.ctx.keys,
            desk.services.deadlines,
            principal,
            request,
            max_days=desk.services.inquiry_max_days,
        ),
        mail=False,
    )


def list_inquiries(session: Session, principal: Principal) -> list[SpecialInquiry]:
    """One's own applications, or all of them (operators)."""
    return inquiries.visible_to(session, principal)


def decide_inquiry(
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    inquiry_id: int,
    *,
    approve: bool,
    note: str,
) -> SpecialInquiry:
    return commit_step(
        unit,
        desk,
        lambda session: inquiries.decide(
            session, desk.services.deadlines, principal, inquiry_id, approve=approve, note=note
        ),
        mail=False,
    )
