"""Special inquiries: reading restricted records needs an approved application.

An authority states its purpose and legal basis and names the subjects and the period;
an operator approves or refuses. Approved, it lets that account read those subjects'
restricted records for those days, each read logged with the inquiry's number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.roles import DEPARTMENT_ROLES, Principal, Role, Scope
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import SpecialInquiry, Subject
from bonafides.workflows.common import (
    ConflictError,
    Deadlines,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    require_text,
)

MAX_SUBJECTS = 50


class InquiryStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


def next_status(current: InquiryStatus, approve: bool) -> InquiryStatus:
    """Only a pending application is decided, once."""
    if current is not InquiryStatus.PENDING:
        raise ConflictError(f"the application is already {current.value}")
    return InquiryStatus.APPROVED if approve else InquiryStatus.REFUSED


@dataclass(frozen=True)
class InquiryRequest:
    purpose: str
    legal_basis: str
    codes: Sequence[str]
    valid_from: dt.date
    valid_until: dt.date


def apply(
    session: Session,
    keys: SubjectKeys,
    deadlines: Deadlines,
    principal: Principal,
    request: InquiryRequest,
    *,
    max_days: int,
) -> SpecialInquiry:
    if principal.role not in DEPARTMENT_ROLES or not principal.has(Scope.INQUIRIES_APPLY):
        raise ForbiddenError("only a department's officer or inquirer applies")
    assert principal.account_id is not None
    assert principal.department is not None
    purpose = require_text(request.purpose, "the purpose", maximum=300)
    basis = require_text(request.legal_basis, "the legal basis", minimum=4, maximum=300)
    codes = list(dict.fromkeys(c.strip() for c in request.codes if c.strip()))
    if not codes or len(codes) > MAX_SUBJECTS:
        raise InvalidError(f"name between 1 and {MAX_SUBJECTS} subjects")
    if request.valid_until < request.valid_from:
        raise InvalidError("the period ends before it starts")
    if request.valid_from < deadlines.today():
        raise InvalidError("the period cannot start in the past")
    if (request.valid_until - request.valid_from).days + 1 > max_days:
        raise InvalidError(f"a special inquiry runs for at most {max_days} days")
    ids: list[int] = []
    for code in codes:
        sid = session.scalar(select(Subject.id).where(Subject.key == keys.key_for_code(code)))
        if sid is None:
            raise InvalidError("a named subject has no file on this platform")
        ids.append(sid)
    inquiry = SpecialInquiry(
        account_id=principal.account_id,
        department=principal.department,
        purpose=purpose,
        legal_basis=basis,
        subject_ids=sorted(set(ids)),
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        status=InquiryStatus.PENDING.value,
        created_at=deadlines.clock.now(),
    )
    session.add(inquiry)
    session.flush()
    audit.append(
        session,
        actor=principal.actor,
        tag="inquiry:application:submitted",
        object_ref=f"special inquiry {inquiry.id}",
        purpose=purpose,
        detail={"department": principal.department, "subjects": len(ids)},
    )
    return inquiry


def decide(
    session: Session,
    deadlines: Deadlines,
    principal: Principal,
    inquiry_id: int,
    *,
    approve: bool,
    note: str,
) -> SpecialInquiry:
    if principal.role is not Role.OPERATOR:
        raise ForbiddenError("only an operator decides special inquiries")
    inquiry = session.get(SpecialInquiry, inquiry_id)
    if inquiry is None:
        raise NotFoundError(f"no special inquiry {inquiry_id}")
    status = next_status(InquiryStatus(inquiry.status), approve)
    note = require_text(note, "the decision note", minimum=2 if approve else 10, maximum=300)
    inquiry.status = status.value
    inquiry.decided_at = deadlines.clock.now()
    inquiry.decided_by = principal.actor
    inquiry.decision_note = note
    audit.append(
        session,
        actor=principal.actor,
        tag=f"inquiry:application:{status.value}",
        object_ref=f"special inquiry {inquiry.id}",
        purpose=inquiry.purpose,
        detail={"note": note},
    )
    return inquiry


def usable(inquiry: SpecialInquiry, principal: Principal, subject_id: int, day: dt.date) -> bool:
    """Approved, the applicant's own, naming the subject, and inside its period."""
    return (
        inquiry.status == InquiryStatus.APPROVED
        and inquiry.account_id == principal.account_id
        and subject_id in inquiry.subject_ids
        and inquiry.valid_from <= day <= inquiry.valid_until
    )


def visible_to(session: Session, principal: Principal) -> list[SpecialInquiry]:
    query = select(SpecialInquiry).order_by(SpecialInquiry.id.desc())
    if principal.role is not Role.OPERATOR:
        if principal.account_id is None:
            return []
        query = query.where(SpecialInquiry.account_id == principal.account_id)
    return list(session.scalars(query.limit(500)))
