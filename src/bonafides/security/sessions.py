"""Server-side login sessions with a CSRF token each.

The cookie carries 256 random bits; the table keeps only their SHA-256, so a copy of
the database cannot be replayed as cookies. Logging out or deactivating an account ends
the session at once, which a self-contained signed token could not do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.accounts import authenticate
from bonafides.security.clock import Clock
from bonafides.store.tables import Account, LoginSession

COOKIE = "bonafides_session"
CSRF_HEADER = "X-CSRF-Token"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    token: str
    csrf_token: str
    expires_at: dt.datetime


def start_session(
    session: Session,
    clock: Clock,
    account: Account,
    *,
    hours: int,
    client: str | None,
    user_agent: str | None,
) -> Started:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + dt.timedelta(hours=hours)
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            csrf_token=csrf,
            account_id=account.id,
            created_at=now,
            expires_at=expires,
            client=(client or "")[:64] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    audit.append(
        session,
        actor=f"user:{account.username}",
        tag="accounts:session:started",
        object_ref=f"account {account.id}",
        detail={"client": client, "expires_at": expires.isoformat()},
    )
    return Started(token, csrf, expires)


def find_session(session: Session, clock: Clock, token: str) -> tuple[Account, LoginSession] | None:
    """The live session and its active account, or None (unknown, ended or expired)."""
    row = session.execute(
        select(LoginSession, Account)
        .join(Account, Account.id == LoginSession.account_id)
        .where(LoginSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    login, account = row
    if login.ended_at is not None or login.expires_at <= clock.now() or not account.active:
        return None
    return account, login


def end_session(session: Session, clock: Clock, token: str, *, actor: str) -> bool:
    login = session.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token)))
    if login is None or login.ended_at is not None:
        return False
    login.ended_at = clock.now()
    audit.append(
        session,
        actor=actor,
        tag="accounts:session:ended",
        object_ref=f"account {login.account_id}",
    )
    return True


def known_address(session: Session, username: str, address: str) -> bool:
    """Whether ``address`` has signed in to the account before (its sessions keep it)."""
    found = session.scalar(
        select(LoginSession.id)
        .join(Account, Account.id == LoginSession.account_id)
        .where(Account.username == username.strip().lower(), LoginSession.client == address)
        .limit(1)
    )
    return found is not None


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison: the token must not be guessable a character at a time."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def sign_in(
    session: Session,
    clock: Clock,
    *,
    username: str,
    password: str,
    hours: int,
    client: str | None,
    user_agent: str | None,
) -> tuple[Account, Started] | None:
    """Check the password and start a session; a failure is audited, never explained.

    The caller limits the rate of attempts (per address and per user name) before this.
    """
    account = authenticate(session, username, password)
    if account is None:
        audit.append(
            session,
            actor="public",
            tag="accounts:login:failed",
            detail={"username": username[:64], "client": client},
        )
        return None
    started = start_session(
        session, clock, account, hours=hours, client=client, user_agent=user_agent
    )
    return account, started
