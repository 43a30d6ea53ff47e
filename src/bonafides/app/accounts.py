"""Accounts: signing in, self-registration, a subject's own file and notifications.

The portal and the API call these, so both count sign-ins and registrations against the
same rate-limit buckets (switching between the page and the API buys no extra guesses)
and log a subject's read of its own file alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import Catalogue
from bonafides.security.clock import Clock
from bonafides.security.files import FileRead, own_subject, read_subject
from bonafides.security.roles import Principal
from bonafides.store.tables import Subject
from bonafides.workflows import notify


@dataclass(frozen=True)
class OwnFile:
    subject: Subject
    read: FileRead


def read_own_file(
    unit: UnitOfWork, catalogue: Catalogue, principal: Principal, *, today: dt.date
) -> OwnFile | None:
    """The bound subject's whole file, every disclosure class, its read logged; None while
    no decision concerns the subject."""

    def read(session: Session) -> OwnFile | None:
        row = own_subject(session, principal)
        if row is None:
            return None
        found = read_subject(
            session, catalogue, principal, row, purpose="the subject's own file", today=today
        )
        return OwnFile(row, found)

    return run(unit, read)


def read_notification(
    unit: UnitOfWork, clock: Clock, principal: Principal, notification_id: int
) -> bool:
    """Mark one of the principal's own notifications read; False for anyone else's."""
    return run(unit, lambda session: notify.mark_read(session, clock, principal, notification_id))
