"""Downstream consumers and the tombstones of the change feed they have not acknowledged.

A consumer acknowledges removals by a cursor of the change feed: every tombstone with an
id up to it is applied on its side. What it still holds is the tombstones past its cursor;
the oldest of them says since when.

The feed's table belongs to ``bonafides.store.feed``: its id is the cursor, and the
events it marks ``tombstone`` and ``public`` are the removals a consumer of the public
feed and exports may hold copies of (docs/exports.md, "Consumers").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from bonafides.store.tables import Consumer, FeedEvent


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
    return int(session.scalar(select(func.coalesce(func.max(FeedEvent.id), 0))) or 0)


def lags(session: Session) -> list[Lag]:
    """Every consumer with its unacknowledged tombstones, longest outstanding first, then
    those holding nothing; one statement, grouped in the store."""
    tomb = aliased(FeedEvent, name="tomb")
    oldest = func.min(tomb.occurred_at)
    query = (
        select(
            Consumer.name,
            Consumer.contact,
            Consumer.acked_cursor,
            Consumer.acked_at,
            func.count(tomb.id),
            func.min(tomb.id),
            oldest,
        )
        .select_from(Consumer)
        .outerjoin(
            tomb,
            (tomb.id > Consumer.acked_cursor) & tomb.tombstone & tomb.is_public,
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
