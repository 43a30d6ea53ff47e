"""Accounts: signing in, self-registration, a subject's own file and notifications.

The portal and the API call these, so both count sign-ins and registrations against the
same rate-limit buckets (switching between the page and the API buys no extra guesses)
and log a subject's read of its own file alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import Catalogue
from bonafides.context import Context
from bonafides.security import accounts, apikeys
from bonafides.security.clock import Clock
from bonafides.security.files import FileRead, find_subject, own_subject, read_subject
from bonafides.security.login_limits import (
    LoginLimits,
    after_failure,
    before_login,
    registration_bucket,
    registration_rate,
)
from bonafides.security.ratelimit import RateLimiter
from bonafides.security.roles import Principal, Role
from bonafides.security.sessions import Started, end_session, known_address, sign_in
from bonafides.settings import Settings
from bonafides.store.tables import Account, Subject
from bonafides.workflows import notify


class TooManyAttemptsError(Exception):
    """A sign-in or registration refused by its rate limit, with the answer's headers."""

    def __init__(self, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.headers = headers


@dataclass(frozen=True)
class Attempt:
    """Where a sign-in or registration comes from, and the limiter that counts it."""

    limiter: RateLimiter
    clock: Clock
    address: str
    user_agent: str | None = None


@dataclass(frozen=True)
class LogIn:
    """``signed`` is None for a wrong user name or password; ``headers`` are the
    rate-limit fields of the answer either way."""

    signed: tuple[Account, Started] | None
    headers: dict[str, str]


def log_in(
    unit: UnitOfWork, settings: Settings, attempt: Attempt, *, username: str, password: str
) -> LogIn:
    """Admit the attempt (``security.login_limits``: per address, and per account for
    failures unless the address has signed in to it before), check the password, start a
    session. A failure is audited and spends a token of the account's bucket."""
    limits = LoginLimits.of(settings)
    by_address, by_account = before_login(
        attempt.limiter, limits, username=username, address=attempt.address
    )
    if not by_address.allowed:
        raise TooManyAttemptsError("too many requests; slow down", by_address.headers())
    if not by_account.allowed and not known_address(unit.session, username, attempt.address):
        raise TooManyAttemptsError(
            "too many failed sign-ins to this account; try again in a few seconds",
            by_account.headers(),
        )
    signed = run(
        unit,
        lambda session: (
            sign_in(
                session,
                attempt.clock,
                username=username,
                password=password,
                hours=settings.session_hours,
                client=attempt.address,
                user_agent=attempt.user_agent,
            )
            if username and password
            else None
        ),
    )
    if signed is None:
        after_failure(attempt.limiter, limits, username=username)
    return LogIn(signed, by_address.headers())


def log_out(unit: UnitOfWork, clock: Clock, principal: Principal, token: str | None) -> None:
    """End the session the request came with; a request with an API key has none."""
    if token and principal.via == "session":
        run(unit, lambda session: end_session(session, clock, token, actor=principal.actor))


def register(
    unit: UnitOfWork,
    ctx: Context,
    attempt: Attempt,
    *,
    username: str,
    display_name: str,
    password: str,
    code: str,
    email: str | None,
) -> Account:
    """Open a subject account claiming a code, bound only after an operator verifies.
    Limited per address at the login rate: each one costs an Argon2 hash."""
    decision = attempt.limiter.hit(
        registration_bucket(attempt.address), registration_rate(ctx.settings)
    )
    if not decision.allowed:
        raise TooManyAttemptsError("too many requests; slow down", decision.headers())
    return run(
        unit,
        lambda session: accounts.register(
            session,
            ctx.catalogue,
            ctx.keys,
            attempt.clock,
            username=username,
            display_name=display_name,
            password=password,
            code=code,
            email=email,
            common_passwords=ctx.common_passwords,
        ),
    )


def refuse_registration(
    unit: UnitOfWork, operator: Principal, *, username: str, reason: str
) -> Account:
    """A claim that could not be verified: the account is deactivated, with why."""
    return run(
        unit,
        lambda session: accounts.refuse_registration(
            session, username=username, reason=reason, actor=operator.actor
        ),
    )


def bind_subject(
    unit: UnitOfWork,
    ctx: Context,
    clock: Clock,
    operator: Principal,
    *,
    username: str,
    code: str,
    evidence: str,
) -> Account:
    """Bind a subject account to its code, after the claimant's identity was verified."""
    return run(
        unit,
        lambda session: accounts.bind_subject(
            session,
            ctx.keys,
            clock,
            username=username,
            code=code,
            evidence=evidence,
            actor=operator.actor,
        ),
    )


def create_account(
    unit: UnitOfWork,
    ctx: Context,
    clock: Clock,
    operator: Principal,
    *,
    username: str,
    role: Role,
    display_name: str,
    password: str | None,
    department: str | None,
    email: str | None,
    subject_code: str | None,
) -> Account:
    return run(
        unit,
        lambda session: accounts.create_account(
            session,
            ctx.catalogue,
            ctx.keys,
            clock,
            username=username,
            role=role,
            display_name=display_name,
            password=password,
            actor=operator.actor,
            department=department,
            email=email,
            subject_code=subject_code,
            common_passwords=ctx.common_passwords,
        ),
    )


def issue_key(
    unit: UnitOfWork,
    clock: Clock,
    operator: Principal,
    *,
    username: str,
    name: str,
    scopes: Sequence[str],
    days: int | None,
) -> tuple[Account, apikeys.Issued]:
    """An API key with scopes within the account's role; its secret is shown once."""

    def issue(session: Session) -> tuple[Account, apikeys.Issued]:
        account = accounts.get_account(session, username)
        issued = apikeys.issue_key(
            session, clock, account, name=name, scopes=scopes, actor=operator.actor, days=days
        )
        return account, issued

    return run(unit, issue)


def revoke_key(unit: UnitOfWork, clock: Clock, operator: Principal, key_id: str) -> None:
    run(unit, lambda session: apikeys.revoke_key(session, clock, key_id, actor=operator.actor))


def read_file(
    unit: UnitOfWork,
    ctx: Context,
    reader: Principal,
    code: str,
    *,
    purpose: str,
    today: dt.date,
    inquiry_id: int | None,
) -> FileRead:
    """A subject's file as an authority may read it, the purpose logged for the subject."""
    return run(
        unit,
        lambda session: read_subject(
            session,
            ctx.catalogue,
            reader,
            find_subject(session, ctx.keys, code),
            purpose=purpose,
            today=today,
            inquiry_id=inquiry_id,
        ),
    )


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


def deactivate(unit: UnitOfWork, operator: Principal, username: str) -> Account:
    """Its sessions and keys stop working at once."""
    return run(
        unit,
        lambda session: accounts.set_active(
            session, username=username, active=False, actor=operator.actor
        ),
    )
