"""Reading the change feed: one use case for the API and the CLI alike.

A reader gets the events its scope allows after its cursor, each stripped to what its
audience may read, and the cursor to ask with next. Reading events that are not public
is a read of non-public data (principle 6): it appends one audit event, linked to every
subject whose non-public events were read, so each subject's access log shows it, and
``read_feed`` commits it with the read. Compacting the feed is the operator's use case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import Catalogue
from bonafides.exchange.feed import Allowed, audience_of, scope_for, shown_payload
from bonafides.security import audit
from bonafides.security.roles import Principal
from bonafides.store import feed
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.feed import FeedScope
from bonafides.store.feed import compact as compact_events

MAX_LIMIT = 1000
READ_TAG = "feed:events:read"


@dataclass(frozen=True)
class ShownEvent:
    cursor: int
    kind: str
    occurred_at: dt.datetime
    origin: str
    tombstone: bool
    disclosure: str
    subject_code: str | None
    record_id: int | None
    record_version: int | None
    list_entry_id: int | None
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "kind": self.kind,
            "occurred_at": self.occurred_at.isoformat(),
            "origin": self.origin,
            "tombstone": self.tombstone,
            "disclosure": self.disclosure,
            "subject_code": self.subject_code,
            "record_id": self.record_id,
            "record_version": self.record_version,
            "list_entry_id": self.list_entry_id,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class FeedPage:
    events: list[ShownEvent]
    #: Ask with ``after=next_cursor`` for what follows; never lower than the cursor given.
    next_cursor: int
    #: Whether more events may already be there (the page is full).
    more: bool


def read(
    session: Session,
    catalogue: Catalogue,
    principal: Principal,
    *,
    after: int,
    limit: int,
    scope: FeedScope | None = None,
    most: int = MAX_LIMIT,
) -> FeedPage:
    """Up to ``limit`` events after ``after`` as ``principal`` may see them; ``limit``
    at most ``most`` (a peer's signed batch may be larger than a consumer's page).

    The head (the newest id) is read first: every event up to it is committed, since
    feed writers commit in id order (``bonafides.store.feed``), so a page that is not
    full may move the cursor to the head and a narrow reader does not scan the same
    skipped events again.
    """
    if after < 0 or not 1 <= limit <= most:
        raise ValueError(f"after must be 0 or more and limit 1 to {most}")
    scope = scope or scope_for(session, catalogue, principal)
    head = feed.last_id(session)
    found = feed.read_events(session, scope, after=after, limit=limit, upto=head)
    shown = []
    private: dict[int, list[int]] = {}
    known: Allowed = {}
    for event in found:
        cursor, kind, at, origin, subject_id, code, record_id, version, entry_id = tuple(event)[:9]
        shown.append(
            ShownEvent(
                cursor,
                kind,
                at,
                origin,
                event.tombstone,
                event.disclosure,
                code,
                record_id,
                version,
                entry_id,
                shown_payload(catalogue, event, audience_of(scope, event), known),
            )
        )
        if not event.is_public and subject_id is not None:
            private.setdefault(subject_id, []).append(cursor)
    full = len(found) == limit
    next_cursor = found[-1].id if full else max(after, head)
    if private:
        _log(session, principal, private, after=after, next_cursor=next_cursor)
    return FeedPage(shown, next_cursor, full)


def read_feed(
    unit: UnitOfWork,
    catalogue: Catalogue,
    principal: Principal,
    *,
    after: int,
    limit: int,
    scope: FeedScope | None = None,
    most: int = MAX_LIMIT,
) -> FeedPage:
    """``read`` as a use case: the page, with its access log committed."""
    return run(
        unit,
        lambda session: read(
            session, catalogue, principal, after=after, limit=limit, scope=scope, most=most
        ),
    )


def compact(unit: UnitOfWork, principal: Principal, *, before: dt.datetime, days: int) -> int:
    """Drop the superseded events older than ``before`` (``days`` ago); every tombstone
    stays, and cursors stay valid. Returns how many went."""

    def act(session: Session) -> int:
        removed = compact_events(session, before=before)
        audit.append(
            session,
            actor=principal.actor,
            tag="feed:events:compacted",
            object_ref=f"feed before {before.isoformat()}",
            detail={"removed": removed, "older_than_days": days},
        )
        return removed

    return run(unit, act)


def _log(
    session: Session,
    principal: Principal,
    private: dict[int, list[int]],
    *,
    after: int,
    next_cursor: int,
) -> None:
    events = sum(len(ids) for ids in private.values())
    logged = audit.append(
        session,
        actor=principal.actor,
        tag=READ_TAG,
        object_ref=f"feed after {after} to {next_cursor}",
        purpose="change feed",
        detail={
            "role": principal.role.value,
            "department": principal.department,
            "events": events,
            "subjects": len(private),
            "subjects_digest": subjects_digest(private),
        },
    )
    link_each(
        session,
        logged.id,
        {sid: f"feed events {ids[0]}..{ids[-1]}"[:200] for sid, ids in private.items()},
    )
