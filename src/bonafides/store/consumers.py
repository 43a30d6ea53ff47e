"""Downstream consumers and the tombstones of the change feed they have not acknowledged.

A consumer acknowledges removals by a cursor of the change feed: every tombstone with an
id up to it is applied on its side. What it still holds is the tombstones past its cursor;
the oldest of them says since when.

The feed's table belongs to ``bonafides.store.feed``. This module reads it through the
columns it relies on, ``feed_events(id, kind, occurred_at)``, with ``id`` the monotonic
cursor, and counts as tombstones the kinds in ``TOMBSTONE_KINDS``. Both are the
assumption the report rests on (docs/exports.md, "Consumers").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, String, column, func, select, table
from sqlalchemy.orm import Session

from bonafides.store.tables import Consumer
from bonafides.store.types import UTCDateTime

FEED_EVENTS = table(
    "feed_events",
    column("id", Integer),
    column("kind", String),
    column("occurred_at", UTCDateTime),
)

#: Feed events that remove something a consumer may hold: a record revoked, repaired or
#: no longer published, a list entry or a measure ended, a subject deregistered.
TOMBSTONE_KINDS = (
    "record.revoked",
    "record.repaired",
    "record.unpublished",
    "entry.ended",
    "measure.ended",
    "subject.deregistered",
)


@dataclass(frozen=True)
class Lag:
    """One consumer's acknowledgement, and the tombstones it has not acknowledged."""

    name: str
    contact: str
    acked_cursor: int
    acked_at: dt.datetime | None
    pending: int
    first_pending: int | None
    oldest_pending_at: dt.datetime | None


def feed_head(session: Session) -> int:
    """The newest cursor of the feed (0 when it is empty)."""
    return int(session.scalar(select(func.coalesce(func.max(FEED_EVENTS.c.id), 0))) or 0)


def lags(session: Session) -> list[Lag]:
    """Every consumer with its unacknowledged tombstones, longest outstanding first, then
    those holding nothing; one statement, grouped in the store."""
    tomb = FEED_EVENTS.alias("tomb")
    oldest = func.min(tomb.c.occurred_at)
    query = (
        select(
            Consumer.name,
            Consumer.contact,
            Consumer.acked_cursor,
            Consumer.acked_at,
            func.count(tomb.c.id),
            func.min(tomb.c.id),
            oldest,
        )
        .select_from(Consumer)
        .outerjoin(
            tomb,
            (tomb.c.id > Consumer.acked_cursor) & tomb.c.kind.in_(TOMBSTONE_KINDS),
        )
        .group_by(Consumer.id, Consumer.name, Consumer.contact, Consumer.acked_cursor)
        .group_by(Consumer.acked_at)
        .order_by(oldest.is_(None), oldest, Consumer.name)
    )
    out = []
    for name, contact, cursor, acked_at, pending, first, oldest_at in session.execute(query):
        if isinstance(oldest_at, str):  # SQLite hands an aggregate of a timestamp back as text
            oldest_at = dt.datetime.fromisoformat(oldest_at)
        if oldest_at is not None and oldest_at.tzinfo is None:
            oldest_at = oldest_at.replace(tzinfo=dt.UTC)
        if isinstance(acked_at, str):
            acked_at = dt.datetime.fromisoformat(acked_at).replace(tzinfo=dt.UTC)
        out.append(Lag(name, contact, cursor, acked_at, pending, first, oldest_at))
    return out
