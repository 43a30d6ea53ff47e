"""PostgreSQL hash-partitioned by subject (``BONAFIDES_PG_PARTITIONS``, migration 0031).

The serving side's reads of one subject touch one partition of each partitioned table
(read from ``EXPLAIN ANALYZE`` of the statements the services really run), and the
guarantees the plain tables gave hold partitioned: the idempotency key is unique across
all subjects, a record's id is unique, and a foreign key still refuses a dangling record.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import IntegrityError

from bonafides.app import screening
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.rules.service import load_file_by_key
from bonafides.settings import Settings
from bonafides.store.profiles import profile_of, profile_read
from bonafides.store.subjects import find
from bonafides.store.tables import CheckLine, ListEntry, Record, RecordVersion
from tests.conftest import TEST_PARTITIONS
from tests.web import seed

PARTITIONED = ("records", "record_versions", "list_entries", "check_lines")
_WRITES = re.compile(r"\b(INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
_PARTITION = re.compile(r"^(records|record_versions|list_entries|check_lines)_p\d{3}$")
DAY = dt.date(2026, 6, 1)


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[Context]:
    context = Context(
        Settings(db=db_url, secret_key="partition-test-secret-0123", data_dir=tmp_path / "var")
    )
    yield context
    context.close()


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The reading statements run through ``engine`` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        reads = statement.lstrip().upper().startswith(("SELECT", "WITH"))
        if reads and not many and not _WRITES.search(statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _touched(engine: Engine, statement: str, parameters: Any) -> dict[str, set[str]]:
    """The partitions each partitioned table had read (loops > 0) running ``statement``."""
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        ).scalar_one()
        conn.rollback()
    touched: dict[str, set[str]] = {}

    def walk(node: dict[str, Any]) -> None:
        found = _PARTITION.match(node.get("Relation Name", ""))
        if found and node.get("Actual Loops", 0) > 0:
            touched.setdefault(found.group(1), set()).add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return touched


def _screen(ctx: Context, tmp_path: Path, codes: list[str]) -> None:
    source = tmp_path / "screen.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["统一社会信用代码"])
        writer.writerows([[code] for code in codes])
    screening.screen_file(
        ctx,
        source,
        action="procurement.bid",
        as_of=DAY,
        inquirer="t@mof",
        purpose="tender 7",
        out=tmp_path / "screened.csv",
    )


@pytest.mark.parametrize("db_url", ["partitioned"], indirect=True)
def test_the_four_tables_are_partitioned_and_the_rows_spread(ctx: Context, tmp_path: Path) -> None:
    codes = seed.seed(ctx, today=DAY)
    _screen(ctx, tmp_path, list(codes.values()))
    with ctx.engine.connect() as conn:
        parts: dict[str, int] = dict(
            conn.execute(
                text(
                    "SELECT p.relname, count(*) FROM pg_inherits i "
                    "JOIN pg_class p ON p.oid = i.inhparent GROUP BY p.relname"
                )
            ).all()
        )
        assert {name: parts.get(name) for name in PARTITIONED} == dict.fromkeys(
            PARTITIONED, TEST_PARTITIONS
        )
        for name in PARTITIONED:
            used = conn.execute(
                text(f"SELECT count(DISTINCT tableoid) FROM {name} WHERE subject_id IS NOT NULL")
            ).scalar_one()
            assert used > 1, f"{name}: every row in one partition"


@pytest.mark.parametrize("db_url", ["partitioned"], indirect=True)
def test_the_reads_of_one_subject_touch_one_partition(ctx: Context, tmp_path: Path) -> None:
    codes = seed.seed(ctx, today=DAY)
    _screen(ctx, tmp_path, list(codes.values()))
    for code in (codes["target"], codes["listed"]):
        with _statements(ctx.engine) as statements:
            with ctx.sessions() as session:
                subject = find(session, ctx.keys, code)
                assert subject is not None
                read = profile_read(subject.key)
                session.execute(read.statement, read.params).all()
                profile_of(session, subject, audience=Audience.PUBLIC, today=DAY)
                assert load_file_by_key(session, subject.key) is not None
                for query in (
                    select(Record.id).where(Record.subject_id == subject.id),
                    select(RecordVersion.id).where(RecordVersion.subject_id == subject.id),
                    select(ListEntry.id).where(
                        ListEntry.subject_id == subject.id, ListEntry.status == "current"
                    ),
                    select(CheckLine.line).where(CheckLine.subject_id == subject.id),
                ):
                    session.execute(query).all()
            screening.check(
                ctx, code, "procurement.bid", as_of=DAY, inquirer="t@mof", purpose="tender 8"
            )
        reads = [
            (statement, touched)
            for statement, parameters in statements
            if (touched := _touched(ctx.engine, statement, parameters))
        ]
        tables = set().union(*(touched for _, touched in reads))
        assert tables == set(PARTITIONED), "every partitioned table was read"
        for statement, touched in reads:
            for table, partitions in touched.items():
                assert len(partitions) == 1, f"{table}: {sorted(partitions)} read by {statement}"


@pytest.mark.parametrize("db_url", ["postgresql", "partitioned"], indirect=True)
def test_the_idempotency_key_is_unique_across_subjects(ctx: Context) -> None:
    codes = seed.seed(ctx, today=DAY)
    with ctx.engine.connect() as conn:
        record = conn.execute(
            text("SELECT id, subject_id, source, decision_no, party FROM records LIMIT 1")
        ).one()
        other = conn.execute(
            text("SELECT id FROM subjects WHERE id <> :sid ORDER BY id LIMIT 1"),
            {"sid": record.subject_id},
        ).scalar_one()
    assert codes
    with (
        pytest.raises(IntegrityError, match="source, decision_no, party"),
        ctx.engine.begin() as conn,
    ):
        conn.execute(
            text(
                "INSERT INTO records (subject_id, type_code, source, decision_no, party, "
                "decision_date, received_at, status, version, content, content_digest, "
                "updated_at) SELECT :other, type_code, source, decision_no, party, "
                "decision_date, received_at, status, 1, content, content_digest, "
                "updated_at FROM records WHERE id = :id"
            ),
            {"other": other, "id": record.id},
        )


_COPY = (
    "INSERT INTO records (subject_id, type_code, source, decision_no, party, decision_date, "
    "received_at, status, version, content, content_digest, updated_at) "
    "SELECT subject_id, type_code, source, :no, party, decision_date, received_at, status, "
    "1, content, content_digest, updated_at FROM records WHERE id = :id"
)


@pytest.mark.parametrize("db_url", ["postgresql", "partitioned"], indirect=True)
def test_a_record_moves_renumbers_and_goes_with_its_key(ctx: Context) -> None:
    """A merger moves a record to another subject (another partition), a renumbering
    changes its key, a deletion frees it; a dangling record id is refused."""
    seed.seed(ctx, today=DAY)
    with ctx.engine.begin() as conn:
        record = conn.execute(
            text("SELECT id, subject_id, decision_no, tableoid FROM records ORDER BY id LIMIT 1")
        ).one()
        others = conn.execute(
            text("SELECT id FROM subjects WHERE id <> :sid ORDER BY id"),
            {"sid": record.subject_id},
        ).scalars()
        partitioned = conn.execute(
            text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'records'::regclass")
        ).scalar_one()
        for other in others:
            home = conn.execute(
                text("UPDATE records SET subject_id = :other WHERE id = :id RETURNING tableoid"),
                {"other": other, "id": record.id},
            ).scalar_one()
            if home != record.tableoid:
                break
        assert (home != record.tableoid) == bool(partitioned), "moved to another partition"
        conn.execute(
            text("UPDATE records SET decision_no = decision_no || '-R' WHERE id = :id"),
            {"id": record.id},
        )
    renumbered = f"{record.decision_no}-R"
    # The old number is free again, the new one taken.
    with ctx.engine.begin() as conn:
        conn.execute(text(_COPY), {"no": record.decision_no, "id": record.id})
    with (
        pytest.raises(IntegrityError, match="source, decision_no, party"),
        ctx.engine.begin() as conn,
    ):
        conn.execute(text(_COPY), {"no": renumbered, "id": record.id})
    with pytest.raises(IntegrityError, match="record_id"), ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM records WHERE id = :id"), {"id": record.id})
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM record_versions WHERE record_id = :id"), {"id": record.id})
        conn.execute(text("DELETE FROM records WHERE id = :id"), {"id": record.id})
        kept = conn.execute(text("SELECT min(id) FROM records")).scalar_one()
        conn.execute(text(_COPY), {"no": renumbered, "id": kept})
    with pytest.raises(IntegrityError, match="record_id"), ctx.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO record_versions (record_id, subject_id, version, status, "
                "decision_date, content, raw, content_digest, changed_at, changed_by, "
                "reason) VALUES (:id, :sid, 1, 'active', :day, '{}', '{}', 'x', now(), "
                "'t', 'r')"
            ),
            {"id": record.id, "sid": record.subject_id, "day": DAY},
        )
