"""A query's rows as Polars columns, spelled as CSV by the store and parsed in C.

A batch screening reads hundreds of thousands of rows at once: the listed lines' entries,
the records they cite, each line's subject. Fetched through the driver, every row is a
tuple of Python values that the caller then takes apart into columns (at 4M lines, 16.5 s
of the screening's 72 for the entries and the cited records; 12.0 s read as columns
here). The store joins the rows into one CSV text and polars parses it: a handful of
Python objects whatever the number of rows.

A text value holds at most 1 GB on PostgreSQL (and SQLite's default limit is the same).
A read whose text would be longer is refused by the store; it is then read again in
texts of ``BUCKET`` rows each, numbered by a window over the rows, which costs about
1 s per 4M rows more than one text and so is only paid when one text cannot hold them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any, TypeVarTuple

import polars as pl
import psycopg
from sqlalchemy import ColumnElement, Select, String, cast, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Ts = TypeVarTuple("Ts")
#: Rows per CSV text when one text cannot hold them all.
BUCKET = 1_000_000


def read_frame(
    session: Session,
    statement: Select[*Ts],
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
    params: Mapping[str, Any] | None = None,
    *,
    rows_per_text: int | None = None,
) -> pl.DataFrame:
    """The rows of ``statement`` (in no particular order) as a frame of ``schema``, whose
    names and types are the statement's columns in order: integers, decimals, text or
    dates. A text null stays null, an empty text stays empty. ``rows_per_text`` reads in
    texts of so many rows from the start (a caller that knows one text cannot hold its
    rows); otherwise one text is tried first, then texts of ``BUCKET`` rows."""
    dialect = session.connection().dialect.name
    rows = statement.subquery("rows")
    columns = list(rows.c)
    if len(columns) != len(schema):
        raise ValueError(f"{len(columns)} columns read, {len(schema)} named")
    line: ColumnElement[str] | None = None
    for column, dtype in zip(columns, schema.values(), strict=True):
        cell = _cell(column, dtype, dialect)
        line = cell if line is None else line.concat(",").concat(cell)
    assert line is not None
    texts: Sequence[str | None]
    if rows_per_text is not None:
        texts = _bucketed(session, line, params, rows_per_text)
    else:
        try:
            # A refused statement ends a PostgreSQL transaction unless under a savepoint;
            # SQLite's leaves it as it was.
            with session.begin_nested() if dialect == "postgresql" else nullcontext():
                one = select(func.aggregate_strings(line, "\n"))
                texts = [session.scalar(one, params or {})]
        except DBAPIError as error:
            if not _too_long(error):
                raise
            texts = _bucketed(session, line, params, BUCKET)
    parts = [
        pl.read_csv(text.encode(), has_header=False, schema=dict(schema))
        for text in texts
        if text is not None
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=dict(schema))


def _bucketed(
    session: Session, line: ColumnElement[str], params: Mapping[str, Any] | None, size: int
) -> Sequence[str | None]:
    """The lines in texts of ``size`` rows each."""
    numbered = select(
        line.label("line"), ((func.row_number().over() - 1) // size).label("bucket")
    ).subquery("numbered")
    return session.scalars(
        select(func.aggregate_strings(numbered.c.line, "\n")).group_by(numbered.c.bucket),
        params or {},
    ).all()


def _too_long(error: DBAPIError) -> bool:
    """Whether the store refused a text for its length (PostgreSQL's 1 GB, SQLite's
    ``SQLITE_LIMIT_LENGTH``)."""
    cause = error.orig
    if isinstance(cause, psycopg.errors.ProgramLimitExceeded):
        return True
    return isinstance(cause, sqlite3.DataError) and cause.sqlite_errorname == "SQLITE_TOOBIG"


def _cell(
    column: ColumnElement[Any], dtype: pl.DataType | type[pl.DataType], dialect: str
) -> ColumnElement[str]:
    """One value as a CSV field: null as an empty field, text always quoted (so an empty
    text is ``""``, and commas, quotes and line breaks stay inside it), dates in ISO."""
    if dtype == pl.String:
        quoted = literal('"').concat(func.replace(column, '"', '""')).concat('"')
        return func.coalesce(quoted, "")
    if dtype == pl.Date:
        # PostgreSQL spells a date as its DateStyle says; ISO is asked for by name.
        spelled = func.to_char(column, "YYYY-MM-DD") if dialect == "postgresql" else column
        return func.coalesce(cast(spelled, String), "")
    if dtype.is_numeric():
        return func.coalesce(cast(column, String), "")
    raise TypeError(f"cannot read a {dtype} column as CSV")
