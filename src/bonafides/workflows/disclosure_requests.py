"""Disclosure on application (依申请公开, plan §68): a person or company asks a department
for information the platform holds, and the department answers within 20 working days.

The department grants, partly grants or refuses; anything short of a grant names its
reason and the provision it relies on, so the applicant can seek review. The deadline is
the statutory one (Regulations on the Disclosure of Government Information, art. 33: 20
working days), not a setting: an office cannot shorten the applicant's right by
configuration.

open ──decide──▶ decided (granted | partly_granted | refused)
  └─ past due_on: escalated to the operators (still open, flagged, operators notified)
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.roles import Principal, Role, Scope, own_department
from bonafides.store.tables import Account, DisclosureRequest
from bonafides.workdays import CalendarNotCoveredError, WorkingCalendar
from bonafides.workflows import escalation
from bonafides.workflows.common import (
    ConflictError,
    Deadlines,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    Services,
    require_department_of,
    require_text,
)
from bonafides.workflows.notify import Note, Notifier
from bonafides.workflows.objections import department_officers

#: Regulations on the Disclosure of Government Information (2019), art. 33.
WORKING_DAYS = 20
LEGAL_BASIS = "《中华人民共和国政府信息公开条例》第三十三条"


class RequestStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class Outcome(StrEnum):
    GRANTED = "granted"
    PARTLY_GRANTED = "partly_granted"
    REFUSED = "refused"


@dataclass(frozen=True)
class DisclosureAsk:
    department: str
    asked: str
    purpose: str | None = None


def ref(item: DisclosureRequest) -> str:
    return f"disclosure request {item.id}"


def submit(
    session: Session, services: Services, principal: Principal, ask: DisclosureAsk
) -> DisclosureRequest:
    """File an application with the department that holds the information.

    Any signed-in company or person may apply, bound to its subject or not: the right
    to ask is not limited to information about oneself.
    """
    if principal.role is not Role.SUBJECT or not principal.has(Scope.OWN_WORKFLOWS):
        raise ForbiddenError("a company's or person's signed-in account applies for disclosure")
    assert principal.account_id is not None
    if ask.department not in {d.code for d in services.catalogue.departments}:
        raise InvalidError(f"unknown department {ask.department!r}")
    asked = require_text(ask.asked, "the description of the information asked for")
    purpose = (ask.purpose or "").strip()[:300] or None
    item = DisclosureRequest(
        account_id=principal.account_id,
        department=ask.department,
        asked=asked,
        purpose=purpose,
        status=RequestStatus.OPEN.value,
        created_at=services.clock.now(),
        due_on=services.deadlines.due(WORKING_DAYS),
    )
    session.add(item)
    session.flush()
    audit.append(
        session,
        actor=principal.actor,
        tag="disclosure:request:submitted",
        object_ref=ref(item),
        detail={"department": item.department, "due_on": item.due_on.isoformat()},
    )
    for account_id in department_officers(session, services.catalogue, item.department):
        services.notifier.notify(
            session,
            Note(
                account_id,
                "disclosure:request",
                f"New disclosure request {item.id}",
                f"An application for disclosure was made to {item.department}. "
                f"Answer by {item.due_on.isoformat()}.",
                ref(item),
            ),
        )
    return item


def handles(services: Services, principal: Principal, item: DisclosureRequest) -> bool:
    return principal.role is Role.OFFICER and own_department(
        services.catalogue, principal.department, item.department
    )


def get(
    session: Session, services: Services, principal: Principal, request_id: int
) -> DisclosureRequest:
    """The applicant, the department asked (or one above it) and operators see it."""
    item = session.get(DisclosureRequest, request_id)
    mine = item is not None and principal.account_id == item.account_id
    if item is None or not (
        mine or principal.role is Role.OPERATOR or handles(services, principal, item)
    ):
        raise NotFoundError(f"no disclosure request {request_id}")
    return item


def visible_to(
    session: Session, services: Services, principal: Principal, *, limit: int = 200
) -> list[DisclosureRequest]:
    query = select(DisclosureRequest)
    if principal.role is Role.OFFICER:
        catalogue = services.catalogue
        handled = [
            d.code
            for d in catalogue.departments
            if own_department(catalogue, principal.department, d.code)
        ]
        query = query.where(DisclosureRequest.department.in_(handled))
    elif principal.role is not Role.OPERATOR:
        if principal.account_id is None:
            raise ForbiddenError("sign in to see your applications")
        query = query.where(DisclosureRequest.account_id == principal.account_id)
    return list(session.scalars(query.order_by(DisclosureRequest.id.desc()).limit(limit)))


def decide(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: int,
    *,
    outcome: Outcome,
    answer: str,
    provision: str | None = None,
) -> DisclosureRequest:
    """The department's answer: a grant gives the information; a partial grant or a
    refusal gives the reason and the provision it relies on."""
    item = get(session, services, principal, request_id)
    require_department_of(services.catalogue, principal, item.department)
    if item.status != RequestStatus.OPEN:
        raise ConflictError("the application has already been decided")
    what = "the information given" if outcome is Outcome.GRANTED else "the reason"
    item.answer = require_text(answer, what)
    cited = (provision or "").strip()
    if outcome is not Outcome.GRANTED:
        cited = require_text(cited, "the provision relied on", minimum=4, maximum=300)
    item.provision = cited[:300] or None
    item.outcome = outcome.value
    item.status = RequestStatus.DECIDED.value
    item.decided_at = services.clock.now()
    item.decided_by = principal.actor
    audit.append(
        session,
        actor=principal.actor,
        tag=f"disclosure:request:{outcome.value}",
        object_ref=ref(item),
        detail={
            "department": item.department,
            "in_time": not services.deadlines.overdue(item.due_on),
            "provision": item.provision,
        },
    )
    active = session.scalar(select(Account.active).where(Account.id == item.account_id))
    if active:
        services.notifier.notify(
            session,
            Note(
                item.account_id,
                "disclosure:decided",
                f"Your disclosure request {item.id}: {outcome.value.replace('_', ' ')}",
                item.answer + (f"\n\n{item.provision}" if item.provision else ""),
                ref(item),
            ),
        )
    return item


ESCALATION: escalation.Kind[DisclosureRequest] = escalation.Kind(
    area="disclosure",
    noun="request",
    ref=ref,
    department=lambda item: item.department,
    subject_id=lambda item: None,
    model=DisclosureRequest,
    open_status=RequestStatus.OPEN.value,
)


def escalate(
    session: Session, deadlines: Deadlines, notifier: Notifier, *, actor: str
) -> list[DisclosureRequest]:
    """Flag overdue applications not yet escalated and tell every operator; idempotent."""
    return escalation.escalate(session, ESCALATION, deadlines, notifier, actor=actor)


@dataclass(frozen=True)
class DepartmentFigures:
    """One department's applications: ``median_days`` in working days from filing to
    decision, over the decided ones whose days the calendar covers (None if none)."""

    department: str
    received: int
    decided: int
    decided_in_time: int
    open_overdue: int
    median_days: float | None

    @property
    def share_in_time(self) -> float:
        return self.decided_in_time / self.decided if self.decided else 1.0


def figures(
    session: Session,
    calendar: WorkingCalendar,
    zone: str,
    today: dt.date,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[DepartmentFigures]:
    """Per department, the applications filed in ``[since, until]`` (office days): for
    the statistics of an office and of the level above."""
    local = ZoneInfo(zone)
    rows = session.execute(
        select(
            DisclosureRequest.department,
            DisclosureRequest.created_at,
            DisclosureRequest.decided_at,
            DisclosureRequest.due_on,
        )
    ).all()
    grouped: dict[str, list[tuple[dt.date, dt.date | None, dt.date]]] = {}
    for department, created, decided, due in rows:
        filed = created.astimezone(local).date()
        if (since and filed < since) or (until and filed > until):
            continue
        answered = decided.astimezone(local).date() if decided is not None else None
        grouped.setdefault(department, []).append((filed, answered, due))
    out: list[DepartmentFigures] = []
    for department in sorted(grouped):
        items = grouped[department]
        decided_items = [(f, a, d) for f, a, d in items if a is not None]
        days: list[int] = []
        for filed, answered, _due in decided_items:
            assert answered is not None
            try:
                days.append(calendar.working_days_between(filed, answered))
            except CalendarNotCoveredError:
                continue
        out.append(
            DepartmentFigures(
                department=department,
                received=len(items),
                decided=len(decided_items),
                decided_in_time=sum(1 for _f, a, d in decided_items if a is not None and a <= d),
                open_overdue=sum(1 for _f, a, d in items if a is None and today > d),
                median_days=statistics.median(days) if days else None,
            )
        )
    return out
