"""The decision fields of records by id, in one statement per store dialect.

An answer cites records by id; a batch cites hundreds of thousands of them, so how they
are read depends on the store (the dialect branch lives here, not in the services).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

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


def record_rows(session: Session, ids: Iterable[int]) -> dict[int, RecordRow]:
    """Each record's decision fields by id; ids of no record are left out."""
    wanted = sorted(set(ids))
    out: dict[int, RecordRow] = {}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        parts: Iterable[Sequence[int]] = [wanted] if wanted else []
        statement = CITED_RECORDS
    else:
        parts, statement = chunks(wanted, 900), _DETAILS
    for part in parts:
        for rid, type_code, source, number, decided in conn.execute(statement, {"ids": list(part)}):
            out[rid] = (type_code, source, number, decided)
    return out
