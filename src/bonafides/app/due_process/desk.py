"""What every due-process step shares: its services, its one commit, its mail, and the
one rule for logging staff reads of a case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import Effect, UnitOfWork
from bonafides.context import Context
from bonafides.security import audit
from bonafides.security.clock import Clock
from bonafides.security.roles import Principal, Role
from bonafides.store.access import log_read
from bonafides.store.tables import Complaint, Objection, RepairApplication
from bonafides.workflows import notify
from bonafides.workflows.common import Services, services_for

T = TypeVar("T")
#: Runs an effect: at once (the CLI, tests), or after the answer is sent (the web).
Defer = Callable[[Effect], None]
#: A case about a subject (objection, repair application) or a complaint.
Case = Objection | RepairApplication | Complaint


def at_once(effect: Effect) -> None:
    effect()


@dataclass(frozen=True)
class Desk:
    """What a step needs besides its unit of work and its principal."""

    ctx: Context
    services: Services
    #: How the post-commit mail runs; the web adapters hand it to the response's
    #: background tasks, so an answer never waits for an SMTP server.
    defer: Defer = at_once


def desk_for(ctx: Context, *, clock: Clock | None = None, defer: Defer = at_once) -> Desk:
    return Desk(ctx, services_for(ctx, clock=clock), defer)


def mail_after_commit(unit: UnitOfWork, desk: Desk) -> None:
    """Once the step has committed, mail what it queued (``notify.deliver``); a mail that
    fails stays queued for ``bonafides notifications send``. Nothing when SMTP is off."""
    mailer = notify.SmtpMailer.from_settings(desk.ctx.settings)
    if mailer is None:
        return
    sessions, clock = desk.ctx.sessions, desk.services.clock

    def send() -> None:
        with UnitOfWork(sessions) as delivery:
            run(delivery, lambda session: notify.deliver(session, mailer, clock))

    unit.after_commit(lambda: desk.defer(send))


def commit_step(
    unit: UnitOfWork, desk: Desk, act: Callable[[Session], T], *, mail: bool = True
) -> T:
    """Run one step (``bonafides.app.steps.run``); once committed, mail what it queued."""
    return run(unit, act, then=(lambda done: mail_after_commit(done, desk)) if mail else None)


def log_staff_read(session: Session, principal: Principal, case: Case, what: str) -> None:
    """The one rule for reading a case: a party to it reads its own and nothing is logged;
    anyone else's read is a read of non-public data and leaves an audit event.

    The subject of an objection or repair application finds the read in its access log,
    as it finds reads of its file. A complaint's read goes on the audit chain naming the
    complaint only: the subject's access log would tell it that someone reported it.
    """
    if isinstance(case, Complaint):
        if principal.account_id is not None and principal.account_id == case.informant_account_id:
            return
        audit.append(
            session,
            actor=principal.actor,
            tag=f"complaint:{case.kind}:read",
            object_ref=f"complaint {case.id}",
            detail={"department": case.department, "what": what},
        )
        return
    if principal.role is Role.SUBJECT:
        return
    log_read(
        session,
        actor=principal.actor,
        role=principal.role.value,
        department=principal.department,
        subject_id=case.subject_id,
        purpose="handling the subject's own application",
        what=what,
        audience=principal.role.value,
    )
