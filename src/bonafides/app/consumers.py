"""Downstream consumers as use cases: register, acknowledge tombstones, report who lags.

A repaired or revoked record lives on in every republished copy until the republisher
removes it (issue 16, item 3). Each consumer acknowledges the feed's tombstones up to a
cursor; the report shows the operator which consumers still hold removed data and since
when. Registration and every acknowledgement are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.security import audit
from bonafides.store.consumers import Lag, feed_head, lags
from bonafides.store.tables import Consumer
from bonafides.workflows.common import ConflictError, ForbiddenError, InvalidError, NotFoundError

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Registered:
    name: str
    contact: str
    token: str  # shown once


def register(ctx: Context, *, actor: str, name: str, contact: str) -> Registered:
    """Register a consumer; its acknowledgement token is returned once and kept hashed."""
    if not NAME.fullmatch(name):
        raise InvalidError(
            f"name {name!r}: 2 to 64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    contact = contact.strip()
    if not contact or len(contact) > 254:
        raise InvalidError("contact: give an address to reach the consumer (at most 254)")
    token = "bfc_" + secrets.token_urlsafe(24)
    with UnitOfWork(ctx.sessions) as unit:
        session = unit.session
        if session.scalar(select(Consumer.id).where(Consumer.name == name)) is not None:
            raise ConflictError(f"a consumer named {name!r} is registered already")
        session.add(
            Consumer(
                name=name,
                contact=contact,
                token_hash=_digest(token),
                acked_cursor=0,
                registered_at=ctx.clock.now(),
                registered_by=actor,
            )
        )
        session.flush()
        audit.append(
            session,
            actor=actor,
            tag="exchange:consumer:registered",
            object_ref=f"consumer {name}",
            detail={"contact": contact},
        )
        unit.commit()
    return Registered(name, contact, token)


def acknowledge(
    ctx: Context, *, actor: str, name: str, cursor: int, token: str | None = None
) -> int:
    """Record that ``name`` applied every tombstone up to ``cursor``; returns the cursor.

    With a token, the consumer itself; without one, an operator at the shell on its
    behalf. A cursor never moves back, nor past the feed's newest event.
    """
    with UnitOfWork(ctx.sessions) as unit:
        session = unit.session
        consumer = session.scalar(select(Consumer).where(Consumer.name == name).with_for_update())
        if consumer is None:
            raise NotFoundError(f"no consumer named {name!r}")
        if token is not None and not hmac.compare_digest(_digest(token), consumer.token_hash):
            raise ForbiddenError("the token is not this consumer's")
        if cursor < consumer.acked_cursor:
            raise ConflictError(
                f"cursor {cursor} is before the one acknowledged already ({consumer.acked_cursor})"
            )
        head = feed_head(session)
        if cursor > head:
            raise InvalidError(f"cursor {cursor} is past the newest event of the feed ({head})")
        previous = consumer.acked_cursor
        consumer.acked_cursor = cursor
        consumer.acked_at = ctx.clock.now()
        audit.append(
            session,
            actor=actor,
            tag="exchange:consumer:acknowledged",
            object_ref=f"consumer {name}",
            detail={"from": previous, "to": cursor},
        )
        unit.commit()
    return cursor


@dataclass(frozen=True)
class Holding:
    """A consumer's lag as the operator reads it: how many removals, since when, how long."""

    lag: Lag
    days: int | None


def report(ctx: Context) -> list[Holding]:
    """Every consumer, those holding removed data longest first."""
    now = ctx.clock.now()
    with ctx.sessions() as session:
        found = lags(session)
    return [
        Holding(lag, None if lag.oldest_pending_at is None else _days(now, lag.oldest_pending_at))
        for lag in found
    ]


def _days(now: dt.datetime, since: dt.datetime) -> int:
    return max((now - since).days, 0)
