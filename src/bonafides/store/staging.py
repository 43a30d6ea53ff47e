"""A temporary table that a batch of decisions is loaded into before it is merged.

Writing a batch one ORM object per row costs most of an ingest's time in Python (a
parameter set built and bound per row, per table). Loaded into this table instead (one
COPY on PostgreSQL, one executemany on SQLite), the batch is merged into ``records`` and
``record_versions`` with a handful of set-based statements whose cost is the database's.

The table is per connection (``TEMPORARY``) and emptied before each load, so concurrent
writers never see each other's rows and a rolled-back transaction leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date
from sqlalchemy.engine import Connection

from bonafides.store.types import UTCDateTime

STAGE = "ingest_stage"

#: The columns a caller loads, in order; ``record_id`` and the ``cur_*`` columns are
#: filled by the merge (the stored record a row meets, and its state before the batch).
COLUMNS = (
    "pos",
    "source",
    "decision_no",
    "party",
    "subject_id",
    "type_code",
    "decision_date",
    "received_at",
    "status",
    "severity",
    "legal_basis",
    "published_until",
    "retention_until",
    "content",
    "raw",
    "digest",
)

_DDL = {
    "postgresql": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (
            pos integer PRIMARY KEY,
            source text NOT NULL,
            decision_no text NOT NULL,
            party text NOT NULL,
            subject_id bigint NOT NULL,
            type_code text NOT NULL,
            decision_date date NOT NULL,
            received_at timestamptz NOT NULL,
            status text NOT NULL,
            severity text,
            legal_basis text,
            published_until date,
            retention_until date,
            content jsonb NOT NULL,
            raw jsonb NOT NULL,
            digest text NOT NULL,
            record_id bigint,
            cur_version integer,
            cur_digest text,
            cur_status text
        ) ON COMMIT DELETE ROWS""",
    "sqlite": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (
            pos INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            decision_no TEXT NOT NULL,
            party TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            type_code TEXT NOT NULL,
            decision_date DATE NOT NULL,
            received_at DATETIME NOT NULL,
            status TEXT NOT NULL,
            severity TEXT,
            legal_basis TEXT,
            published_until DATE,
            retention_until DATE,
            content JSON NOT NULL,
            raw JSON NOT NULL,
            digest TEXT NOT NULL,
            record_id INTEGER,
            cur_version INTEGER,
            cur_digest TEXT,
            cur_status TEXT
        )""",
}

_SQLITE_INSERT = "INSERT INTO ingest_stage ({}) VALUES ({})".format(  # noqa: S608
    ", ".join(COLUMNS), ", ".join("?" * len(COLUMNS))
)
_DATES = tuple(COLUMNS.index(c) for c in ("decision_date", "published_until", "retention_until"))
_STAMP = COLUMNS.index("received_at")


def load(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Empty the stage and load ``rows`` (tuples in ``COLUMNS`` order, JSON as text)."""
    dialect = conn.dialect.name
    conn.exec_driver_sql(_DDL[dialect])
    conn.exec_driver_sql("DELETE FROM ingest_stage")
    names = ", ".join(COLUMNS)
    if dialect == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {STAGE} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # A temporary table has no statistics until analysed: without them the
            # planner may scan ``records`` whole to join a few thousand staged rows.
            cursor.execute(f"ANALYZE {STAGE}")
        return
    conn.exec_driver_sql(
        _SQLITE_INSERT,
        list(_sqlite_rows(conn, rows)),
    )


def _sqlite_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """Dates and times spelled exactly as SQLAlchemy stores them on SQLite, so staged
    values copied into the real tables compare like the ones the ORM wrote."""
    day = Date().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stamp = UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert day is not None
    assert stamp is not None
    # A batch's rows share a handful of days and usually one receipt time: each distinct
    # value is spelled once.
    days: dict[dt.date, Any] = {}
    stamps: dict[dt.datetime, Any] = {}
    out = []
    for row in rows:
        values = list(row)
        for index in _DATES:
            value = values[index]
            if isinstance(value, dt.date):
                spelled = days.get(value)
                if spelled is None:
                    spelled = days[value] = day(value)
                values[index] = spelled
        at = values[_STAMP]
        spelled = stamps.get(at)
        if spelled is None:
            spelled = stamps[at] = stamp(at)
        values[_STAMP] = spelled
        out.append(tuple(values))
    return out
