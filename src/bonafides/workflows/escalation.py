"""Escalating overdue workflow items to the operators: one mechanism for objections,
credit repair applications, complaints and applications for disclosure.

A department that lets a deadline pass is reported to the credit office once per item
(``escalated_at`` marks it), with an audit event and a notification to every active
operator, so running the job daily (``bonafides ... escalate``) is safe to repeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.roles import Role
from bonafides.store.tables import (
    Account,
    Complaint,
    DisclosureRequest,
    Objection,
    RepairApplication,
)
from bonafides.workflows.notify import Note, Notifier

if TYPE_CHECKING:
    from bonafides.workflows.common import Deadlines

#: The workflow items that have a deadline and an ``escalated_at`` flag.
T = TypeVar("T", Objection, RepairApplication, Complaint, DisclosureRequest)


@dataclass(frozen=True)
class Kind(Generic[T]):
    """How one workflow names its items in the chain and in the operators' notes."""

    #: ``<area>`` of the tags: ``<area>:<noun>:escalated`` and the note topic ``<area>:escalated``.
    area: str
    noun: str
    ref: Callable[[T], str]
    department: Callable[[T], str]
    #: The subject the item concerns, for its access log; None keeps it out (an informant's
    #: report must not tell the reported subject that somebody complained).
    subject_id: Callable[[T], int | None]
    #: The model, and the status its items have while the department still owes an answer.
    model: type[T]
    open_status: str
    #: The audit detail's name for the department (objections have always said "source").
    department_key: str = "department"


def operators(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Account.id).where(Account.role == Role.OPERATOR.value, Account.active.is_(True))
        )
    )


def overdue(session: Session, kind: Kind[T], today: dt.date) -> list[T]:
    """Items still waiting for the department after their deadline, oldest deadline first."""
    model = kind.model
    return list(
        session.scalars(
            select(model)
            .where(model.status == kind.open_status, model.due_on < today)
            .order_by(model.due_on, model.id)
        )
    )


def escalate(
    session: Session, kind: Kind[T], deadlines: Deadlines, notifier: Notifier, *, actor: str
) -> list[T]:
    """Flag the overdue items not yet escalated, audit each and tell every operator."""
    now = deadlines.clock.now()
    escalated = [i for i in overdue(session, kind, deadlines.today()) if i.escalated_at is None]
    if not escalated:
        return []
    staff = operators(session)
    for item in escalated:
        item.escalated_at = now
        ref, department = kind.ref(item), kind.department(item)
        audit.append(
            session,
            actor=actor,
            tag=f"{kind.area}:{kind.noun}:escalated",
            subject_id=kind.subject_id(item),
            object_ref=ref,
            detail={kind.department_key: department, "due_on": item.due_on.isoformat()},
        )
        for account_id in staff:
            notifier.notify(
                session,
                Note(
                    account_id,
                    f"{kind.area}:escalated",
                    f"{ref[:1].upper()}{ref[1:]} is overdue",
                    f"{department} did not answer {ref} by {item.due_on.isoformat()}.",
                    ref,
                ),
            )
    return escalated
