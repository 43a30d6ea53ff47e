"""List entries as the public may see them, filtered, counted and paged in the database.

An entry is public only while the decision that put the subject on the list is public
(principle 5), and every other record its line counted too: a public record type, a
status that still counts, inside its publication period, and never a decision taken
while the person was a minor. The filter is ``bonafides.store.disclosure.entry_is_public``,
the SQL spelling of ``bonafides.disclosure.entry_visible``, so that a list of a million
entries is filtered, counted and paged by the store, never in Python.
A repaired or revoked decision therefore takes its entries off the public pages with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import CompoundSelect, Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bonafides.records import ENTRY_CURRENT as CURRENT
from bonafides.store.disclosure import entry_is_public
from bonafides.store.tables import ListEntry, Record, RecordType, Subject

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class EntryFilter:
    """Which entries of one list: in force on ``as_of``, the rest narrowing further.

    ``region`` is a prefix of the subject's region code (2, 4 or 6 digits: province,
    prefecture, county); ``field`` the credit field of the deciding record; the date
    bounds are inclusive.
    """

    list_code: str
    today: dt.date
    as_of: dt.date
    region: str | None = None
    field: str | None = None
    from_after: dt.date | None = None
    from_before: dt.date | None = None
    until_after: dt.date | None = None
    until_before: dt.date | None = None


@dataclass(frozen=True)
class EntryRow:
    id: int
    list_code: str
    line: int
    subject_kind: str
    subject_key: str
    code_display: str
    name: str
    name_en: str | None
    region: str | None
    adult_from: dt.date | None
    valid_from: dt.date
    valid_until: dt.date
    until_basis: str
    reason: str
    field: str
    record_type: str
    source: str
    decision_no: str
    decision_date: dt.date


_COLUMNS = (
    ListEntry.id,
    ListEntry.list_code,
    ListEntry.line,
    Subject.kind,
    Subject.key,
    Subject.code_display,
    Subject.name,
    Subject.name_en,
    Subject.region,
    Subject.adult_from,
    ListEntry.valid_from,
    ListEntry.valid_until,
    ListEntry.until_basis,
    ListEntry.reason,
    RecordType.field,
    Record.type_code,
    Record.source,
    Record.decision_no,
    Record.decision_date,
)


def _public(select_: Select[*Ts], today: dt.date) -> Select[*Ts]:
    """Joins the subject and the deciding record, keeping what the public may see."""
    return (
        select_.join(Subject, Subject.id == ListEntry.subject_id)
        .join(Record, Record.id == ListEntry.trigger_record_id)
        .join(RecordType, RecordType.code == Record.type_code)
        .where(ListEntry.status == CURRENT, entry_is_public(today))
    )


def _in_force(day: dt.date) -> list[ColumnElement[bool]]:
    return [ListEntry.valid_from <= day, ListEntry.valid_until >= day]


def _narrowed(select_: Select[*Ts], wanted: EntryFilter) -> Select[*Ts]:
    query = _public(select_, wanted.today).where(
        ListEntry.list_code == wanted.list_code, *_in_force(wanted.as_of)
    )
    if wanted.region:
        query = query.where(Subject.region.startswith(wanted.region, autoescape=True))
    if wanted.field:
        query = query.where(RecordType.field == wanted.field)
    bounds = (
        (ListEntry.valid_from >= wanted.from_after) if wanted.from_after else None,
        (ListEntry.valid_from <= wanted.from_before) if wanted.from_before else None,
        (ListEntry.valid_until >= wanted.until_after) if wanted.until_after else None,
        (ListEntry.valid_until <= wanted.until_before) if wanted.until_before else None,
    )
    return query.where(*(b for b in bounds if b is not None))


def _row(values: Any) -> EntryRow:
    return EntryRow(*values)


def count_entries(session: Session, wanted: EntryFilter) -> int:
    return session.scalar(_narrowed(select(func.count()).select_from(ListEntry), wanted)) or 0


def page_of_entries(
    session: Session, wanted: EntryFilter, *, offset: int, limit: int
) -> list[EntryRow]:
    """Newest entries first, one page of them."""
    query = (
        _narrowed(select(*_COLUMNS).select_from(ListEntry), wanted)
        .order_by(ListEntry.valid_from.desc(), ListEntry.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_row(values) for values in session.execute(query)]


def all_entries(session: Session, wanted: EntryFilter, *, batch: int = 2000) -> Iterator[EntryRow]:
    """Every entry, in batches keyed on the id: a download of any size holds one batch."""
    last = 0
    while True:
        query = (
            _narrowed(select(*_COLUMNS).select_from(ListEntry), wanted)
            .where(ListEntry.id > last)
            .order_by(ListEntry.id)
            .limit(batch)
        )
        rows = [_row(values) for values in session.execute(query)]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def counts_in_force(session: Session, today: dt.date) -> dict[str, int]:
    """Public entries in force today, per list."""
    query = _public(select(ListEntry.list_code, func.count()).select_from(ListEntry), today).where(
        *_in_force(today)
    )
    return {
        str(code): int(n) for code, n in session.execute(query.group_by(ListEntry.list_code)).all()
    }


def counts_by_province(session: Session, today: dt.date) -> dict[str, int]:
    """Public entries in force today, per first two digits of the subject's region."""
    province = func.substr(Subject.region, 1, 2)
    query = (
        _public(select(province, func.count()).select_from(ListEntry), today)
        .where(*_in_force(today), Subject.region.is_not(None))
        .group_by(province)
    )
    return {str(code): n for code, n in session.execute(query)}


def entries_of_subject(session: Session, subject_id: int, today: dt.date) -> list[EntryRow]:
    """One subject's public entries, in force or not, latest start first."""
    query = (
        _public(select(*_COLUMNS).select_from(ListEntry), today)
        .where(ListEntry.subject_id == subject_id)
        .order_by(ListEntry.valid_from.desc(), ListEntry.id.desc())
    )
    return [_row(values) for values in session.execute(query)]


def entries_in_force_public(
    session: Session,
    today: dt.date,
    *,
    among: Select[int] | CompoundSelect[int] | None = None,
    batch: int = 5000,
) -> Iterator[list[EntryRow]]:
    """Every public entry of every list in force ``today``, a batch at a time by id.

    ``among`` narrows to the entry ids a statement selects (a delta's changed entries),
    so the filter runs in the store whatever its size. Open-data exports read this.
    """
    last = 0
    while True:
        query = _public(select(*_COLUMNS).select_from(ListEntry), today).where(
            *_in_force(today), ListEntry.id > last
        )
        if among is not None:
            query = query.where(ListEntry.id.in_(among))
        rows = [
            _row(values) for values in session.execute(query.order_by(ListEntry.id).limit(batch))
        ]
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def public_in_force_ids(today: dt.date) -> Select[int]:
    """The ids of the entries ``entries_in_force_public`` reads, as a statement."""
    return _public(select(ListEntry.id).select_from(ListEntry), today).where(*_in_force(today))
