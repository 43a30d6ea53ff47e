"""Objections: a subject disputes a record; the source department answers by a deadline.

open ──decide(corrected | revoked | upheld)──▶ decided
  └─ past due_on: escalated to the operator (still open, flagged, operators notified)

Opening marks the record ``under_objection`` (a new version; it stays published and is
shown as disputed). The outcome writes the record's next version: corrected content, a
revocation, or its prior status back when the objection is not upheld.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.records import RecordStatus
from bonafides.security import audit
from bonafides.security.roles import Principal, Role, own_department
from bonafides.store.tables import Account, Objection, Record, Subject
from bonafides.workflows import attachments, escalation
from bonafides.workflows.common import (
    ConflictError,
    Deadlines,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    Services,
    may_see_case,
    require_department_of,
    require_subject,
    require_text,
)
from bonafides.workflows.escalation import Kind
from bonafides.workflows.notify import Note, Notifier
from bonafides.workflows.records import correct, set_status

KIND = "objection"
#: A record can be disputed while it counts; a revoked, repaired or expired one cannot.
OBJECTABLE = frozenset({RecordStatus.ACTIVE, RecordStatus.CORRECTED})


class ObjectionStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class ObjectionOutcome(StrEnum):
    CORRECTED = "corrected"
    REVOKED = "revoked"
    UPHELD = "upheld"  # the record stands: the objection is not upheld, with reasons


def next_status(current: ObjectionStatus) -> ObjectionStatus:
    if current is not ObjectionStatus.OPEN:
        raise ConflictError("the objection has already been decided")
    return ObjectionStatus.DECIDED


def record_status_after(outcome: ObjectionOutcome, prior: RecordStatus) -> RecordStatus:
    """The record's status once the objection is decided."""
    if outcome is ObjectionOutcome.CORRECTED:
        return RecordStatus.CORRECTED
    if outcome is ObjectionOutcome.REVOKED:
        return RecordStatus.REVOKED
    return prior


def department_officers(session: Session, catalogue: Catalogue, source: str) -> list[int]:
    """Active officers of the deciding department or of a department above it."""
    rows = session.execute(
        select(Account.id, Account.department).where(
            Account.role == Role.OFFICER.value, Account.active.is_(True)
        )
    ).all()
    return [aid for aid, dept in rows if own_department(catalogue, dept, source)]


def subject_accounts(session: Session, subject_key: str) -> list[int]:
    return list(
        session.scalars(
            select(Account.id).where(
                Account.subject_key == subject_key,
                Account.bound_at.is_not(None),
                Account.active.is_(True),
            )
        )
    )


def open_objection(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    record_id: int,
    grounds: str,
    uploads: Sequence[attachments.Upload] = (),
) -> Objection:
    key = require_subject(principal)
    assert principal.account_id is not None
    grounds = require_text(grounds, "the grounds")
    record = session.get(Record, record_id)
    subject = session.get(Subject, record.subject_id) if record else None
    if record is None or subject is None or subject.key != key:
        raise NotFoundError(f"no record {record_id} in your file")
    status = RecordStatus(record.status)
    if status not in OBJECTABLE:
        raise ConflictError(f"a {status.value} record cannot be objected to")
    checked = attachments.check(list(uploads), max_bytes=services.attachment_max_bytes)
    deadlines = services.deadlines
    objection = Objection(
        subject_id=subject.id,
        record_id=record.id,
        account_id=principal.account_id,
        source=record.source,
        grounds=grounds,
        prior_status=status.value,
        status=ObjectionStatus.OPEN.value,
        opened_at=deadlines.clock.now(),
        due_on=deadlines.due(services.objection_days),
    )
    session.add(objection)
    session.flush()
    attachments.store(
        session,
        deadlines.clock,
        services.data_dir,
        owner_kind=KIND,
        owner_id=objection.id,
        checked=checked,
        actor=principal.actor,
    )
    set_status(
        session,
        record,
        RecordStatus.UNDER_OBJECTION,
        actor=principal.actor,
        reason=f"objection {objection.id} opened",
        at=deadlines.clock.now(),
    )
    audit.append(
        session,
        actor=principal.actor,
        tag="objection:record:opened",
        subject_id=subject.id,
        object_ref=f"objection {objection.id}",
        detail={
            "record": record.id,
            "source": record.source,
            "due_on": objection.due_on.isoformat(),
            "attachments": len(checked),
        },
    )
    for account_id in department_officers(session, services.catalogue, record.source):
        services.notifier.notify(
            session,
            Note(
                account_id,
                "objection:opened",
                f"Objection {objection.id} to decision {record.decision_no}",
                f"A subject objects to decision {record.decision_no}. "
                f"Answer by {objection.due_on.isoformat()}.",
                f"objection {objection.id}",
            ),
        )
    services.notifier.notify(
        session,
        Note(
            principal.account_id,
            "objection:received",
            f"Your objection {objection.id} was received",
            f"The record is marked as under objection. {record.source} answers by "
            f"{objection.due_on.isoformat()}.",
            f"objection {objection.id}",
        ),
    )
    return objection


def decide(
    session: Session,
    services: Services,
    principal: Principal,
    objection_id: int,
    *,
    outcome: ObjectionOutcome,
    reasons: str,
    corrected: Mapping[str, Any] | None = None,
) -> Objection:
    objection = get(session, services.catalogue, principal, objection_id)
    require_department_of(services.catalogue, principal, objection.source)
    next_status(ObjectionStatus(objection.status))
    reasons = require_text(reasons, "the reasons")
    if outcome is ObjectionOutcome.CORRECTED and not corrected:
        raise InvalidError("a correction gives the corrected field values")
    if outcome is not ObjectionOutcome.CORRECTED and corrected:
        raise InvalidError("corrected values go with the outcome 'corrected' only")
    record = session.get(Record, objection.record_id)
    assert record is not None
    why = f"objection {objection.id}: {outcome.value}"
    if outcome is ObjectionOutcome.CORRECTED:
        assert corrected is not None
        correct(
            session,
            services.catalogue,
            services.keys,
            record,
            corrected,
            actor=principal.actor,
            reason=why,
        )
    else:
        after = record_status_after(outcome, RecordStatus(objection.prior_status))
        set_status(
            session,
            record,
            after,
            actor=principal.actor,
            reason=why,
            at=services.deadlines.clock.now(),
        )
    objection.status = ObjectionStatus.DECIDED.value
    objection.outcome = outcome.value
    objection.reasons = reasons
    objection.decided_at = services.deadlines.clock.now()
    objection.decided_by = principal.actor
    audit.append(
        session,
        actor=principal.actor,
        tag="objection:objection:decided",
        subject_id=objection.subject_id,
        object_ref=f"objection {objection.id}",
        detail={
            "outcome": outcome.value,
            "record": record.id,
            "due_on": objection.due_on.isoformat(),
            "in_time": not services.deadlines.overdue(objection.due_on),
        },
    )
    services.notifier.notify(
        session,
        Note(
            objection.account_id,
            "objection:decided",
            f"Your objection {objection.id} was decided: {outcome.value}",
            f"{record.source} decided your objection to {record.decision_no}: "
            f"{outcome.value}.\n\nReasons: {reasons}",
            f"objection {objection.id}",
        ),
    )
    return objection


def get(
    session: Session, catalogue: Catalogue, principal: Principal, objection_id: int
) -> Objection:
    """The objection if the principal may see it (its subject, the department, an operator)."""
    objection = session.get(Objection, objection_id)
    if objection is None or not may_see_case(
        session, catalogue, principal, source=objection.source, subject_id=objection.subject_id
    ):
        raise NotFoundError(f"no objection {objection_id}")
    return objection


def visible_to(
    session: Session,
    catalogue: Catalogue,
    principal: Principal,
    *,
    status: ObjectionStatus | None = None,
    overdue_on: Any = None,
    limit: int = 200,
) -> list[Objection]:
    """Objections the principal may see, newest first; ``overdue_on`` (a date) keeps only
    open ones due before it."""
    query = select(Objection)
    if principal.role is Role.OFFICER:
        sources = [
            d.code
            for d in catalogue.departments
            if own_department(catalogue, principal.department, d.code)
        ]
        query = query.where(Objection.source.in_(sources))
    elif principal.role is Role.SUBJECT:
        if principal.bound_subject is None:
            return []
        query = query.join(Subject, Subject.id == Objection.subject_id).where(
            Subject.key == principal.bound_subject
        )
    elif principal.role is not Role.OPERATOR:
        raise ForbiddenError("sign in to see objections")
    if status is not None:
        query = query.where(Objection.status == status.value)
    if overdue_on is not None:
        query = query.where(
            Objection.status == ObjectionStatus.OPEN.value, Objection.due_on < overdue_on
        )
    return list(session.scalars(query.order_by(Objection.id.desc()).limit(limit)))


ESCALATION: Kind[Objection] = Kind(
    area="objection",
    noun="objection",
    ref=lambda o: f"objection {o.id}",
    department=lambda o: o.source,
    subject_id=lambda o: o.subject_id,
    model=Objection,
    open_status=ObjectionStatus.OPEN.value,
    department_key="source",
)


def overdue(session: Session, deadlines: Deadlines) -> list[Objection]:
    return escalation.overdue(session, ESCALATION, deadlines.today())


def escalate(
    session: Session, deadlines: Deadlines, notifier: Notifier, *, actor: str
) -> list[Objection]:
    """Flag overdue objections not yet escalated and tell every operator; idempotent."""
    return escalation.escalate(session, ESCALATION, deadlines, notifier, actor=actor)
