"""What an open-data export reads: public records and list entries, whole or changed since a day.

Every statement filters with ``record_is_public`` (records) or the public list-entry join of
``bonafides.store.lists``, the one public rule, and reads in batches keyed on the id, so an
export of any size holds one batch. A delta is two sets computed in the store: what is
public now and changed since the day (written again), and what changed and is not public
now (a tombstone, the id alone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    Text,
    and_,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    union,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bonafides.store.disclosure import record_is_public, record_may_be_tombstoned
from bonafides.store.lists import public_in_force_ids
from bonafides.store.tables import (
    ListEntry,
    Record,
    RecordType,
    RecordVersion,
    Subject,
    SubjectName,
)

Ts = TypeVarTuple("Ts")

#: The columns of a public record row, in the order ``record_batches`` yields them.
RECORD_COLUMNS = (
    Record.id,
    Record.type_code,
    RecordType.field,
    RecordType.polarity,
    Record.source,
    Record.decision_no,
    Record.decision_date,
    Record.status,
    Record.severity,
    Record.legal_basis,
    Record.published_until,
    Record.updated_at,
    #: As JSON text: parsed once by the export, not by the driver and again there.
    cast(Record.content, Text),
    Subject.kind,
    Subject.key,
    Subject.code_display,
    Subject.name,
    Subject.name_en,
    Subject.region,
)


def _joined(query: Select[*Ts]) -> Select[*Ts]:
    return query.join(RecordType, RecordType.code == Record.type_code).join(
        Subject, Subject.id == Record.subject_id
    )


def record_batches(
    session: Session,
    today: dt.date,
    *,
    among: Select[int] | CompoundSelect[int] | None = None,
    batch: int = 5000,
) -> Iterator[list[Any]]:
    """Public records in id order, ``batch`` rows at a time (rows of ``RECORD_COLUMNS``).

    One Core statement, streamed (a server-side cursor on PostgreSQL): paging by id re-ran
    the join and the public filter per batch, which took 60% of an export's time, and
    ORM rows cost another 10%.
    """
    query = _joined(select(*RECORD_COLUMNS).select_from(Record)).where(record_is_public(today))
    if among is not None:
        query = query.where(Record.id.in_(among))
    streamed = session.connection().execution_options(stream_results=True, max_row_buffer=batch)
    for part in streamed.execute(query.order_by(Record.id)).partitions(batch):
        yield list(part)


def former_names(session: Session, subject_keys: list[str]) -> dict[str, list[str]]:
    """Former names of the given subjects (organisations), by subject key."""
    if not subject_keys:
        return {}
    rows = session.execute(
        select(Subject.key, SubjectName.name)
        .join(SubjectName, SubjectName.subject_id == Subject.id)
        .where(Subject.key.in_(subject_keys), SubjectName.current.is_(False))
        .order_by(SubjectName.id)
    )
    found: dict[str, list[str]] = {}
    for key, name in rows:
        found.setdefault(key, []).append(name)
    return found


# --------------------------------------------------------------------------- deltas


def start_of(day: dt.date, zone: str) -> dt.datetime:
    """Midnight of the office's ``day``, in UTC: changes "since a day" start there."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).astimezone(dt.UTC)


def _ended_between(column: Any, since: dt.date, today: dt.date) -> Any:
    """A period whose last day fell on or after the day before ``since`` and before today:
    public on the eve of ``since``, not public today."""
    return and_(column >= since - dt.timedelta(days=1), column < today)


def changed_records(since: dt.date, today: dt.date, zone: str) -> CompoundSelect[int]:
    """Ids of records whose public state may have changed since ``since``: a new version
    (published, amended, revoked, repaired), or a publication or retention that ended."""
    at = start_of(since, zone)
    return union(
        select(RecordVersion.record_id).where(RecordVersion.changed_at >= at),
        select(Record.id).where(_ended_between(Record.published_until, since, today)),
        select(Record.id).where(_ended_between(Record.retention_until, since, today)),
    )


def removed_records(
    session: Session, since: dt.date, today: dt.date, zone: str
) -> Iterator[list[int]]:
    """Changed records that are not public today, a batch of ids at a time.

    Only records that could ever have been public are named: a public type, and never a
    decision about a minor, so a tombstone says nothing about a non-public record.
    """
    changed = changed_records(since, today, zone)
    query = (
        _joined(select(Record.id).select_from(Record))
        .where(
            Record.id.in_(changed),
            record_may_be_tombstoned(today),
            ~record_is_public(today),
        )
        .order_by(Record.id)
    )
    yield from _id_batches(session, query)


def changed_entries(since: dt.date, today: dt.date, zone: str) -> CompoundSelect[int]:
    """Ids of list entries whose public state may have changed since ``since``: written or
    superseded, started or ended, or standing on a record that changed."""
    at = start_of(since, zone)
    return union(
        select(ListEntry.id).where(ListEntry.created_at >= at),
        select(ListEntry.id).where(ListEntry.superseded_at >= at),
        select(ListEntry.id).where(ListEntry.valid_from >= since, ListEntry.valid_from <= today),
        select(ListEntry.id).where(_ended_between(ListEntry.valid_until, since, today)),
        select(ListEntry.id).where(
            ListEntry.trigger_record_id.in_(changed_records(since, today, zone))
        ),
    )


def removed_entries(
    session: Session, since: dt.date, today: dt.date, zone: str
) -> Iterator[list[Any]]:
    """Changed entries that are not public and in force today, a batch of ids at a time;
    again only those whose deciding record could have been public."""
    query = (
        select(ListEntry.id, ListEntry.list_code)
        .join(Record, Record.id == ListEntry.trigger_record_id)
        .join(RecordType, RecordType.code == Record.type_code)
        .join(Subject, Subject.id == ListEntry.subject_id)
        .where(
            ListEntry.id.in_(changed_entries(since, today, zone)),
            ListEntry.id.not_in(public_in_force_ids(today)),
            record_may_be_tombstoned(today),
        )
        .order_by(ListEntry.id)
    )
    for part in session.execute(query.execution_options(yield_per=10_000)).partitions():
        yield [tuple(row) for row in part]


def _id_batches(session: Session, query: Select[Any], batch: int = 10_000) -> Iterator[list[int]]:
    result = session.execute(query.execution_options(yield_per=batch))
    for part in result.scalars().partitions(batch):
        yield list(part)


#: The columns of a listed subject, in the order ``listed_subjects`` yields them.
SUBJECT_COLUMNS = (
    Subject.id,
    Subject.kind,
    Subject.key,
    Subject.code_display,
    Subject.name,
    Subject.name_en,
    Subject.region,
)


def listed_subjects(
    session: Session,
    today: dt.date,
    *,
    among: Select[int] | CompoundSelect[int] | None = None,
    batch: int = 5000,
) -> Iterator[list[Any]]:
    """Subjects with a public entry in force (of the ``among`` entries), by id in batches:
    each once, however many entries name it, without holding them all."""
    entries = public_in_force_ids(today)
    if among is not None:
        entries = entries.where(ListEntry.id.in_(among))
    listed = select(ListEntry.subject_id).where(ListEntry.id.in_(entries))
    last = 0
    while True:
        query = (
            select(*SUBJECT_COLUMNS)
            .where(Subject.id.in_(listed), Subject.id > last)
            .order_by(Subject.id)
            .limit(batch)
        )
        rows = list(session.execute(query))
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


def records_copy_sql(
    session: Session, today: dt.date, exported: Mapping[str, Sequence[str]]
) -> str:
    """PostgreSQL: the statement of ``record_batches`` (snapshot) as SQL text for ``COPY (...)
    TO STDOUT``, and last a column ``whole``: whether the content holds only the fields
    ``exported`` for its type (as it does in most records, so the export passes it on as
    it came, never parsed).

    The rows come in no particular order: the same rows as ``record_batches``, as a set.
    Ordered by id, a million rows made the server sort 830 MB on disk after a parallel
    hash join (and JIT-compile the sort), which the plain ``COPY`` of the same rows never
    does; unordered, it streams them from a merge join as they are found.

    The public rule is the same ``record_is_public`` clause, compiled with its values (only
    dates and the field names) inline, since COPY takes no parameters. The update time goes
    out in PostgreSQL's own text form (cheaper than ``to_char``), in UTC. The content goes
    out as stored: cutting it to its public fields on the server (``jsonb_each`` per row)
    cost more than the whole COPY; telling whether it needs cutting (``content - fields``,
    the fields joined by type) costs nothing measurable.
    """
    dialect = session.get_bind().dialect
    columns: list[Any] = [
        func.timezone("UTC", Record.updated_at) if c is Record.updated_at else c
        for c in RECORD_COLUMNS
    ]
    query = _joined(select().select_from(Record))
    # A type with no exported field is left out (PostgreSQL cannot type an empty ARRAY[]
    # in VALUES): not joined, it has none, as the coalesce below says.
    named = [(code, list(names)) for code, names in sorted(exported.items()) if names]
    if named:
        fields = values(
            column("type_code", String()), column("fields", ARRAY(Text())), name="exported"
        ).data(named)
        query = query.outerjoin(fields, fields.c.type_code == Record.type_code)
        whole: Any = literal_column(
            "coalesce(jsonb_typeof(records.content) = 'object' AND (records.content - "
            "coalesce(exported.fields, CAST(ARRAY[] AS text[]))) = CAST('{}' AS jsonb), false)"
        )
    else:
        whole = literal(False)
    query = query.add_columns(*columns, whole.label("whole")).where(record_is_public(today))
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
