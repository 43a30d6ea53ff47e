"""Reads by key that whole-store jobs make in bulk are served by an index alone on
PostgreSQL: a recompute's read of each ended record's history (migration 0035) and a
batch screening's read of every record its answers cite (0037). Once the store outgrows
memory, each heap fetch they made was a random read of a page for a few narrow columns.

What is checked is that an index leads with the lookup's key and holds every column the
statements read. Whether the planner then takes it depends on the visibility map, which a
test cannot settle (a VACUUM marks nothing all-visible while an older transaction
anywhere holds the horizon back); ``benchmarks/scale_bench.py`` shows it taken at scale.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Column, Connection, Engine, Table, text
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Alias

from bonafides.rules.compile import sql_evaluator_for
from bonafides.rules.loader import packaged_rules
from bonafides.store.db import make_engine
from bonafides.store.details import CITED_RECORDS

pytestmark = pytest.mark.partitioned

#: Each index of a table (a partitioned table's own, not its partitions'): its key
#: columns, then every column it holds, in order.
_INDEXES = text(
    """
    SELECT i.relname,
           (SELECT array_agg(a.attname ORDER BY k.n)
              FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             WHERE k.n <= x.indnkeyatts) AS keys,
           (SELECT array_agg(a.attname)
              FROM unnest(x.indkey) AS k(attnum)
              JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum) AS held
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
     WHERE t.relname = :table
    """
)


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has no INCLUDE; its stores stay where the tables are cached")
    engine: Engine = make_engine(db_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _covering(conn: Connection, table: str, key: str, read: set[str]) -> list[str]:
    """The indexes of ``table`` that lead with ``key`` and hold every column in ``read``."""
    return [
        name
        for name, keys, held in conn.execute(_INDEXES, {"table": table})
        if keys[0] == key and read <= set(held)
    ]


def _read_from(statements: Sequence[ClauseElement], table: str) -> set[str]:
    """The columns of ``table`` (through any alias of it) that the statements name."""
    names: set[str] = set()
    for statement in statements:
        for element in visitors.iterate(statement):
            if not isinstance(element, Column):
                continue
            source: Any = element.table
            if isinstance(source, Alias):
                source = source.element
            if isinstance(source, Table) and source.name == table:
                names.add(element.name)
    return names


def test_when_a_record_stopped_counting_can_be_read_from_the_version_key_alone(
    conn: Connection,
) -> None:
    lines = sql_evaluator_for(packaged_rules(), "Asia/Shanghai").lines()
    read = _read_from(lines, "record_versions")
    assert read == {"record_id", "version", "status", "changed_at"}
    assert len(_covering(conn, "record_versions", "record_id", read)) == 1


def test_what_an_answer_cites_can_be_read_from_the_records_key_alone(conn: Connection) -> None:
    read = _read_from([CITED_RECORDS], "records")
    assert read == {"id", "type_code", "source", "decision_no", "decision_date"}
    assert _covering(conn, "records", "id", read) == ["pk_records"]
