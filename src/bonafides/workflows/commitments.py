"""Credit commitments on application (信用承诺, 告知承诺制; plan §2, §59).

A subject applying for a licence signs the commitment its licence type's template gives
(``catalogue/data/commitments.yaml``): the exact text with its legal basis, digested and
signed by the audit event that records it, as a repair's commitment is. The licensing
department then records whether it was kept. A breach is a decision of that department
and becomes a record of ``general.commitment_breach`` with its decision number, so it is
published, objected to and repaired like any other (principle 1: the record exists only
as the competent department's decision, never inferred by the platform).

signed ──record kept──▶ kept
   └────record breach─▶ breached (+ a general.commitment_breach record)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Period, SubjectKind
from bonafides.catalogue.commitments import (
    BREACH_TYPE,
    CommitmentTemplate,
    commitment_templates,
)
from bonafides.records import RecordInput, SubjectRef
from bonafides.rules.records import write_records
from bonafides.security import audit
from bonafides.security.roles import Principal, Role, own_department
from bonafides.store.tables import Commitment, Subject
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    Services,
    require_department_of,
    require_subject,
    require_text,
)
from bonafides.workflows.notify import Note
from bonafides.workflows.objections import department_officers, subject_accounts


class Outcome(StrEnum):
    KEPT = "kept"
    BREACHED = "breached"


@dataclass(frozen=True)
class Breach:
    """The department's finding: its decision number and what was not kept."""

    decision_no: str
    facts: str


def template(services: Services, code: str) -> CommitmentTemplate:
    found = commitment_templates(services.catalogue).get(code)
    if found is None:
        raise InvalidError(f"no commitment template for licence type {code!r}")
    return found


def sign(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    licence_type: str,
    licence_ref: str,
    accept_digest: str,
) -> Commitment:
    """The bound subject signs its licence type's commitment for one application.

    ``accept_digest`` is the digest of the text the subject was shown: a template changed
    in between is refused rather than signed unseen.
    """
    key = require_subject(principal)
    assert principal.account_id is not None
    chosen = template(services, licence_type)
    if accept_digest != chosen.digest:
        raise ConflictError("the commitment's text has changed since it was shown; read it again")
    ref = require_text(licence_ref, "the application number", minimum=2, maximum=100)
    subject = session.scalar(select(Subject).where(Subject.key == key))
    if subject is None:
        raise InvalidError("the subject has no file on this platform yet; the register loads it")
    if subject.kind == SubjectKind.NATURAL_PERSON:
        raise ForbiddenError("licence commitments are signed by organisations")
    event = audit.append(
        session,
        actor=principal.actor,
        tag="commitment:commitment:signed",
        subject_id=subject.id,
        object_ref="credit commitment",
        detail={
            "digest": chosen.digest,
            "template": chosen.code,
            "department": chosen.department,
            "application": ref,
        },
    )
    today = services.deadlines.today()
    commitment = Commitment(
        subject_id=subject.id,
        account_id=principal.account_id,
        text=chosen.text,
        digest=chosen.digest,
        signed_at=event.at,
        audit_hash=event.hash,
        template=chosen.code,
        department=chosen.department,
        licence_ref=ref,
        due_on=Period(months=chosen.term_months).add_to(today),
    )
    session.add(commitment)
    session.flush()
    for account_id in department_officers(session, services.catalogue, chosen.department):
        services.notifier.notify(
            session,
            Note(
                account_id,
                "commitment:signed",
                f"Credit commitment {commitment.id} signed",
                f"{subject.name} signed the commitment for {chosen.licence_en} "
                f"(application {ref}); record by {commitment.due_on} whether it was kept.",
                f"credit commitment {commitment.id}",
            ),
        )
    return commitment


def get(
    session: Session, services: Services, principal: Principal, commitment_id: int
) -> Commitment:
    """Its subject, the licensing department (or one above it) and operators see it."""
    found = session.get(Commitment, commitment_id)
    if found is None or found.template is None:
        raise NotFoundError(f"no licence commitment {commitment_id}")
    if principal.role is Role.OPERATOR:
        return found
    if principal.role is Role.OFFICER and own_department(
        services.catalogue, principal.department, found.department or ""
    ):
        return found
    if principal.bound_subject is not None:
        subject = session.get(Subject, found.subject_id)
        if subject is not None and subject.key == principal.bound_subject:
            return found
    raise NotFoundError(f"no licence commitment {commitment_id}")


def visible_to(session: Session, services: Services, principal: Principal) -> list[Commitment]:
    query = select(Commitment).where(Commitment.template.is_not(None))
    if principal.role is Role.OFFICER:
        catalogue = services.catalogue
        handled = [
            d.code
            for d in catalogue.departments
            if own_department(catalogue, principal.department, d.code)
        ]
        query = query.where(Commitment.department.in_(handled))
    elif principal.role is not Role.OPERATOR:
        key = require_subject(principal)
        query = query.join(Subject, Subject.id == Commitment.subject_id).where(Subject.key == key)
    return list(session.scalars(query.order_by(Commitment.id.desc()).limit(200)))


def record_outcome(
    session: Session,
    services: Services,
    principal: Principal,
    commitment_id: int,
    *,
    outcome: Outcome,
    note: str,
    breach: Breach | None = None,
) -> Commitment:
    """The licensing department records whether the commitment was kept, once. A breach
    needs the department's decision number and the facts, and becomes a record."""
    found = get(session, services, principal, commitment_id)
    assert found.department is not None
    require_department_of(services.catalogue, principal, found.department)
    if found.outcome is not None:
        raise ConflictError(f"the commitment was already recorded as {found.outcome}")
    found.outcome_note = require_text(note, "the note", minimum=4, maximum=2000)
    found.outcome = outcome.value
    found.recorded_at = services.clock.now()
    found.recorded_by = principal.actor
    if outcome is Outcome.BREACHED:
        if breach is None:
            raise InvalidError("a breach needs the decision number and the facts found")
        found.record_id = _breach_record(session, services, principal, found, breach)
    audit.append(
        session,
        actor=principal.actor,
        tag=f"commitment:commitment:{outcome.value}",
        subject_id=found.subject_id,
        object_ref=f"credit commitment {found.id}",
        detail={"department": found.department, "record": found.record_id},
    )
    subject = session.get(Subject, found.subject_id)
    if subject is not None:
        for account_id in subject_accounts(session, subject.key):
            services.notifier.notify(
                session,
                Note(
                    account_id,
                    f"commitment:{outcome.value}",
                    f"Credit commitment {found.id}: {outcome.value}",
                    found.outcome_note,
                    f"credit commitment {found.id}",
                ),
            )
    return found


def _breach_record(
    session: Session,
    services: Services,
    principal: Principal,
    commitment: Commitment,
    breach: Breach,
) -> int:
    """The department's finding as a ``general.commitment_breach`` record: its decision,
    published for the type's period, open to objection and repair like any other."""
    number = require_text(breach.decision_no, "the decision number", minimum=4, maximum=100)
    facts = require_text(breach.facts, "the facts found")
    subject = session.get(Subject, commitment.subject_id)
    assert subject is not None
    assert commitment.department is not None
    rtype = services.catalogue.type(BREACH_TYPE)
    chosen = template(services, commitment.template or "")
    day: dt.date = services.deadlines.today()
    content = {
        "subject_name": subject.name,
        "uscc": subject.code_display,
        "decision_no": number,
        "commitment_no": str(commitment.id),
        "content": facts,
        "decision_date": day.isoformat(),
    }
    item = RecordInput(
        type_code=BREACH_TYPE,
        source=commitment.department,
        decision_no=number,
        decision_date=day,
        subject=SubjectRef(
            code=subject.code_display,
            kind=SubjectKind(subject.kind),
            name=subject.name,
            region=subject.region,
        ),
        content=content,
        raw=dict(content),
        legal_basis="；".join(chosen.legal_basis),
        published_until=rtype.publication_ends(day),
        retention_until=rtype.retention_ends(day),
    )
    result = write_records(session, services.keys, [item], actor=principal.actor)
    ((_outcome, record_id),) = result.outcomes
    return record_id
