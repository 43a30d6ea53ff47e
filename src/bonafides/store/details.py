"""The decision fields of records by id, in one statement per store dialect.

An answer cites records by id; a batch cites hundreds of thousands of them, so how they
are read depends on the store (the dialect branch lives here, not in the services).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl
from sqlalchemy import BigInteger, Select, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bonafides.store.frames import read_frame
from bonafides.store.subjects import chunks
from bonafides.store.tables import Record

#: Type code, source department, decision number and decision date of one record.
RecordRow = tuple[str, str, str, dt.date]

_DETAIL_COLUMNS = (
    Record.id,
    Record.type_code,
    Record.source,
    Record.decision_no,
    Record.decision_date,
)
#: Every record of ``:ids`` with what an answer cites of it. PostgreSQL takes every id as
#: one array: a batch asks for hundreds of thousands, and rendering and planning an IN list
#: per 900 of them cost more than reading the rows. Its key holds these columns (migration
#: 0037), so they are read from the key alone, not from pages of the whole records heap.
CITED_RECORDS = select(*_DETAIL_COLUMNS).where(
    Record.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
)
_DETAILS = select(*_DETAIL_COLUMNS).where(Record.id.in_(bindparam("ids", expanding=True)))
_Cited = Select[int, str, str, str, dt.date]
#: The columns of ``cited_records``.
CITED_COLUMNS: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "type_code": pl.String(),
    "source": pl.String(),
    "decision_no": pl.String(),
    "decision_date": pl.Date(),
}


def _parts(session: Session, ids: Iterable[int]) -> tuple[Iterable[Sequence[int]], _Cited]:
    """The wanted ids, sorted and unique, in as few statements as the store takes."""
    wanted = sorted(set(ids))
    if session.connection().dialect.name == "postgresql":
        return ([wanted] if wanted else []), CITED_RECORDS
    return chunks(wanted, 900), _DETAILS


def record_rows(session: Session, ids: Iterable[int]) -> dict[int, RecordRow]:
    """Each record's decision fields by id; ids of no record are left out."""
    out: dict[int, RecordRow] = {}
    conn = session.connection()
    parts, statement = _parts(session, ids)
    for part in parts:
        for rid, type_code, source, number, decided in conn.execute(statement, {"ids": list(part)}):
            out[rid] = (type_code, source, number, decided)
    return out


def cited_records(session: Session, ids: Iterable[int]) -> pl.DataFrame:
    """``record_rows`` as the columns of ``CITED_COLUMNS``, one row per record found, for
    a batch that cites too many to hold a Python object each."""
    parts, statement = _parts(session, ids)
    frames = [read_frame(session, statement, CITED_COLUMNS, {"ids": list(part)}) for part in parts]
    return pl.concat(frames) if frames else pl.DataFrame(schema=CITED_COLUMNS)
