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
from bonafides.store.access import link_subjects, subjects_digest
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


class ShownEvent:
    """One event as its reader may see it, held as the JSON text ``GET /api/v1/feed``
    sends: most are built by the store (``store.feed.read_events_text``) and passed on
    as they came, never decoded; the fields are read from the text when asked."""

    __slots__ = ("_head", "cursor", "decoded", "text")

    def __init__(self, cursor: int, text: str, *, decoded: bool = False) -> None:
        self.cursor = cursor
        #: The event as JSON text: its head, then its payload.
        self.text = text
        #: Whether the payload was decoded and stripped here (not cut by the store).
        self.decoded = decoded
        self._head: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        cursor: int,
        kind: str,
        occurred_at: dt.datetime,
        origin: str,
        tombstone: bool,
        disclosure: str,
        subject_code: str | None,
        record_id: int | None,
        record_version: int | None,
        list_entry_id: int | None,
        payload: dict[str, Any] | StoredJSON,
    ) -> ShownEvent:
        """An event built here from its fields, written as the store writes its text."""
        stored = isinstance(payload, StoredJSON)
        shown = payload.text if isinstance(payload, StoredJSON) else _dumps(payload)
        text = _text
        return cls(
            cursor,
            f'{{"cursor":{cursor},"kind":{text(kind)},'
            f'"occurred_at":{text(occurred_at.isoformat())},"origin":{text(origin)},'
            f'"tombstone":{_BOOL[tombstone]},"disclosure":{text(disclosure)},'
            f'"subject_code":{_text_or_null(subject_code)},'
            f'"record_id":{_int_or_null(record_id)},'
            f'"record_version":{_int_or_null(record_version)},'
            f'"list_entry_id":{_int_or_null(list_entry_id)},"payload":{shown}}}',
            decoded=not stored,
        )

    @classmethod
    def headed(cls, cursor: int, head: str, payload: dict[str, Any] | StoredJSON) -> ShownEvent:
        """An event from its head as the store keeps it (``FeedEvent.head_text``)."""
        shown = payload.text if isinstance(payload, StoredJSON) else _dumps(payload)
        return cls(
            cursor,
            f'{{"cursor":{cursor}{head}{shown}}}',
            decoded=not isinstance(payload, StoredJSON),
        )

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (decoded afresh: the caller may change it)."""
        found: dict[str, Any] = json.loads(self.text)
        return found

    def to_json_text(self) -> str:
        return self.text

    @property
    def payload(self) -> StoredJSON:
        """The payload's text, as the event holds it."""
        return StoredJSON(self.text[self.text.index(_PAYLOAD) + len(_PAYLOAD) : -1])

    def payload_object(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.payload.text)
        return found

    def _field(self, name: str) -> Any:
        if self._head is None:
            self._head = json.loads(self.text[: self.text.index(_PAYLOAD)] + "}")
        return self._head[name]

    @property
    def kind(self) -> str:
        return str(self._field("kind"))

    @property
    def occurred_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self._field("occurred_at"))

    @property
    def origin(self) -> str:
        return str(self._field("origin"))

    @property
    def tombstone(self) -> bool:
        return bool(self._field("tombstone"))

    @property
    def disclosure(self) -> str:
        return str(self._field("disclosure"))

    @property
    def subject_code(self) -> str | None:
        found: str | None = self._field("subject_code")
        return found

    @property
    def record_id(self) -> int | None:
        found: int | None = self._field("record_id")
        return found

    @property
    def record_version(self) -> int | None:
        found: int | None = self._field("record_version")
        return found

    @property
    def list_entry_id(self) -> int | None:
        found: int | None = self._field("list_entry_id")
        return found


#: Where an event's payload starts in its text: the head's keys come first, and its
#: string values are JSON strings, in which a bare ``"`` cannot occur.
_PAYLOAD = ',"payload":'


@dataclass(frozen=True)
class FeedPage:
    events: list[ShownEvent]
    #: Ask with ``after=next_cursor`` for what follows; never lower than the cursor given.
    next_cursor: int
    #: Whether more events may already be there (the page is full).
    more: bool

    def to_json_text(self) -> str:
        """The page as ``GET /api/v1/feed`` answers it, assembled from the events' text
        in one ``join``: a page is a megabyte or two, and each string built of the
        whole of it (a ``+`` after the ``join``) cost ten times the ``join``, the memory
        being fresh every time."""
        rest = _dumps({"next_cursor": self.next_cursor, "more": self.more})[1:]
        texts = [e.text for e in self.events]
        if not texts:
            return '{"events":[],' + rest
        texts[0] = '{"events":[' + texts[0]
        texts[-1] = texts[-1] + "]," + rest
        return ",".join(texts)


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
    # Comprehensions, not one loop: a page is read per event in Python, and only here.
    missing = [cursor for cursor, _, _, text in found if text is None]
    if missing:
        built = _built(session, catalogue, scope, wanted, missing)
        shown = [built[c] if t is None else ShownEvent(c, t) for c, _, _, t in found]
    else:
        shown = [ShownEvent(c, t) for c, _, _, t in found if t is not None]
    private = [s for _, s, public, _ in found if not public and s is not None]
    full = len(found) == limit
    next_cursor = found[-1][0] if full else max(after, head)
    if private:
        last = found[-1][0]
        _log(session, principal, scope, private, after=after, last=last, next_cursor=next_cursor)
    return FeedPage(shown, next_cursor, full)


def _built(
    session: Session,
    catalogue: Catalogue,
    scope: FeedScope,
    wanted: feed.ShownText,
    ids: list[int],
) -> dict[int, ShownEvent]:
    """The events the store gave no text for, built here: a subject's own events (its
    audience is not the page's), or events without the payload text the page shows;
    each with its head as kept, built here only for an event kept without one."""
    audience = main_audience(scope)
    known: Allowed = {}
    built = {}
    for event in feed.read_events_by_id(session, wanted, ids):
        (cursor, kind, at, origin, _, code, record_id, version, entry_id, _, disclosure,
         _, tombstone, head, stored, text) = tuple(event)  # fmt: skip
        own = audience_of(scope, event) if wanted.mixed else audience
        payload: dict[str, Any] | StoredJSON
        if text is not None and own is audience:
            payload = StoredJSON(text)
        else:
            payload = shown_payload(catalogue, _Decoded(json.loads(stored), tombstone), own, known)
        if head is not None:
            built[cursor] = ShownEvent.headed(cursor, head, payload)
            continue
        built[cursor] = ShownEvent.of(
            cursor, kind, at, origin, tombstone, disclosure, code, record_id, version, entry_id,
            payload,
        )  # fmt: skip
    return built


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
    scope: FeedScope,
    private: list[int],
    *,
    after: int,
    last: int,
    next_cursor: int,
) -> None:
    """Audit a read of the non-public events of ``private`` (their subjects, one per
    event) after ``after`` up to ``last`` (the page's last event): one event, linked to
    each subject in SQL from the events read (``store.feed.private_subjects``)."""
    subjects = set(private)
    logged = audit.append(
        session,
        actor=principal.actor,
        tag=READ_TAG,
        object_ref=f"feed after {after} to {next_cursor}",
        purpose="change feed",
        detail={
            "role": principal.role.value,
            "department": principal.department,
            "events": len(private),
            "subjects": len(subjects),
            "subjects_digest": subjects_digest(subjects),
        },
    )
    link_subjects(session, logged.id, feed.private_subjects(scope, after=after, upto=last))
