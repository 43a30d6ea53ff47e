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
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Select

from bonafides.disclosure import PUBLIC_CLASSES, SHARED_CLASS
from bonafides.records import RecordStatus, SubjectKind
from bonafides.settings import get_settings
from bonafides.store.disclosure import record_is_public
from bonafides.store.tables import (
    CatalogueVersion,
    FeedEvent,
    ListEntry,
    Record,
    RecordType,
    Subject,
)
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


def _fixed(kind: Kind, at: dt.datetime, of_record: bool = False) -> dict[str, str]:
    """The head keys every event of one statement shares, as JSON text (``head_text``):
    its kind, time and removal flag, and its origin unless it is a record's (``_head``).
    The time is spelt as the reader spells the stored one (``datetime.isoformat`` in
    UTC); kinds and instance names are plain ASCII (``Settings.instance``)."""
    fixed = {
        "kind": json.dumps(kind.value),
        "occurred_at": json.dumps(at.astimezone(dt.UTC).isoformat()),
        "tombstone": json.dumps(kind in TOMBSTONES),
    }
    if not of_record:
        fixed["origin"] = json.dumps(origin())
    return fixed


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
    )
    return _insert(session, rows, _fixed(kind, at, of_record=True), order="record_id")


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
    )
    return _insert(session, rows, _fixed(kind, at), order="list_entry_id")


def _insert(
    session: Session, rows: Select[Any], fixed: Mapping[str, str], order: str | None = None
) -> int:
    """Append the rows (``_COLUMNS``, in order of the column ``order``), each with its
    head as text (``head_text``, ``fixed`` its keys shared by every row) and each public
    one with its public payload. Returns the rows written (not the growth of the highest
    id: a sequence has gaps).

    The head and the public payload are made in the same statement, from the event's
    columns under the name ``feed_events`` (what ``fill_heads`` and
    ``fill_public_payloads`` read): written afterwards by an ``UPDATE``, every new row
    was written twice, with its indexes; built when read, the head cost more than the
    read itself. The subquery has an ``OFFSET``, so that neither store merges it into
    the outer query: merged, each of the cut's dozen mentions of ``payload`` built the
    payload again (three times the database's CPU for 5,000 public events).

    The subquery is the one ordered: SQLite then reads the rows in that order through
    the key they are found by (a list's new entries by their id) and inserts them as
    they come, where an order outside it sorted every event, payload and all, in a
    temporary B-tree. PostgreSQL keeps the outer order too, which the subquery's
    sorted rows already meet (one sort, as before).
    """
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    labelled = [c.label(name) for c, name in zip(rows.selected_columns, _COLUMNS, strict=True)]
    inner = rows.with_only_columns(*labelled)
    if order is not None:
        inner = inner.order_by(labelled[_COLUMNS.index(order)])
    event = inner.offset(0).subquery("feed_events")
    written = select(
        *(event.c[name] for name in _COLUMNS),
        text(head_text(postgres, fixed, bound=True)).bindparams(
            bindparam("head_template", head_template(fixed), String())
        ),
        _public_payload(conn, ifpublic=True),
    )
    if order is not None and postgres:
        written = written.order_by(event.c[order])
    result = conn.execute(
        insert(FeedEvent).from_select([*_COLUMNS, "head_text", "public_payload"], written),
        execution_options={"preserve_rowcount": True},
    )
    return int(result.rowcount)


def name_origins(session: Session, record_ids: Sequence[int], *, after: int) -> None:
    """Make the record events written after the cursor ``after`` about ``record_ids``
    name each record's origin and its version there (``Record.origin``), as
    ``emit_records`` would have had the records known them when it wrote: a copy stored
    through the submission path learns its origin only after its events are written.

    The version is set in the public payload too, in the same statement, not by building
    the public payload again (``fill_public_payloads``, the costliest statement of a
    sync's batch): the version is the only part of it that changes, and setting a key
    gives the text building it would (PostgreSQL's ``jsonb`` text, SQLite's minified
    JSON with the key where it was).
    """
    postgres = session.connection().dialect.name == "postgresql"
    version = _version()
    path = literal(["record", "version"], ARRAY(String()))
    payload = (
        func.jsonb_set(FeedEvent.payload, path, func.to_jsonb(version))
        if postgres
        else func.json_set(FeedEvent.payload, literal("$.record.version"), version)
    )
    public = (
        func.jsonb_set(FeedEvent.public_payload.cast(JSONB), path, func.to_jsonb(version)).cast(
            Text
        )
        if postgres
        else func.json_set(FeedEvent.public_payload, literal("$.record.version"), version)
    )
    # The head names the origin and the version: made again from the values set here.
    head = head_text(
        postgres,
        origin="records.origin",
        record_version="coalesce(records.origin_version, records.version)",
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
        .values(
            origin=Record.origin,
            record_version=version,
            payload=payload,
            public_payload=public,
            head_text=literal_column(head),
        )
    )


#: Whitespace ``str.strip`` takes off a name before it is masked, for the store to do
#: the same (``bonafides.disclosure.mask_name``).
_BLANKS = " \t\n\r\f\v\u00a0\u3000"


def public_fields(conn: Connection) -> dict[str, list[str]]:
    """The content fields the public reads, per record type in the store (the catalogue
    as synchronised, ``record_types.definition``): fields with no disclosure class or
    the public one, never a field that carries a subject's code (as
    ``Catalogue.public_fields`` less ``subject_code_fields``)."""
    versions = select(CatalogueVersion.version, CatalogueVersion.digest)
    loaded = tuple(tuple(row) for row in conn.execute(versions.order_by(CatalogueVersion.version)))
    known = _PUBLIC_FIELDS.get(loaded)
    if known is not None:
        return known
    found: dict[str, list[str]] = {}
    for code, definition in conn.execute(select(RecordType.code, RecordType.definition)):
        codes = set(definition.get("subject_code_fields") or ())
        found[str(code)] = sorted(
            f["name"]
            for f in definition.get("fields") or ()
            if (f.get("disclosure") is None or f["disclosure"] in PUBLIC_CLASSES)
            and f["name"] not in codes
        )
    _PUBLIC_FIELDS.clear()
    _PUBLIC_FIELDS[loaded] = found
    return found


#: ``public_fields`` of the catalogues last loaded (their versions and digests): reading
#: every type's definition costs more than a small write's own statements.
_PUBLIC_FIELDS: dict[tuple[Any, ...], dict[str, list[str]]] = {}


def fill_public_payloads(conn: Connection, *, after: int) -> None:
    """Write ``public_payload`` for the public events after the cursor ``after``: the
    payload as ``bonafides.exchange.feed`` shows it to the public, built in the database
    in one statement. ``_insert`` writes it with the event (``_public_payload``);
    ``name_origins`` only sets the version in what it built; this fills the rest."""
    which = [FeedEvent.id > after, FeedEvent.is_public.is_(True)]
    conn.execute(update(FeedEvent).where(*which).values(public_payload=_public_payload(conn)))


def fill_heads(conn: Connection, *, after: int) -> None:
    """Write ``head_text`` for the events after the cursor ``after`` from their columns,
    as ``_insert`` writes it with each event (for a store whose events came before it
    was kept: migration ``0032``)."""
    postgres = conn.dialect.name == "postgresql"
    conn.execute(
        update(FeedEvent)
        .where(FeedEvent.id > after)
        .values(head_text=literal_column(head_text(postgres)))
    )


def _public_payload(conn: Connection, ifpublic: bool = False) -> Any:
    """SQL for an event's public payload (``_masked_sql``) from the columns of
    ``feed_events``; with ``ifpublic``, ``NULL`` for an event the public may not see."""
    postgres = conn.dialect.name == "postgresql"
    masked = _masked_sql(postgres, _cut_sql(postgres, empty_tombstones=True))
    if ifpublic:
        masked = f"CASE WHEN feed_events.is_public THEN {masked} END"
    return text(f"({masked})").bindparams(
        _pairs(postgres, public_fields(conn)),
        bindparam("blanks", _BLANKS, String()),
        bindparam("person", SubjectKind.NATURAL_PERSON.value, String()),
    )


def _masked_sql(postgres: bool, shown: str) -> str:
    """``shown`` (payload text) with a natural person's name masked and its English name
    taken out, as the public lists show a person (``disclosure.mask_name``)."""
    if postgres:
        sql = (
            "CASE WHEN jsonb_typeof(feed_events.payload -> 'subject') = 'object' "
            "AND feed_events.payload #>> '{subject,kind}' = :person THEN "
            f"jsonb_set(jsonb_set(CAST(({shown}) AS jsonb), '{{subject,name}}', to_jsonb("
            "CASE WHEN btrim(coalesce(feed_events.payload #>> '{subject,name}', ''), :blanks) "
            "= '' THEN '' ELSE left(btrim(feed_events.payload #>> '{subject,name}', :blanks), 1)"
            " || repeat('*', greatest(length(btrim(feed_events.payload #>> '{subject,name}', "
            ":blanks)) - 1, 1)) END)), '{subject,name_en}', 'null'::jsonb)::text "
            f"ELSE ({shown}) END"
        )
    else:
        sql = (
            "CASE WHEN json_type(feed_events.payload, '$.subject') = 'object' "
            "AND json_extract(feed_events.payload, '$.subject.kind') = :person THEN "
            f"json_set(({shown}), '$.subject.name', "
            "CASE WHEN trim(coalesce(json_extract(feed_events.payload, '$.subject.name'), ''), "
            ":blanks) = '' THEN '' ELSE substr(trim(json_extract(feed_events.payload, "
            "'$.subject.name'), :blanks), 1, 1) || replace(hex(zeroblob(max(length(trim("
            "json_extract(feed_events.payload, '$.subject.name'), :blanks)) - 1, 1))), "
            f"'00', '*') END, '$.subject.name_en', json('null')) ELSE ({shown}) END"
        )
    return sql


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
    return _insert(session, rows, _fixed(kind, at))


def end_publications(
    session: Session,
    *,
    today: dt.date | None = None,
    at: dt.datetime | None = None,
    among: Select[tuple[int]] | None = None,
) -> int:
    """Tombstones for records the public was shown and may see no more, though no status
    change said so: the publication period ran out, or an amendment ended it.

    Safe to repeat: a record gets one such tombstone per stretch of being public (an
    event shown to the public after its last tombstone). Run daily (``bonafides records
    expire`` does). ``among`` narrows the search to the record ids another engine found
    (``spark.retention``); each is checked here again, in this transaction.
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
        true() if among is None else Record.id.in_(among),
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


#: A row of ``read_events_text``: id, subject_id, is_public (a bool, or 0 or 1 on
#: SQLite), event_text.
TextRow = tuple[int, int | None, bool | int, str | None]


def read_events_text(
    session: Session,
    scope: FeedScope,
    shown: ShownText,
    *,
    after: int,
    limit: int,
    upto: int | None = None,
) -> list[TextRow]:
    """Up to ``limit`` events after ``after`` (and up to ``upto``) that ``scope`` may
    see, in order, each as ``(id, subject_id, is_public, event_text)``: the event as
    JSON text, its head as kept when it was written (``_event_text``) with its payload
    as ``shown`` says (the stored text, the public payload written with the event, or
    the content cut to the fields allowed per type), never decoded.

    ``event_text`` is ``None`` where the reader builds the event itself
    (``read_events_by_id``): a ``mixed`` audience's events of the subject it reads for,
    a public event with no public payload (written before it was kept), an event with
    no head text (a time not stored in the form the text is made from).
    """
    bounds = [FeedEvent.id > after]
    if upto is not None:
        bounds.append(FeedEvent.id <= upto)
    postgres = session.connection().dialect.name == "postgresql"
    event: Any = _event_text(_shown_column(postgres, shown))
    if shown.mixed and scope.subject_id is not None:
        event = case((FeedEvent.subject_id == scope.subject_id, null()), else_=event)
    query = (
        select(FeedEvent.id, FeedEvent.subject_id, FeedEvent.is_public, event.label("event_text"))
        .where(*bounds, scope.clause())
        .order_by(FeedEvent.id)
    )
    # The driver's own tuples: building SQLAlchemy's rows cost more than the statement
    # once the text came ready (SQLite gives ``is_public`` as 0 or 1 this way).
    result = session.connection().execute(query.limit(limit))
    try:
        return cast(list[TextRow], result.cursor.fetchall())
    finally:
        result.close()


def private_subjects(scope: FeedScope, *, after: int, upto: int) -> Select[Any]:
    """``(subject_id, object_ref)`` for each subject of the non-public events after
    ``after`` up to ``upto`` that ``scope`` reads, ``object_ref`` naming the first and
    last of them: the rows a read of those events links to its audit event
    (``store.access.link_subjects``), never passed through Python."""
    return (
        select(FeedEvent.subject_id, _FIRST_TO_LAST)
        .where(
            FeedEvent.id > after,
            FeedEvent.id <= upto,
            scope.clause(),
            not_(FeedEvent.is_public),
            FeedEvent.subject_id.is_not(None),
        )
        .group_by(FeedEvent.subject_id)
    )


#: ``feed events FIRST..LAST`` of a subject's events read (built once: building it
#: costs more than running it).
_FIRST_TO_LAST = func.substr(
    literal("feed events ", String())
    + func.min(FeedEvent.id).cast(String)
    + literal("..", String())
    + func.max(FeedEvent.id).cast(String),
    1,
    200,
)


def read_events_by_id(session: Session, shown: ShownText, ids: Sequence[int]) -> list[Row[Any]]:
    """The events ``ids`` for a reader to build itself (``read_events_text`` gave no
    text): the columns of ``read_events`` with the head as kept (``head_text``), the
    payload as text (``payload_text``) and, last, the payload as ``shown`` says
    (``None`` where there is none)."""
    postgres = session.connection().dialect.name == "postgresql"
    columns = [c for c in EVENT_COLUMNS if c is not FeedEvent.payload]
    as_text = literal_column("feed_events.payload").cast(Text)
    query = (
        select(
            *columns,
            FeedEvent.head_text,
            as_text.label("payload_text"),
            _shown_column(postgres, shown),
        )
        .where(FeedEvent.id.in_(list(ids)))
        .order_by(FeedEvent.id)
    )
    return list(session.connection().execute(query).all())


def _shown_column(postgres: bool, shown: ShownText) -> Any:
    """The payload's text as ``shown`` says."""
    if shown.public:
        return FeedEvent.public_payload
    if shown.allowed is not None:
        return _cut_content(postgres, shown.allowed, empty_tombstones=False)
    return literal_column("feed_events.payload").cast(Text).label("shown_text")


#: The keys of an event's head after its cursor, in the order it is written.
_HEAD_KEYS = (
    "kind",
    "occurred_at",
    "origin",
    "tombstone",
    "disclosure",
    "subject_code",
    "record_id",
    "record_version",
    "list_entry_id",
)


def head_text(
    postgres: bool, fixed: Mapping[str, str] | None = None, *, bound: bool = False, **columns: str
) -> str:
    """SQL for an event's head as JSON text (``FeedEvent.head_text``), every key after
    ``cursor`` as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes
    them (``bonafides.app.feed.ShownEvent``), from ``,"kind":`` to ``,"payload":``;
    ``NULL`` where the time is not stored in the form turned here into
    ``datetime.isoformat``'s (UTC, the microseconds left out when they are naught).
    The columns are ``feed_events``'; ``columns`` puts other SQL in the place of some
    (``name_origins`` sets the origin and the version in the same statement).

    ``fixed`` gives the JSON text of keys whose value every row of the statement shares
    (``_fixed``): it goes into the format once instead of being made again for each row.
    With ``bound`` the format is the parameter ``:head_template`` (``head_template``),
    so that the statement's text, and its compiled form, stays the same from one
    statement to the next although the time in it does not.

    One ``format``/``printf`` call: on SQLite a chain of ``||`` costs a string per step.
    """
    value = {name: columns.get(name, f"feed_events.{name}") for name in _HEAD_KEYS}
    stored = value["occurred_at"]
    if postgres:
        quote, build = "to_json(CAST({} AS text))::text", "format"
        stamp = f"to_char({stored} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        at, at_known = f"regexp_replace({stamp}, '\\.000000$', '') || '+00:00'", "true"
    else:
        quote, build = "json_quote({})", "printf"
        # SQLite keeps ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's storage format).
        at = (
            f"substr({stored}, 1, 10) || 'T' || CASE WHEN substr({stored}, 20) = '.000000' "
            f"THEN substr({stored}, 12, 8) ELSE substr({stored}, 12) END || '+00:00'"
        )
        at_known = f"length({stored}) = 26 AND substr({stored}, 11, 1) = ' '"
    fields = {
        "kind": quote.format(value["kind"]),
        "occurred_at": at,
        "origin": quote.format(value["origin"]),
        "tombstone": f"CASE WHEN {value['tombstone']} THEN 'true' ELSE 'false' END",
        "disclosure": quote.format(value["disclosure"]),
        "subject_code": f"coalesce({quote.format(value['subject_code'])}, 'null')",
        **{
            name: f"coalesce(CAST({value[name]} AS text), 'null')"
            for name in ("record_id", "record_version", "list_entry_id")
        },
    }
    fixed = fixed or {}
    form = ":head_template" if bound else "'" + head_template(fixed).replace("'", "''") + "'"
    made = f"{build}({form}, {', '.join(sql for name, sql in fields.items() if name not in fixed)})"
    return made if "occurred_at" in fixed else f"CASE WHEN {at_known} THEN {made} END"


def head_template(fixed: Mapping[str, str]) -> str:
    """The format ``head_text`` fills: each key's JSON text where ``fixed`` gives it, else
    a placeholder (the time's within quotes), up to ``,"payload":``."""
    return (
        "".join(
            f',"{name}":'
            + (
                fixed[name].replace("%", "%%")
                if name in fixed
                else '"%s"'
                if name == "occurred_at"
                else "%s"
            )
            for name in _HEAD_KEYS
        )
        + ',"payload":'
    )


def _event_text(payload: Any) -> Any:
    """SQL for an event as JSON text: its cursor, its head as kept (``head_text``) and
    ``payload`` (text); ``NULL`` where the head or the payload is."""
    return (
        literal_column("'{\"cursor\":' || feed_events.id || feed_events.head_text")
        .op("||")(payload)
        .op("||")(literal_column("'}'"))
    )


@dataclass(frozen=True)
class ShownText:
    """Which payload text ``read_events_text`` gives: ``public``, the public payload kept
    with each public event; else the content cut to ``allowed`` fields per type, or with
    neither, the payload as stored."""

    public: bool = False
    allowed: dict[str, list[str]] | None = None
    #: Some events are shown to another audience (a subject's own): the stored text too.
    mixed: bool = False


def _cut_content(
    postgres: bool, allowed: Mapping[str, Sequence[str]], empty_tombstones: bool
) -> Any:
    """The payload's text with ``record.content`` holding only the allowed fields of its
    record's type (``_cut_sql``)."""
    return text(f"({_cut_sql(postgres, empty_tombstones)})").bindparams(_pairs(postgres, allowed))


def _pairs(postgres: bool, allowed: Mapping[str, Sequence[str]]) -> Any:
    """The allowed fields as one parameter of ``type<US>field`` strings (an array on
    PostgreSQL, a JSON array on SQLite), looked up as a set on either store.

    One parameter, not one per field: the catalogue names some six hundred fields, and
    a statement with a placeholder each cost more to compile and send than the rows of a
    small write."""
    pairs = sorted(f"{code}\x1f{name}" for code, names in allowed.items() for name in names)
    if postgres:
        return bindparam("allowed_pairs", pairs, ARRAY(String()))
    return bindparam("allowed_pairs", json.dumps(pairs), String())


def _cut_sql(postgres: bool, empty_tombstones: bool) -> str:
    """SQL for the payload's text with ``record.content`` cut to the fields named in
    ``:allowed_pairs`` for its record's type (none of a type not named), and emptied in
    a tombstone when ``empty_tombstones``; a payload without a content object is left as
    it is (as ``bonafides.exchange.feed.shown_payload`` cuts it)."""
    if postgres:
        return (
            "CASE WHEN jsonb_typeof(feed_events.payload #> '{record,content}') = 'object' "
            "THEN jsonb_set(feed_events.payload, '{record,content}', CASE WHEN "
            + ("feed_events.tombstone" if empty_tombstones else "false")
            + " THEN '{}'::jsonb ELSE coalesce((SELECT jsonb_object_agg(c.key, c.value) "
            "FROM jsonb_each(feed_events.payload #> '{record,content}') AS c "
            "WHERE (feed_events.payload #>> '{record,type_code}') || chr(31) || c.key "
            "= ANY(CAST(:allowed_pairs AS text[]))), '{}'::jsonb) END)::text "
            "ELSE feed_events.payload::text END"
        )
    return (
        "CASE WHEN json_type(feed_events.payload, '$.record.content') = 'object' "  # noqa: S608
        "THEN json_set(feed_events.payload, '$.record.content', CASE WHEN "
        + ("feed_events.tombstone" if empty_tombstones else "0")
        + " THEN json('{}') ELSE json(coalesce((SELECT json_group_object(c.key, c.value) "
        "FROM json_each(feed_events.payload, '$.record') AS t, "
        "json_each(feed_events.payload, '$.record.content') AS c "
        "WHERE t.key = 'type_code' AND t.value || char(31) || c.key "
        "IN (SELECT value FROM json_each(:allowed_pairs))), "
        "'{}')) END) ELSE feed_events.payload END"
    )


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
