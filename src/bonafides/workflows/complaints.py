"""Complaints and reports of violations, routed to the competent department.

A report is information for a department to look into: it never creates, changes or
publishes a record (principle 1: only a competent authority's decision makes one). The
informant's name and contact are sealed and opened only for the department it was
routed to; the audit chain names the filing as ``informant``, not by account, and links
it to no subject, so neither the subject's access log nor an operator learns who it was.

open ──answer──▶ answered
  └─ past due_on: escalated to the operator (still open, flagged, operators notified; the
     escalation names neither the informant nor the subject)
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import ANY_DEPARTMENT
from bonafides.codes import CodeError, parse_subject_code
from bonafides.security import audit
from bonafides.security.roles import Principal, Role, own_department
from bonafides.store.tables import Account, Complaint, Record, Subject
from bonafides.workflows import attachments, escalation
from bonafides.workflows.common import (
    ConflictError,
    Deadlines,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    Services,
    require_text,
)
from bonafides.workflows.notify import Note, Notifier
from bonafides.workflows.objections import department_officers

INFORMANT = "informant"
#: The owner kind of a complaint's attachments.
KIND = "complaint"


class ComplaintKind(StrEnum):
    COMPLAINT = "complaint"  # about how a record or a department treated the complainant
    REPORT = "report"  # a report of a violation by a subject (举报)


class ComplaintStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


@dataclass(frozen=True)
class ComplaintRequest:
    kind: ComplaintKind
    text: str
    about: str
    #: USCC, resident ID, or a person's ref (``p:`` and the keyed hash of the number).
    code: str | None = None
    type_code: str | None = None
    department: str | None = None
    informant_name: str | None = None
    informant_contact: str | None = None


@dataclass(frozen=True)
class Informant:
    account: str | None
    name: str | None
    contact: str | None


def route(
    services: Services,
    *,
    type_code: str | None,
    department: str | None,
    decided_by: Collection[str] = (),
    region: str | None = None,
) -> str:
    """The competent department: the one that decided the subject's records of the type,
    else the type's source office for the subject's ``region``, or the one chosen.

    ``decided_by`` are the departments that decided the subject's records of the type: a
    complaint about a Zhejiang decision goes to Zhejiang, not to the national department
    whose system it belongs to. Where several decided, or the type has several sources (or
    any department), the complainant chooses; a chosen department must be able to decide
    records of that type.
    """
    catalogue = services.catalogue
    if type_code is not None:
        try:
            rtype = catalogue.type(type_code)
        except KeyError:
            raise InvalidError(f"unknown record type {type_code!r}") from None
        if department is None:
            deciders = sorted({d for d in decided_by if catalogue.may_submit(type_code, d)})
            if len(deciders) == 1:
                return deciders[0]
            if deciders:
                raise InvalidError(
                    f"the subject's {type_code} records were decided by several departments: "
                    "choose one of " + ", ".join(deciders)
                )
            if len(rtype.sources) == 1 and rtype.sources[0] != ANY_DEPARTMENT:
                return catalogue.local_department(rtype.sources[0], region)
            raise InvalidError(
                f"{type_code} is decided by several departments: choose one of "
                + ", ".join(rtype.sources)
            )
        if department not in {d.code for d in catalogue.departments}:
            raise InvalidError(f"unknown department {department!r}")
        if not catalogue.may_submit(type_code, department):
            raise InvalidError(f"{department} does not decide records of type {type_code}")
        return department
    if department is None:
        raise InvalidError("name the record type or the department the matter belongs to")
    if department not in {d.code for d in catalogue.departments}:
        raise InvalidError(f"unknown department {department!r}")
    return department


def _region_of(code: str) -> str | None:
    """The region a subject's code names, or None for a code that is not valid."""
    try:
        return parse_subject_code(code).region
    except CodeError:
        return None


def file(
    session: Session,
    services: Services,
    principal: Principal,
    request: ComplaintRequest,
    *,
    uploads: Sequence[attachments.Upload] = (),
) -> Complaint:
    """File it with its evidence; the files are stored as the ``informant`` too, so their
    rows name no account either."""
    text = require_text(request.text, "the complaint")
    about = require_text(request.about, "who or what it is about", minimum=2, maximum=300)
    subject_id = None
    region = None
    decided_by: list[str] = []
    if request.code:
        # A code as typed, or the keyed ref of a person's public page (their key itself),
        # which names them without their number; the ref's region is the subject's.
        subject = session.execute(
            select(Subject.id, Subject.region).where(
                Subject.key == services.keys.key_for_code(request.code)
            )
        ).first()
        subject_id = None if subject is None else subject.id
        region = _region_of(request.code) or (None if subject is None else subject.region)
        if subject_id is not None and request.type_code is not None:
            decided_by = list(
                session.scalars(
                    select(Record.source)
                    .where(Record.subject_id == subject_id, Record.type_code == request.type_code)
                    .distinct()
                )
            )
    department = route(
        services,
        type_code=request.type_code,
        department=request.department,
        decided_by=decided_by,
        region=region,
    )
    checked = attachments.check(list(uploads), max_bytes=services.attachment_max_bytes)
    name = (request.informant_name or "").strip()[:200] or None
    contact = (request.informant_contact or "").strip()[:200] or None
    sealed = None
    if name or contact or principal.username:
        sealed = services.keys.vault.seal(
            json.dumps(
                {"account": principal.username, "name": name, "contact": contact},
                ensure_ascii=False,
            )
        )
    complaint = Complaint(
        kind=request.kind.value,
        department=department,
        subject_id=subject_id,
        about=about,
        text=text,
        informant_account_id=principal.account_id,
        informant_sealed=sealed,
        status=ComplaintStatus.OPEN.value,
        created_at=services.clock.now(),
        due_on=services.deadlines.due(services.complaint_days),
    )
    session.add(complaint)
    session.flush()
    attachments.store(
        session,
        services.clock,
        services.data_dir,
        owner_kind=KIND,
        owner_id=complaint.id,
        checked=checked,
        actor=INFORMANT,
    )
    audit.append(
        session,
        actor=INFORMANT,
        tag=f"complaint:{request.kind.value}:filed",
        object_ref=f"complaint {complaint.id}",
        detail={
            "department": department,
            "due_on": complaint.due_on.isoformat(),
            "attachments": len(checked),
        },
    )
    for account_id in department_officers(session, services.catalogue, department):
        services.notifier.notify(
            session,
            Note(
                account_id,
                f"complaint:{request.kind.value}",
                f"New {request.kind.value} {complaint.id}",
                f"A {request.kind.value} about {about} was routed to {department}. "
                f"Answer by {complaint.due_on.isoformat()}.",
                f"complaint {complaint.id}",
            ),
        )
    return complaint


def handles(services: Services, principal: Principal, complaint: Complaint) -> bool:
    return principal.role is Role.OFFICER and own_department(
        services.catalogue, principal.department, complaint.department
    )


def informant(services: Services, principal: Principal, complaint: Complaint) -> Informant | None:
    """Who filed it, for the department it was routed to; None for everyone else."""
    if not handles(services, principal, complaint) or complaint.informant_sealed is None:
        return None
    data = json.loads(services.keys.vault.unseal(complaint.informant_sealed))
    return Informant(data.get("account"), data.get("name"), data.get("contact"))


def get(session: Session, services: Services, principal: Principal, complaint_id: int) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFoundError(f"no complaint {complaint_id}")
    mine = (
        principal.account_id is not None and complaint.informant_account_id == principal.account_id
    )
    if not (principal.role is Role.OPERATOR or handles(services, principal, complaint) or mine):
        raise NotFoundError(f"no complaint {complaint_id}")
    return complaint


def visible_to(
    session: Session, services: Services, principal: Principal, *, limit: int = 200
) -> list[Complaint]:
    query = select(Complaint)
    if principal.role is Role.OFFICER:
        catalogue = services.catalogue
        handled = [
            d.code
            for d in catalogue.departments
            if own_department(catalogue, principal.department, d.code)
        ]
        query = query.where(Complaint.department.in_(handled))
    elif principal.role is not Role.OPERATOR:
        if principal.account_id is None:
            raise ForbiddenError("sign in to see your complaints")
        query = query.where(Complaint.informant_account_id == principal.account_id)
    return list(session.scalars(query.order_by(Complaint.id.desc()).limit(limit)))


def answer(
    session: Session, services: Services, principal: Principal, complaint_id: int, text: str
) -> Complaint:
    complaint = get(session, services, principal, complaint_id)
    if not handles(services, principal, complaint):
        raise ForbiddenError(f"only an officer of {complaint.department!r} answers this")
    if complaint.status != ComplaintStatus.OPEN:
        raise ConflictError("the complaint has already been answered")
    complaint.answer = require_text(text, "the answer")
    complaint.status = ComplaintStatus.ANSWERED.value
    complaint.answered_at = services.clock.now()
    complaint.answered_by = principal.actor
    audit.append(
        session,
        actor=principal.actor,
        tag=f"complaint:{complaint.kind}:answered",
        object_ref=f"complaint {complaint.id}",
        detail={
            "department": complaint.department,
            "in_time": not services.deadlines.overdue(complaint.due_on),
        },
    )
    if complaint.informant_account_id is not None:
        active = session.scalar(
            select(Account.active).where(Account.id == complaint.informant_account_id)
        )
        if active:
            services.notifier.notify(
                session,
                Note(
                    complaint.informant_account_id,
                    "complaint:answered",
                    f"Your {complaint.kind} {complaint.id} was answered",
                    complaint.answer,
                    f"complaint {complaint.id}",
                ),
            )
    return complaint


ESCALATION: escalation.Kind[Complaint] = escalation.Kind(
    area="complaint",
    noun="complaint",
    ref=lambda c: f"complaint {c.id}",
    department=lambda c: c.department,
    subject_id=lambda c: None,
    model=Complaint,
    open_status=ComplaintStatus.OPEN.value,
)


def escalate(
    session: Session, deadlines: Deadlines, notifier: Notifier, *, actor: str
) -> list[Complaint]:
    """Flag overdue complaints not yet escalated and tell every operator; idempotent."""
    return escalation.escalate(session, ESCALATION, deadlines, notifier, actor=actor)
