"""API keys for machine clients: shown once, stored hashed, scoped, revocable.

A key reads ``bfk_<key id>_<secret>``. The key id is public (it names the key in lists,
logs and rate limits); the secret is 256 random bits, of which the store keeps only the
SHA-256: with that much entropy a fast hash is safe, and checking a key costs one lookup
by id and one constant-time comparison.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.clock import Clock
from bonafides.security.roles import Role, parse_scopes
from bonafides.store.tables import Account, ApiKey

PREFIX = "bfk"
TOKEN = re.compile(r"^bfk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class ApiKeyError(ValueError):
    """A key cannot be issued or revoked as asked."""


@dataclass(frozen=True)
class Issued:
    key: ApiKey
    token: str  # shown to the operator once, never again


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX + "_")


def issue_key(
    session: Session,
    clock: Clock,
    account: Account,
    *,
    name: str,
    scopes: Iterable[str],
    actor: str,
    days: int | None = None,
) -> Issued:
    if not account.active:
        raise ApiKeyError(f"account {account.username!r} is deactivated")
    try:
        chosen = parse_scopes(Role(account.role), scopes)
    except ValueError as exc:
        raise ApiKeyError(str(exc)) from None
    if days is not None and days <= 0:
        raise ApiKeyError("a key's lifetime is at least one day")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    key = ApiKey(
        key_id=key_id,
        secret_hash=_secret_hash(secret),
        account_id=account.id,
        name=name.strip()[:100] or key_id,
        scopes=sorted(s.value for s in chosen),
        created_at=now,
        created_by=actor,
        expires_at=now + dt.timedelta(days=days) if days else None,
    )
    session.add(key)
    session.flush()
    audit.append(
        session,
        actor=actor,
        tag="accounts:key:issued",
        object_ref=f"key {key_id}",
        detail={"account": account.username, "scopes": key.scopes, "name": key.name},
    )
    return Issued(key, f"{PREFIX}_{key_id}_{secret}")


def revoke_key(session: Session, clock: Clock, key_id: str, *, actor: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None:
        raise ApiKeyError(f"no key {key_id!r}")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.revoked_by = actor
        audit.append(session, actor=actor, tag="accounts:key:revoked", object_ref=f"key {key_id}")
    return key


def resolve_key(session: Session, clock: Clock, token: str) -> tuple[Account, ApiKey] | None:
    """The key's account and the key, if the token is a live key of an active account."""
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    key_id, secret = match.groups()
    row = session.execute(
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.key_id == key_id)
    ).one_or_none()
    if row is None:
        return None
    key, account = row
    if not hmac.compare_digest(key.secret_hash, _secret_hash(secret)):
        return None
    now = clock.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if not account.active:
        return None
    return account, key
