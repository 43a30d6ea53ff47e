"""What a single check and a batch screening share: the action check, certificate ids,
the office's today, and the details of the records an answer cites.

Below both ``screening.service`` and ``screening.batch``, so neither imports the other
to reach them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bonafides.codes import ResidentId, parse_subject_code
from bonafides.context import Context
from bonafides.errors import Invalid, NotFound
from bonafides.records import digest
from bonafides.rules.model import EVALUATOR, Rules
from bonafides.screening.answer import RecordDetail
from bonafides.store.details import record_rows
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Check


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


class UnknownCertificateError(NotFound):
    """No check certificate with this id, or no such line of it."""


def key_and_shown(code: str, keys: SubjectKeys | None) -> tuple[str, str]:
    """The store key (when ``keys`` is given) and the shown code; raises CodeError."""
    parsed = parse_subject_code(code)
    if isinstance(parsed, ResidentId):
        return (keys.vault.lookup_key(parsed.number) if keys else "", parsed.masked)
    return parsed.code, parsed.code


@dataclass(frozen=True)
class Verification:
    """What a certificate answered, and how the same question is answered now."""

    cert_id: str
    kind: str
    created_at: dt.datetime
    inquirer: str
    department: str | None
    purpose: str
    action: str
    as_of: dt.date
    evaluator: str
    rules_version: str
    answer: dict[str, Any]
    digest: str
    intact: bool
    answer_now: dict[str, Any]
    same_now: bool
    answer_today: dict[str, Any] | None
    changed_lines: Sequence[int] = ()

    @property
    def evaluator_now(self) -> str:
        return EVALUATOR


def verification_of(
    stored: Check,
    then: dict[str, Any],
    then_digest: str,
    now: dict[str, Any],
    today_answer: dict[str, Any] | None,
    changed: Sequence[int],
    *,
    cert: str = "",
) -> Verification:
    return Verification(
        cert_id=stored.cert_id + cert,
        kind=stored.kind,
        created_at=stored.created_at,
        inquirer=stored.inquirer,
        department=stored.department,
        purpose=stored.purpose,
        action=stored.action,
        as_of=stored.as_of,
        evaluator=stored.evaluator,
        rules_version=stored.rules_version,
        answer=then,
        digest=then_digest,
        intact=digest(then) == then_digest,
        answer_now=now,
        same_now=digest(now) == then_digest and not changed,
        answer_today=today_answer,
        changed_lines=changed,
    )
