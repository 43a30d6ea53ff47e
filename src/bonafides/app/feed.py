"""Reading the change feed: one use case for the API and the CLI alike.

A reader gets the events its scope allows after its cursor, each stripped to what its
audience may read, and the cursor to ask with next. Reading events that are not public
is a read of non-public data (principle 6): it appends one audit event, linked to every
subject whose non-public events were read, so each subject's access log shows it, and
``read_feed`` commits it with the read. Compacting the feed is the operator's use case.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import Catalogue
from bonafides.disclosure import Audience
from bonafides.exchange.feed import (
    Allowed,
    allowed_fields,
    audience_of,
    main_audience,
    scope_for,
    shown_payload,
)
from bonafides.security import audit
from bonafides.security.roles import Principal
from bonafides.store import feed
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.feed import FeedScope
from bonafides.store.feed import compact as compact_events

MAX_LIMIT = 1000
READ_TAG = "feed:events:read"


@dataclass(frozen=True)
class StoredJSON:
    """A payload as the store holds it (JSON text), already cut to what its reader may
    see: passed on as text, so a page of events is never decoded and encoded again."""

    text: str


@dataclass(frozen=True)
class _Decoded:
    """An event's payload decoded, for ``shown_payload`` to strip in Python."""

    payload: dict[str, Any]
    tombstone: bool


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
    payload: dict[str, Any] | StoredJSON

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (the payload decoded)."""
        return {**self._head(), "payload": self.payload_object()}

    def payload_object(self) -> dict[str, Any]:
        if isinstance(self.payload, StoredJSON):
            found: dict[str, Any] = json.loads(self.payload.text)
            return found
        return self.payload

    def to_json_text(self) -> str:
        """The event as JSON text, the payload spliced in as the store gave it: the same
        object as ``to_json``, as FastAPI would encode it."""
        if isinstance(self.payload, StoredJSON):
            payload = self.payload.text
        else:
            payload = _dumps(self.payload)
        text = _text
        return (
            f'{{"cursor":{self.cursor},"kind":{text(self.kind)},'
            f'"occurred_at":{text(self.occurred_at.isoformat())},"origin":{text(self.origin)},'
            f'"tombstone":{_BOOL[self.tombstone]},"disclosure":{text(self.disclosure)},'
            f'"subject_code":{_text_or_null(self.subject_code)},'
            f'"record_id":{_int_or_null(self.record_id)},'
            f'"record_version":{_int_or_null(self.record_version)},'
            f'"list_entry_id":{_int_or_null(self.list_entry_id)},"payload":{payload}}}'
        )

    def _head(self) -> dict[str, Any]:
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
        }


@dataclass(frozen=True)
class FeedPage:
    events: list[ShownEvent]
    #: Ask with ``after=next_cursor`` for what follows; never lower than the cursor given.
    next_cursor: int
    #: Whether more events may already be there (the page is full).
    more: bool

    def to_json_text(self) -> str:
        """The page as ``GET /api/v1/feed`` answers it, assembled from the events' text."""
        events = ",".join(e.to_json_text() for e in self.events)
        rest = _dumps({"next_cursor": self.next_cursor, "more": self.more})[1:]
        return '{"events":[' + events + "]," + rest


#: A JSON string as ``json.dumps(..., ensure_ascii=False)`` writes it (its C encoder).
_text: Any = encode_basestring
_BOOL = {True: "true", False: "false"}


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else str(_text(value))


def _int_or_null(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _dumps(value: Any) -> str:
    """JSON as FastAPI encodes an answer (``JSONResponse``)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


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
    audience = main_audience(scope)
    # Every event but a subject's own is read by the scope's main audience.
    mixed = scope.subject_id is not None
    if audience is Audience.PUBLIC:
        wanted = feed.ShownText(public=True, mixed=mixed)
    elif audience is Audience.AUTHORITY:
        wanted = feed.ShownText(allowed=allowed_fields(catalogue, audience), mixed=mixed)
    else:
        wanted = feed.ShownText(mixed=mixed)
    found = feed.read_events_text(session, scope, wanted, after=after, limit=limit, upto=head)
    shown = []
    private: dict[int, list[int]] = {}
    known: Allowed = {}
    for event in found:
        (cursor, kind, at, origin, subject_id, code, record_id, version, entry_id, _, disclosure,
         public, tombstone, stored, text) = tuple(event)  # fmt: skip
        own = audience_of(scope, event) if mixed else audience
        payload: dict[str, Any] | StoredJSON
        if text is not None and own is audience:
            payload = StoredJSON(text)
        else:
            payload = shown_payload(catalogue, _Decoded(json.loads(stored), tombstone), own, known)
        shown.append(
            ShownEvent(
                cursor,
                kind,
                at,
                origin,
                tombstone,
                disclosure,
                code,
                record_id,
                version,
                entry_id,
                payload,
            )
        )
        if not public and subject_id is not None:
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
