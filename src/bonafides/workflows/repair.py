"""Credit repair: a subject that has put things right asks for publication to end early.

Eligibility comes from the record type (repairable; a minimum period served, from
``min_months_before_repair`` or else the publication rule's ``min_months``). The subject
applies with evidence that it fulfilled its obligations and a signed credit commitment;
the source department decides within a few working days. Approved, the record becomes
``repaired``: it is no longer published, and the list entries and measures it supported
end the same day (``change_status`` refreshes them in the same transaction).

submitted ──approve──▶ repaired
    ├──────refuse───▶ refused (with reasons; the subject may apply again)
    └─ past due_on: escalated to the operator (still submitted, flagged, operators notified)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Period, RecordType, Severity
from bonafides.records import RecordStatus
from bonafides.security import audit
from bonafides.security.roles import Principal, Role, own_department
from bonafides.store.tables import Commitment, Record, RepairApplication, Subject
from bonafides.workflows import attachments, escalation
from bonafides.workflows.common import (
    ConflictError,
    Deadlines,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    Services,
    TooEarlyError,
    may_see_case,
    require_department_of,
    require_subject,
    require_text,
)
from bonafides.workflows.notify import Note, Notifier
from bonafides.workflows.objections import department_officers
from bonafides.workflows.records import set_status

KIND = "repair"
#: A disputed record is repaired after its objection is decided, not during it.
REPAIRABLE_STATUSES = frozenset({RecordStatus.ACTIVE, RecordStatus.CORRECTED})


class RepairStatus(StrEnum):
    SUBMITTED = "submitted"
    REPAIRED = "repaired"
    REFUSED = "refused"


def next_status(current: RepairStatus, approve: bool) -> RepairStatus:
    if current is not RepairStatus.SUBMITTED:
        raise ConflictError(f"the application is already {current.value}")
    return RepairStatus.REPAIRED if approve else RepairStatus.REFUSED


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reason: str | None
    possible_from: dt.date | None


def minimum_months(rtype: RecordType, severity: str | None) -> int:
    """Months a record must stay published before repair: the type's own minimum, else the
    publication rule's (per severity where the type has one)."""
    if rtype.min_months_before_repair is not None:
        return rtype.min_months_before_repair
    try:
        rule = rtype.publication.rule(Severity(severity) if severity else None)
    except ValueError:
        return rtype.publication.max_months
    return rule.min_months


def eligibility(
    rtype: RecordType,
    *,
    decision_date: dt.date,
    severity: str | None,
    status: str,
    published_until: dt.date | None,
    today: dt.date,
) -> Eligibility:
    """Whether a record may be repaired today; if not yet, from which day."""
    if not rtype.repairable:
        return Eligibility(False, f"records of type {rtype.code} cannot be repaired", None)
    if RecordStatus(status) not in REPAIRABLE_STATUSES:
        return Eligibility(False, f"a {status} record cannot be repaired", None)
    if published_until is None or published_until < today:
        return Eligibility(False, "the record is not published: there is nothing to end", None)
    possible_from = Period(months=minimum_months(rtype, severity)).add_to(decision_date)
    if today < possible_from:
        return Eligibility(
            False,
            f"the minimum publication period is served on {possible_from.isoformat()}",
            possible_from,
        )
    return Eligibility(True, None, possible_from)


def record_eligibility(services: Services, record: Record) -> Eligibility:
    return eligibility(
        services.catalogue.type(record.type_code),
        decision_date=record.decision_date,
        severity=record.severity,
        status=record.status,
        published_until=record.published_until,
        today=services.deadlines.today(),
    )


def _own_record(session: Session, principal: Principal, record_id: int) -> Record:
    key = require_subject(principal)
    record = session.get(Record, record_id)
    subject = session.get(Subject, record.subject_id) if record else None
    if record is None or subject is None or subject.key != key:
        raise NotFoundError(f"no record {record_id} in your file")
    return record


def check(
    session: Session, services: Services, principal: Principal, record_id: int
) -> Eligibility:
    return record_eligibility(services, _own_record(session, principal, record_id))


def sign_commitment(
    session: Session, services: Services, principal: Principal, subject_id: int, text: str
) -> Commitment:
    """Record a credit commitment as signed by the signed-in subject.

    The signature is the audit event that records the signing: its hash covers the
    commitment's digest, the account and the time, and the chain makes it unforgeable
    after the fact.
    """
    assert principal.account_id is not None
    text = require_text(text, "the credit commitment", minimum=20, maximum=5000)
    digest = hashlib.sha256(text.encode()).hexdigest()
    event = audit.append(
        session,
        actor=principal.actor,
        tag="commitment:commitment:signed",
        subject_id=subject_id,
        object_ref="credit commitment",
        detail={"digest": digest},
    )
    commitment = Commitment(
        subject_id=subject_id,
        account_id=principal.account_id,
        text=text,
        digest=digest,
        signed_at=event.at,
        audit_hash=event.hash,
    )
    session.add(commitment)
    session.flush()
    return commitment


def apply(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    record_id: int,
    evidence: str,
    commitment: str,
    uploads: Sequence[attachments.Upload],
) -> RepairApplication:
    record = _own_record(session, principal, record_id)
    assert principal.account_id is not None
    verdict = record_eligibility(services, record)
    if not verdict.eligible:
        if verdict.possible_from is not None:
            raise TooEarlyError(
                f"repair is possible from {verdict.possible_from.isoformat()}",
                verdict.possible_from,
            )
        raise ConflictError(verdict.reason or "the record cannot be repaired")
    pending = session.scalar(
        select(RepairApplication.id).where(
            RepairApplication.record_id == record.id,
            RepairApplication.status == RepairStatus.SUBMITTED.value,
        )
    )
    if pending is not None:
        raise ConflictError(f"application {pending} for this record is still being decided")
    evidence = require_text(evidence, "the evidence of fulfilled obligations")
    if not uploads:
        raise InvalidError("attach the evidence that the obligations are fulfilled")
    checked = attachments.check(list(uploads), max_bytes=services.attachment_max_bytes)
    signed = sign_commitment(session, services, principal, record.subject_id, commitment)
    application = RepairApplication(
        subject_id=record.subject_id,
        record_id=record.id,
        account_id=principal.account_id,
        source=record.source,
        commitment_id=signed.id,
        evidence=evidence,
        status=RepairStatus.SUBMITTED.value,
        submitted_at=services.deadlines.clock.now(),
        due_on=services.deadlines.due(services.repair_days),
    )
    session.add(application)
    session.flush()
    attachments.store(
        session,
        services.deadlines.clock,
        services.data_dir,
        owner_kind=KIND,
        owner_id=application.id,
        checked=checked,
        actor=principal.actor,
    )
    audit.append(
        session,
        actor=principal.actor,
        tag="repair:application:submitted",
        subject_id=record.subject_id,
        object_ref=f"repair application {application.id}",
        detail={"record": record.id, "due_on": application.due_on.isoformat()},
    )
    for account_id in department_officers(session, services.catalogue, record.source):
        services.notifier.notify(
            session,
            Note(
                account_id,
                "repair:submitted",
                f"Credit repair application {application.id}",
                f"A subject applies to repair decision {record.decision_no}. "
                f"Decide by {application.due_on.isoformat()}.",
                f"repair application {application.id}",
            ),
        )
    return application


def decide(
    session: Session,
    services: Services,
    principal: Principal,
    application_id: int,
    *,
    approve: bool,
    reasons: str,
) -> RepairApplication:
    application = get(session, services, principal, application_id)
    require_department_of(services.catalogue, principal, application.source)
    status = next_status(RepairStatus(application.status), approve)
    reasons = require_text(reasons, "the reasons", minimum=2 if approve else 10)
    record = session.get(Record, application.record_id)
    assert record is not None
    if approve:
        verdict = record_eligibility(services, record)
        if not verdict.eligible:
            raise ConflictError(verdict.reason or "the record can no longer be repaired")
        set_status(
            session,
            record,
            RecordStatus.REPAIRED,
            actor=principal.actor,
            reason=f"credit repair application {application.id}",
            at=services.deadlines.clock.now(),
        )
    application.status = status.value
    application.decided_at = services.deadlines.clock.now()
    application.decided_by = principal.actor
    application.reasons = reasons
    audit.append(
        session,
        actor=principal.actor,
        tag=f"repair:application:{status.value}",
        subject_id=application.subject_id,
        object_ref=f"repair application {application.id}",
        detail={
            "record": record.id,
            "in_time": not services.deadlines.overdue(application.due_on),
        },
    )
    services.notifier.notify(
        session,
        Note(
            application.account_id,
            f"repair:{status.value}",
            f"Your credit repair application {application.id}: {status.value}",
            f"{record.source} decided your application for decision {record.decision_no}: "
            f"{status.value}.\n\nReasons: {reasons}",
            f"repair application {application.id}",
        ),
    )
    return application


def get(
    session: Session, services: Services, principal: Principal, application_id: int
) -> RepairApplication:
    application = session.get(RepairApplication, application_id)
    if application is None or not may_see_case(
        session,
        services.catalogue,
        principal,
        source=application.source,
        subject_id=application.subject_id,
    ):
        raise NotFoundError(f"no repair application {application_id}")
    return application


def visible_to(
    session: Session, services: Services, principal: Principal, *, limit: int = 200
) -> list[RepairApplication]:
    query = select(RepairApplication)
    if principal.role is Role.OFFICER:
        catalogue = services.catalogue
        sources = [
            d.code
            for d in catalogue.departments
            if own_department(catalogue, principal.department, d.code)
        ]
        query = query.where(RepairApplication.source.in_(sources))
    elif principal.role is Role.SUBJECT:
        if principal.bound_subject is None:
            return []
        query = query.join(Subject, Subject.id == RepairApplication.subject_id).where(
            Subject.key == principal.bound_subject
        )
    elif principal.role is not Role.OPERATOR:
        raise ForbiddenError("sign in to see repair applications")
    return list(session.scalars(query.order_by(RepairApplication.id.desc()).limit(limit)))


ESCALATION: escalation.Kind[RepairApplication] = escalation.Kind(
    area="repair",
    noun="application",
    ref=lambda a: f"repair application {a.id}",
    department=lambda a: a.source,
    subject_id=lambda a: a.subject_id,
    model=RepairApplication,
    open_status=RepairStatus.SUBMITTED.value,
)


def escalate(
    session: Session, deadlines: Deadlines, notifier: Notifier, *, actor: str
) -> list[RepairApplication]:
    """Flag overdue applications not yet escalated and tell every operator; idempotent."""
    return escalation.escalate(session, ESCALATION, deadlines, notifier, actor=actor)
