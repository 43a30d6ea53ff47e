"""A query's rows read as columns (``store.frames.read_frame``) are the rows the driver
returns, whatever the text holds: quotes, commas, line breaks, empty text beside null,
Chinese, on both stores; and more rows than one CSV text holds come back whole."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from bonafides.store import frames
from bonafides.store.db import make_engine
from bonafides.store.frames import read_frame

_TABLE = Table(
    "frame_rows",
    MetaData(),
    Column("n", Integer, primary_key=True),
    Column("big", BigInteger),
    Column("body", Text),
    Column("day", Date),
)
_SCHEMA = {"n": pl.Int64, "big": pl.Int64, "body": pl.String, "day": pl.Date}
#: PostgreSQL text cannot hold NUL; every other character may come from a department.
_TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12)
_ROWS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        st.one_of(st.none(), st.just(""), _TEXT, st.sampled_from(['"', ",", "\n", '","\r\n'])),
        st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31))),
    ),
    max_size=20,
)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as opened:
        _TABLE.create(opened.connection())
        yield opened
        opened.rollback()
    engine.dispose()


def _write(session: Session, rows: Sequence[tuple[int | None, str | None, dt.date | None]]) -> None:
    session.execute(_TABLE.delete())
    if rows:
        session.execute(
            insert(_TABLE),
            [
                {"n": n, "big": big, "body": body, "day": day}
                for n, (big, body, day) in enumerate(rows)
            ],
        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=_ROWS)
def test_rows_read_as_columns_are_the_rows_stored(
    session: Session, rows: list[tuple[int | None, str | None, dt.date | None]]
) -> None:
    _write(session, rows)
    got = read_frame(session, select(_TABLE), _SCHEMA).sort("n")
    assert got.rows() == [(n, *row) for n, row in enumerate(rows)]


def test_rows_read_in_several_texts_are_the_rows_stored(session: Session) -> None:
    rows = [(n * 10, f'行{n},"{n}"', dt.date(2026, 1, n + 1)) for n in range(10)]
    _write(session, rows)
    statement = select(_TABLE).where(_TABLE.c.n >= 1)
    got = read_frame(session, statement, _SCHEMA, rows_per_text=3)
    assert sorted(got.rows()) == [(n, *row) for n, row in enumerate(rows)][1:]


def test_a_text_the_store_refuses_is_read_in_parts(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's limit on a value's length can be lowered, PostgreSQL's 1 GB cannot: the
    store refuses the one text and the rows come in texts of ``BUCKET`` rows."""
    raw = session.connection().connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        pytest.skip("only SQLite's limit can be lowered")
    rows = [(n, "x" * 40, None) for n in range(30)]
    _write(session, rows)
    raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 400)
    monkeypatch.setattr(frames, "BUCKET", 5)
    got = read_frame(session, select(_TABLE), _SCHEMA)
    assert sorted(got.rows()) == [(n, *row) for n, row in enumerate(rows)]
    monkeypatch.setattr(frames, "BUCKET", 50)
    with pytest.raises(DataError, match="too big"):
        read_frame(session, select(_TABLE), _SCHEMA)


def test_parameters_and_no_rows(session: Session) -> None:
    _write(session, [(1, "a", None), (2, "b", None)])
    statement = select(_TABLE.c.n, _TABLE.c.body).where(
        _TABLE.c.n.in_(bindparam("wanted", expanding=True))
    )
    schema = {"n": pl.Int64, "body": pl.String}
    assert read_frame(session, statement, schema, {"wanted": [1]}).rows() == [(1, "b")]
    empty = read_frame(session, statement, schema, {"wanted": [7]})
    assert empty.schema == pl.Schema(schema)
    assert empty.height == 0


def test_a_schema_that_does_not_fit_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="2 columns read, 1 named"):
        read_frame(session, select(_TABLE.c.n, _TABLE.c.body), {"n": pl.Int64})
    with pytest.raises(TypeError, match="Boolean"):
        read_frame(session, select(_TABLE.c.n), {"n": pl.Boolean})
