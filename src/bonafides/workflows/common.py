"""What every workflow shares: its errors, its deadlines and the principals it trusts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.context import Context
from bonafides.errors import BonafidesError, Conflict, Forbidden, Invalid, NotFound, TooEarly
from bonafides.meaningful import requirement, says_enough
from bonafides.security.clock import Clock, office_day
from bonafides.security.roles import Principal, Role, own_department
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Subject
from bonafides.workdays import WorkingCalendar, load_calendar
from bonafides.workflows.notify import Notifier, StoredNotifier


class WorkflowError(BonafidesError):
    """Base of the errors a workflow service raises; each derives from its kind in
    ``bonafides.errors``, which the adapters map (the API to a status)."""


class NotFoundError(WorkflowError, NotFound):
    """No such item, or none the principal may know of (the API answers 404 for both)."""


class ForbiddenError(WorkflowError, Forbidden):
    """The principal may see the item but not do this to it."""


class ConflictError(WorkflowError, Conflict):
    """The item is not in a state that allows this step."""


class InvalidError(WorkflowError, Invalid):
    """The request itself is unusable: missing grounds, an unknown outcome, a bad file."""


class TooEarlyError(InvalidError, TooEarly):
    """A credit repair asked for before the record's minimum publication period is served."""


@dataclass(frozen=True)
class Deadlines:
    """The working-day calendar and the clock that deadlines are counted on."""

    calendar: WorkingCalendar
    clock: Clock
    zone: str

    def today(self) -> dt.date:
        return office_day(self.clock, self.zone)

    def due(self, working_days: int) -> dt.date:
        """The last day to act: ``working_days`` working days after today."""
        return self.calendar.add_working_days(self.today(), working_days)

    def overdue(self, due_on: dt.date) -> bool:
        return self.today() > due_on


def require_text(value: str, what: str, *, minimum: int = 10, maximum: int = 20_000) -> str:
    """``value`` stripped, if it says enough (``minimum`` counted as bonafides.meaningful
    counts it, fair to Chinese) and is not longer than ``maximum`` characters."""
    text = value.strip()
    if not says_enough(text, minimum):
        raise InvalidError(f"{what} needs {requirement(minimum)}")
    if len(text) > maximum:
        raise InvalidError(f"{what} has at most {maximum} characters")
    return text


def require_subject(principal: Principal) -> str:
    """The subject key of a bound subject account; anyone else is refused."""
    key = principal.bound_subject
    if key is None:
        if principal.role is Role.SUBJECT:
            raise ForbiddenError("the account is not yet bound to its subject by an operator")
        raise ForbiddenError("only the subject itself may do this")
    return key


def may_see_case(
    session: Session, catalogue: Catalogue, principal: Principal, *, source: str, subject_id: int
) -> bool:
    """Who may see a case about a record: an operator, an officer of the deciding
    department (or one above it), and the subject the case is about."""
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.OFFICER:
        return own_department(catalogue, principal.department, source)
    if principal.bound_subject is not None:
        subject = session.get(Subject, subject_id)
        return subject is not None and subject.key == principal.bound_subject
    return False


def require_department_of(catalogue: Catalogue, principal: Principal, source: str) -> None:
    """Only an officer of the department that decided (or one above it) answers for it."""
    if principal.role is not Role.OFFICER or not own_department(
        catalogue, principal.department, source
    ):
        raise ForbiddenError(f"only an officer of {source!r} may answer this")


@dataclass(frozen=True)
class Services:
    """What the workflows need besides a session, built once per request or command."""

    catalogue: Catalogue
    keys: SubjectKeys
    deadlines: Deadlines
    notifier: Notifier
    data_dir: Path
    objection_days: int
    repair_days: int
    complaint_days: int
    inquiry_max_days: int
    attachment_max_bytes: int

    @property
    def clock(self) -> Clock:
        return self.deadlines.clock


def services_for(
    ctx: Context, *, clock: Clock | None = None, notifier: Notifier | None = None
) -> Services:
    """The production wiring: the configured calendar, the context's clock, stored notes."""
    settings = ctx.settings
    clock = clock or ctx.clock
    return Services(
        catalogue=ctx.catalogue,
        keys=ctx.keys,
        deadlines=Deadlines(load_calendar(settings.holidays), clock, settings.timezone),
        notifier=notifier or StoredNotifier(clock, mail_enabled=bool(settings.smtp_host)),
        data_dir=settings.data_dir,
        objection_days=settings.objection_working_days,
        repair_days=settings.repair_working_days,
        complaint_days=settings.complaint_working_days,
        inquiry_max_days=settings.inquiry_max_days,
        attachment_max_bytes=settings.attachment_max_bytes,
    )
