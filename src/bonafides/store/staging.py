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

#: The columns a caller loads, in order.
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
            digest text NOT NULL
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
            digest TEXT NOT NULL
        )""",
}

#: The stage's columns the planner keeps statistics of: not the JSON, which no statement
#: joins or filters on and whose sampling cost an ``ANALYZE`` most of its time.
_ANALYSED = tuple(c for c in COLUMNS if c not in ("content", "raw"))

#: The stored record each staged row meets (or creates), written by the merge: a narrow
#: table of its own, so that filling it never rewrites the wide staged rows (an
#: ``UPDATE`` of the stage copied every row's JSON, and the stage outgrew the temporary
#: buffers). ``cur_*`` is the record as it stood before the round, NULL for a new one.
MATCH = "ingest_match"
_MATCH_DDL = {
    "postgresql": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {MATCH} (
            pos integer PRIMARY KEY,
            record_id bigint NOT NULL,
            cur_version integer NOT NULL,
            cur_digest text,
            cur_status text,
            digest text NOT NULL
        ) ON COMMIT DELETE ROWS""",
    "sqlite": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {MATCH} (
            pos INTEGER PRIMARY KEY,
            record_id INTEGER NOT NULL,
            cur_version INTEGER NOT NULL,
            cur_digest TEXT,
            cur_status TEXT,
            digest TEXT NOT NULL
        )""",
}

_DATES = tuple(COLUMNS.index(c) for c in ("decision_date", "published_until", "retention_until"))
_STAMP = COLUMNS.index("received_at")


def load(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Empty the stage and load ``rows`` (tuples in ``COLUMNS`` order, JSON as text);
    empty the match table (``MATCH``) the merge fills."""
    _empty(conn, MATCH, _MATCH_DDL)
    if conn.dialect.name == "postgresql":
        _load(conn, STAGE, _DDL, COLUMNS, rows, analysed=_ANALYSED)
    else:
        _load(conn, STAGE, _DDL, COLUMNS, _sqlite_rows(conn, rows))


#: The subjects a batch names, one row a key: first only ``pos`` and ``key`` (to find the
#: stored ones), then every column for the keys not stored yet (to create them).
SUBJECTS = "subject_stage"
SUBJECT_COLUMNS = (
    "pos",
    "key",
    "kind",
    "code_display",
    "code_cipher",
    "name",
    "name_en",
    "region",
    "adult_from",
)
_SUBJECT_DDL = {
    "postgresql": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {SUBJECTS} (
            pos integer PRIMARY KEY,
            key text NOT NULL,
            kind text,
            code_display text,
            code_cipher bytea,
            name text,
            name_en text,
            region text,
            adult_from date
        ) ON COMMIT DELETE ROWS""",
    "sqlite": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {SUBJECTS} (
            pos INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            kind TEXT,
            code_display TEXT,
            code_cipher BLOB,
            name TEXT,
            name_en TEXT,
            region TEXT,
            adult_from DATE
        )""",
}

#: The names a batch uses for its subjects, one row a (subject, name, language), in the
#: order the batch first uses them.
NAMES = "subject_name_stage"
NAME_COLUMNS = ("pos", "subject_id", "name", "lang", "source")
_NAME_DDL = {
    "postgresql": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {NAMES} (
            pos integer PRIMARY KEY,
            subject_id bigint NOT NULL,
            name text NOT NULL,
            lang text NOT NULL,
            source text
        ) ON COMMIT DELETE ROWS""",
    "sqlite": f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {NAMES} (
            pos INTEGER PRIMARY KEY,
            subject_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            lang TEXT NOT NULL,
            source TEXT
        )""",
}


def load_subjects(
    conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Empty the subject stage and load ``rows``: tuples of ``columns``, a prefix of
    ``SUBJECT_COLUMNS``."""
    if conn.dialect.name == "sqlite" and "adult_from" in columns:
        at = columns.index("adult_from")
        day = Date().dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert day is not None
        rows = [(*row[:at], day(row[at]), *row[at + 1 :]) for row in rows]
    _load(conn, SUBJECTS, _SUBJECT_DDL, columns, rows)


def load_names(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Empty the name stage and load ``rows`` (tuples in ``NAME_COLUMNS`` order)."""
    _load(conn, NAMES, _NAME_DDL, NAME_COLUMNS, rows)


def _load(
    conn: Connection,
    name: str,
    ddl: dict[str, str],
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    analysed: Sequence[str] = (),
) -> None:
    """Create the temporary table if this connection has none yet, empty it, load it;
    on PostgreSQL analyse it (the ``analysed`` columns, or all)."""
    dialect = conn.dialect.name
    _empty(conn, name, ddl)
    names = ", ".join(columns)
    if dialect == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # A temporary table has no statistics until analysed: without them the
            # planner may scan a whole stored table to join a few thousand staged rows.
            listed = f" ({', '.join(analysed)})" if analysed else ""
            cursor.execute(f"ANALYZE {name}{listed}")
        return
    if not rows:
        return
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(
        f"INSERT INTO {name} ({names}) VALUES ({marks})",  # noqa: S608
        list(rows),
    )


def _empty(conn: Connection, name: str, ddl: dict[str, str]) -> None:
    """Create the temporary table if this connection has none yet, and empty it."""
    conn.exec_driver_sql(ddl[conn.dialect.name])
    conn.exec_driver_sql(f"DELETE FROM {name}")  # noqa: S608


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
