"""What a single check and a batch screening share: the action check, certificate ids,
the office's today, and the details of the records an answer cites.

Below both ``screening.service`` and ``screening.batch``, so neither imports the other
to reach them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.errors import Invalid
from bonafides.rules.model import Rules
from bonafides.screening.answer import RecordDetail
from bonafides.store.details import record_rows


class UnknownActionError(Invalid):
    """The action is not in the action catalogue; measures are only ever for named actions."""


def new_certificate_id() -> str:
    """24 URL-safe characters from 144 random bits: unguessable, safe in a link.

    Never with a leading dash, which a command line would take for an option.
    """
    while True:
        cert = secrets.token_urlsafe(18)
        if not cert.startswith("-"):
            return cert


def require_action(rules: Rules, action: str) -> None:
    if action not in rules.actions:
        known = ", ".join(sorted(rules.actions))
        raise UnknownActionError(f"unknown action {action!r}; known actions: {known}")


def today(ctx: Context) -> dt.date:
    """Today where the credit office is, which is what "as of today" means in an answer."""
    return ctx.today()


def record_details(session: Session, ids: Iterable[int]) -> dict[int, RecordDetail]:
    """The decision behind each cited record, as an answer states it."""
    return {rid: RecordDetail(rid, *row) for rid, row in record_rows(session, ids).items()}
