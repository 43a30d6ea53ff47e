"""The change feed: one row per change a consumer may see, written with the change.

Every write path calls one of the ``emit_*`` functions inside its own transaction, so a
change that rolls back leaves no event and no event tells of a change that did not
happen. The statements are set-based (``INSERT ... SELECT`` over the rows just written),
so a batch of a million decisions appends its events in a handful of statements.

The event id is the cursor. On PostgreSQL ids are drawn from a sequence before commit,
so two writers could commit out of id order and a reader between the two commits would
step over the lower id for good; every emission therefore first takes the row lock on
the audit chain's head (which every write path takes anyway, to append its audit
event), so feed writers commit one at a time, in id order. SQLite has one writer at a
time already.

Whether the public may see an event is decided here, once, when it is written:

- an event that a record or a list entry exists (published, amended, started): the
  public rule (``bonafides.disclosure.public_clause``) on the state it describes;
- a removal (a tombstone: revoked, repaired, expired, publication ended, entry ended):
  whether any earlier event about the same record or entry was public, so everyone who
  may hold a copy learns that it is gone, and nobody learns of a removal of something
  they were never shown.

What else an audience may see (its disclosure classes, its own department's decisions,
its own file) is the reader's filter (``FeedScope``); which content fields it may see is
``bonafides.exchange.feed``'s, from the catalogue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Select

from bonafides.disclosure import SHARED_CLASS
from bonafides.records import RecordStatus
from bonafides.settings import get_settings
from bonafides.store.disclosure import record_is_public
from bonafides.store.tables import FeedEvent, ListEntry, Record, RecordType, Subject
from bonafides.store.types import UTCDateTime, utcnow


class Kind(StrEnum):
    RECORD_PUBLISHED = "record.published"
    RECORD_AMENDED = "record.amended"
    RECORD_REVOKED = "record.revoked"
    RECORD_REPAIRED = "record.repaired"
    RECORD_EXPIRED = "record.expired"
    RECORD_PUBLICATION_ENDED = "record.publication_ended"
    ENTRY_STARTED = "list_entry.started"
    ENTRY_ENDED = "list_entry.ended"
    SUBJECT_RENAMED = "subject.renamed"
    SUBJECT_DEREGISTERED = "subject.deregistered"


#: Events that tell a copy to drop what it holds.
TOMBSTONES = frozenset(
    {
        Kind.RECORD_REVOKED,
        Kind.RECORD_REPAIRED,
        Kind.RECORD_EXPIRED,
        Kind.RECORD_PUBLICATION_ENDED,
        Kind.ENTRY_ENDED,
    }
)

#: The event a status change is; any other status leaves the record in force (amended).
_STATUS_KINDS = {
    RecordStatus.REVOKED: Kind.RECORD_REVOKED,
    RecordStatus.REPAIRED: Kind.RECORD_REPAIRED,
    RecordStatus.EXPIRED: Kind.RECORD_EXPIRED,
}

#: The disclosure class of subject events: authorities may see them, the public only
#: where it was shown the subject before.
SUBJECT_DISCLOSURE = SHARED_CLASS

_COLUMNS = (
    "kind",
    "occurred_at",
    "origin",
    "subject_id",
    "subject_code",
    "record_id",
    "record_version",
    "list_entry_id",
    "source",
    "disclosure",
    "is_public",
    "tombstone",
    "payload",
)


def kind_of_status(status: RecordStatus) -> Kind:
    return _STATUS_KINDS.get(status, Kind.RECORD_AMENDED)


def origin() -> str:
    """This instance's name (``BONAFIDES_INSTANCE``), the origin of the events it writes."""
    return get_settings().instance


def office_day(at: dt.datetime) -> dt.date:
    """The office's day of ``at`` (``BONAFIDES_TIMEZONE``): the day the public rule asks."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def _serialise(session: Session) -> None:
    """Hold the audit head's row lock until commit (PostgreSQL): see the module text."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))


def _object(session: Session, pairs: Sequence[tuple[str, Any]]) -> ColumnElement[Any]:
    """A JSON object built by the database from columns, on either store."""
    postgres = session.connection().dialect.name == "postgresql"
    args: list[Any] = []
    for key, value in pairs:
        args.append(literal(key, String()))
        args.append(value)
    return (func.jsonb_build_object if postgres else func.json_object)(*args)


def _json_column(session: Session, column: Any) -> Any:
    """A JSON column as a value inside ``_object`` (SQLite keeps JSON as text)."""
    return column if session.connection().dialect.name == "postgresql" else func.json(column)


def _subject_payload(session: Session) -> ColumnElement[Any]:
    return _object(
        session,
        [
            ("id", Subject.id),
            ("kind", Subject.kind),
            ("code", Subject.code_display),
            ("name", Subject.name),
            ("name_en", Subject.name_en),
            ("region", Subject.region),
        ],
    )


def _record_payload(session: Session) -> ColumnElement[Any]:
    return _object(
        session,
        [
            ("id", Record.id),
            ("type_code", Record.type_code),
            ("source", Record.source),
            ("decision_no", Record.decision_no),
            ("decision_date", Record.decision_date),
            ("status", Record.status),
            ("severity", Record.severity),
            ("legal_basis", Record.legal_basis),
            ("published_until", Record.published_until),
            ("retention_until", Record.retention_until),
            ("version", _version()),
            ("content", _json_column(session, Record.content)),
            ("content_digest", Record.content_digest),
        ],
    )


def _version() -> ColumnElement[int]:
    """A record's version where it was decided: a copy's version at its origin."""
    return func.coalesce(Record.origin_version, Record.version)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return case((condition, true()), else_=literal(False, Boolean()))


def _shown_before(column: Any) -> ColumnElement[bool]:
    """Whether an earlier event about the same record (``Record.id``) or the same list
    entry (``ListEntry.id``) was public."""
    earlier = aliased(FeedEvent)
    if column is Record.id:
        same = and_(earlier.record_id == Record.id, earlier.list_entry_id.is_(None))
    else:
        same = earlier.list_entry_id == column
    return exists(select(earlier.id).where(same, earlier.is_public))


def _head(kind: Kind, at: dt.datetime, of_record: bool = False) -> list[Any]:
    """The kind, time and origin of an event; an event about a record names the
    instance where the record was decided (a copy keeps its origin, ``Record.origin``)."""
    here: ColumnElement[str] = literal(origin(), String())
    return [
        literal(kind.value, String()),
        literal(at, UTCDateTime()),
        func.coalesce(Record.origin, here) if of_record else here,
    ]


def emit_records(
    session: Session,
    kind: Kind,
    which: ColumnElement[bool],
    *,
    at: dt.datetime | None = None,
) -> int:
    """One ``kind`` event for each record matching ``which`` (a condition on ``Record``),
    describing it as it stands now in this transaction. Returns the events written."""
    at = at or utcnow()
    _serialise(session)
    tombstone = kind in TOMBSTONES
    public = _shown_before(Record.id) if tombstone else record_is_public(office_day(at))
    rows: Select[Any] = (
        select(
            *_head(kind, at, of_record=True),
            Record.subject_id,
            Subject.code_display,
            Record.id,
            _version(),
            literal(None, Integer()),
            Record.source,
            RecordType.disclosure,
            _flag(public),
            literal(tombstone, Boolean()),
            _object(
                session,
                [("record", _record_payload(session)), ("subject", _subject_payload(session))],
            ),
        )
        .select_from(Record)
        .join(RecordType, RecordType.code == Record.type_code)
        .join(Subject, Subject.id == Record.subject_id)
        .where(which)
        .order_by(Record.id)
    )
    return _insert(session, rows)


def emit_entries(
    session: Session,
    kind: Kind,
    which: ColumnElement[bool],
    *,
    at: dt.datetime | None = None,
) -> int:
    """One ``kind`` event for each list entry matching ``which`` (a condition on
    ``ListEntry``), public as the entry is on the public list pages."""
    at = at or utcnow()
    _serialise(session)
    tombstone = kind in TOMBSTONES
    public = _shown_before(ListEntry.id) if tombstone else record_is_public(office_day(at))
    entry = _object(
        session,
        [
            ("id", ListEntry.id),
            ("list_code", ListEntry.list_code),
            ("line", ListEntry.line),
            ("valid_from", ListEntry.valid_from),
            ("valid_until", ListEntry.valid_until),
            ("until_basis", ListEntry.until_basis),
            ("reason", ListEntry.reason),
            ("trigger_record_id", ListEntry.trigger_record_id),
        ],
    )
    record = _object(
        session,
        [
            ("id", Record.id),
            ("type_code", Record.type_code),
            ("source", Record.source),
            ("decision_no", Record.decision_no),
            ("decision_date", Record.decision_date),
        ],
    )
    rows: Select[Any] = (
        select(
            *_head(kind, at),
            ListEntry.subject_id,
            Subject.code_display,
            Record.id,
            Record.version,
            ListEntry.id,
            Record.source,
            RecordType.disclosure,
            _flag(public),
            literal(tombstone, Boolean()),
            _object(
                session,
                [("entry", entry), ("record", record), ("subject", _subject_payload(session))],
            ),
        )
        .select_from(ListEntry)
        .join(Record, Record.id == ListEntry.trigger_record_id)
        .join(RecordType, RecordType.code == Record.type_code)
        .join(Subject, Subject.id == ListEntry.subject_id)
        .where(which)
        .order_by(ListEntry.id)
    )
    return _insert(session, rows)


def _insert(session: Session, rows: Select[Any]) -> int:
    """Append the rows; the count is the growth of the highest id, since writers hold
    the lock (``_serialise``) and the ids they draw follow each other (PostgreSQL does
    not report the rows of an ``INSERT ... SELECT`` through every driver)."""
    before = last_id(session)
    session.connection().execute(insert(FeedEvent).from_select(list(_COLUMNS), rows))
    return last_id(session) - before


def name_origins(session: Session, record_ids: Sequence[int], *, after: int) -> None:
    """Make the record events written after the cursor ``after`` about ``record_ids``
    name each record's origin and its version there (``Record.origin``), as
    ``emit_records`` would have had the records known them when it wrote: a copy stored
    through the submission path learns its origin only after its events are written.
    """
    postgres = session.connection().dialect.name == "postgresql"
    version = _version()
    payload = (
        func.jsonb_set(
            FeedEvent.payload,
            literal(["record", "version"], ARRAY(String())),
            func.to_jsonb(version),
        )
        if postgres
        else func.json_set(FeedEvent.payload, literal("$.record.version"), version)
    )
    session.connection().execute(
        update(FeedEvent)
        .where(
            FeedEvent.id > after,
            FeedEvent.record_id == Record.id,
            FeedEvent.list_entry_id.is_(None),
            Record.id.in_(list(record_ids)),
            Record.origin.is_not(None),
        )
        .values(origin=Record.origin, record_version=version, payload=payload)
    )


def emit_subject(
    session: Session,
    kind: Kind,
    subject_id: int,
    payload: dict[str, Any],
    *,
    at: dt.datetime | None = None,
) -> int:
    """One event about a subject itself (renamed, deregistered), for the register of
    subjects to call where it makes the change. ``payload`` says what changed (e.g.
    ``{"name": {"from": ..., "to": ...}}``); the subject's identity is added to it.

    Public when the public was shown something about the subject before; authorities
    see every subject event.
    """
    at = at or utcnow()
    _serialise(session)
    shown = exists(
        select(FeedEvent.id).where(FeedEvent.subject_id == subject_id, FeedEvent.is_public)
    )
    rows: Select[Any] = select(
        *_head(kind, at),
        Subject.id,
        Subject.code_display,
        literal(None, Integer()),
        literal(None, Integer()),
        literal(None, Integer()),
        literal(None, String()),
        literal(SUBJECT_DISCLOSURE, String()),
        _flag(shown),
        literal(False, Boolean()),
        _object(
            session,
            [
                ("subject", _subject_payload(session)),
                ("change", _json_column(session, literal(payload, FeedEvent.payload.type))),
            ],
        ),
    ).where(Subject.id == subject_id)
    return _insert(session, rows)


def end_publications(
    session: Session, *, today: dt.date | None = None, at: dt.datetime | None = None
) -> int:
    """Tombstones for records the public was shown and may see no more, though no status
    change said so: the publication period ran out, or an amendment ended it.

    Safe to repeat: a record gets one such tombstone per stretch of being public (an
    event shown to the public after its last tombstone). Run daily (``bonafides records
    expire`` does).
    """
    at = at or utcnow()
    today = today or office_day(at)
    shown = aliased(FeedEvent)
    dropped = aliased(FeedEvent)
    last_shown = (
        select(func.max(shown.id))
        .where(shown.record_id == Record.id, shown.is_public, not_(shown.tombstone))
        .scalar_subquery()
    )
    last_dropped = (
        select(func.coalesce(func.max(dropped.id), 0))
        .where(dropped.record_id == Record.id, dropped.tombstone, dropped.list_entry_id.is_(None))
        .scalar_subquery()
    )
    candidates = select(FeedEvent.record_id).where(
        FeedEvent.is_public, not_(FeedEvent.tombstone), FeedEvent.list_entry_id.is_(None)
    )
    which = and_(
        Record.id.in_(candidates),
        last_shown > last_dropped,
        not_(record_is_public(today)),
    )
    return emit_records(session, Kind.RECORD_PUBLICATION_ENDED, which, at=at)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class FeedScope:
    """Which events one reader may see, beyond the public ones.

    ``everything`` for an operator; ``classes`` the disclosure classes of an authority's
    audience; ``sources`` the departments whose decisions it made (its own and those under
    it, whatever their class); ``subject_id`` a subject's own file; ``watching`` narrows
    the feed to some subjects (a watchlist), whatever else the scope allows.
    """

    everything: bool = False
    classes: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    subject_id: int | None = None
    watching: Iterable[int] | Select[Any] | None = None

    def clause(self) -> ColumnElement[bool]:
        allowed: ColumnElement[bool]
        if self.everything:
            allowed = true()
        else:
            wider: list[ColumnElement[bool]] = [FeedEvent.is_public.is_(True)]
            if self.classes:
                wider.append(FeedEvent.disclosure.in_(sorted(self.classes)))
            if self.sources:
                wider.append(FeedEvent.source.in_(sorted(self.sources)))
            if self.subject_id is not None:
                wider.append(FeedEvent.subject_id == self.subject_id)
            allowed = or_(*wider) if len(wider) > 1 else wider[0]
        if self.watching is not None:
            watched: Any = (
                self.watching if isinstance(self.watching, Select) else list(self.watching)
            )
            allowed = and_(allowed, FeedEvent.subject_id.in_(watched))
        return allowed


PUBLIC_SCOPE = FeedScope()


#: What a reader gets of each event: plain rows, no ORM objects (a feed page of a thousand
#: events is read many times a second by many consumers).
EVENT_COLUMNS = (
    FeedEvent.id,
    FeedEvent.kind,
    FeedEvent.occurred_at,
    FeedEvent.origin,
    FeedEvent.subject_id,
    FeedEvent.subject_code,
    FeedEvent.record_id,
    FeedEvent.record_version,
    FeedEvent.list_entry_id,
    FeedEvent.source,
    FeedEvent.disclosure,
    FeedEvent.is_public,
    FeedEvent.tombstone,
    FeedEvent.payload,
)


def read_events(
    session: Session, scope: FeedScope, *, after: int, limit: int, upto: int | None = None
) -> list[Row[Any]]:
    """Up to ``limit`` events after the cursor ``after`` (and up to ``upto``) that
    ``scope`` may see, in order."""
    bounds = [FeedEvent.id > after]
    if upto is not None:
        bounds.append(FeedEvent.id <= upto)
    query = select(*EVENT_COLUMNS).where(*bounds, scope.clause()).order_by(FeedEvent.id)
    # Through the connection: the ORM's result machinery would cost more than the rows.
    return list(session.connection().execute(query.limit(limit)).all())


def last_id(session: Session) -> int:
    """The newest event's id: a reader that saw everything up to it resumes after it."""
    found = session.connection().execute(select(func.max(FeedEvent.id))).scalar_one()
    return int(found or 0)


def compact(session: Session, *, before: dt.datetime) -> int:
    """Drop events written before ``before`` that a later event about the same record or
    entry makes redundant, keeping every tombstone. A reader at any cursor still gets,
    for each record and entry, the last state or its removal. Returns the rows removed.
    """
    later = aliased(FeedEvent)
    same_record = and_(
        later.record_id == FeedEvent.record_id,
        later.list_entry_id.is_(None),
        FeedEvent.list_entry_id.is_(None),
    )
    same_entry = later.list_entry_id == FeedEvent.list_entry_id
    # A public event goes only for a later public one: a removal's tombstone is public
    # when something before it was (``_shown_before``), and must stay so.
    superseded = exists(
        select(later.id).where(
            later.id > FeedEvent.id,
            or_(same_record, same_entry),
            or_(not_(FeedEvent.is_public), later.is_public),
        )
    )
    victims = select(FeedEvent.id).where(
        FeedEvent.occurred_at < before,
        not_(FeedEvent.tombstone),
        FeedEvent.record_id.is_not(None),
        superseded,
    )
    ids = [int(i) for i in session.scalars(victims)]
    for start in range(0, len(ids), 1000):
        session.execute(delete(FeedEvent).where(FeedEvent.id.in_(ids[start : start + 1000])))
    return len(ids)
