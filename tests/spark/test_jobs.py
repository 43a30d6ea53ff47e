"""``lists recompute --engine spark``: the same entries and grades as the store's SQL, on
both stores (SQLite through a Parquet snapshot, PostgreSQL over JDBC), written through
staging tables in one swap; a rerun over a killed run's leftovers gives the same result."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bonafides.app.rules import recompute
from bonafides.app.unit import UnitOfWork
from bonafides.cli import app
from bonafides.context import Context
from bonafides.rules.compile import ENTRY_COLUMNS
from bonafides.rules.loader import packaged_rules
from bonafides.rules.service import CURRENT
from bonafides.settings import Settings
from bonafides.spark.jobs import for_writing
from bonafides.spark.sources import Bucket, buckets, jdbc_table
from bonafides.store.db import make_engine
from bonafides.store.tables import Grade, ListEntry, Subject
from tests.rules.fixtures import ctx as ctx
from tests.rules.generate import clear_store, store
from tests.spark.test_agreement import gathered

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]
AS_OF = dt.date(2025, 3, 1)
ROLE = "bonafides_spark_test"
PASSWORD = "spark-test-password"
SECRET = "test-secret-key-123"  # that of the ctx fixture


def _over_tcp(db_url: str) -> str:
    """The store's URL as Spark's JDBC driver can reach it.

    The test databases are reached over the Unix socket with peer authentication, which
    JDBC cannot use; a role with a password, allowed into this database, can come over
    TCP like a cluster's executors would.
    """
    url = make_url(db_url)
    if not url.drivername.startswith("postgresql"):
        return db_url
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                f"'{ROLE}') THEN CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'; END IF; END $$"
            )
        )
        for grant in (
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {ROLE}",
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {ROLE}",
            f"GRANT CREATE ON SCHEMA public TO {ROLE}",
        ):
            conn.execute(text(grant))
    engine.dispose()
    tcp = url.set(username=ROLE, password=PASSWORD, host="127.0.0.1")
    return tcp.render_as_string(hide_password=False)


def _run(ctx: Context, engine: str) -> tuple[int, int]:
    with UnitOfWork(ctx.sessions) as unit:
        lists, _ = recompute(
            unit, ctx, packaged_rules(), as_of=AS_OF, full=True, actor="test", engine=engine
        )
    return lists.added, lists.superseded


def _stored(ctx: Context) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    with ctx.sessions() as session:
        entries = {
            tuple(row)
            for row in session.execute(
                select(*(ListEntry.__table__.c[n] for n in ENTRY_COLUMNS)).where(
                    ListEntry.status == CURRENT
                )
            )
        }
        grades = {
            tuple(row)
            for row in session.execute(
                select(
                    Grade.scheme, Grade.subject_id, Grade.grade, Grade.line, Grade.record_ids
                ).where(Grade.as_of == AS_OF)
            )
        }
    return entries, grades


def _held(spark: Any) -> tuple[set[str], int]:
    """The session's temporary views and the number of cached datasets: what a
    long-lived session (a service, a notebook running job after job) would accumulate."""
    views = {t.name for t in spark.catalog.listTables() if t.isTemporary}
    return views, spark.sparkContext._jsc.getPersistentRDDs().size()


def test_spark_recompute_writes_what_sql_writes(spark: object, ctx: Context) -> None:
    rules = packaged_rules()
    with ctx.sessions.begin() as session:
        clear_store(session)
        store(session, gathered(rules, 20))
    spark_ctx = Context(Settings(db=_over_tcp(ctx.settings.db), secret_key=SECRET, demo=True))
    if spark_ctx.engine.dialect.name == "postgresql":
        # What a run killed while Spark wrote its staging table leaves behind.
        with spark_ctx.engine.begin() as conn:
            conn.execute(text("CREATE TABLE spark_staged_entries (list_code TEXT)"))
            conn.execute(text("INSERT INTO spark_staged_entries VALUES ('junk')"))
    views, kept = _held(spark)
    try:
        added, superseded = _run(spark_ctx, "spark")
    finally:
        spark_ctx.close()
    assert _held(spark) == (views, kept), "the job left views or cached tables in the session"
    assert added > 10
    assert superseded == 0
    by_spark = _stored(ctx)
    assert _run(ctx, "sql") == (0, 0)
    assert _stored(ctx) == by_spark
    assert by_spark[1], "no grade as of the day: the comparison proves nothing"


def test_buckets_hold_every_subject_once_and_at_most_their_size(ctx: Context) -> None:
    with ctx.sessions.begin() as session:
        clear_store(session)
        store(session, gathered(packaged_rules(), 5))
        ids = session.scalars(select(Subject.id)).all()
        assert len(ids) > 7, "too few subjects to split"
        split = buckets(session, 3)
        whole = buckets(session, len(ids))

    def held(bucket: Bucket) -> list[int]:
        return [
            i
            for i in ids
            if (bucket.low is None or i >= bucket.low) and (bucket.high is None or i < bucket.high)
        ]

    assert sorted(i for bucket in split for i in held(bucket)) == sorted(ids)
    assert [len(held(bucket)) for bucket in split[:-1]] == [3] * (len(split) - 1)
    assert 1 <= len(held(split[-1])) <= 3
    assert whole == [Bucket()]


def test_a_recompute_in_buckets_writes_what_sql_writes(spark: object, ctx: Context) -> None:
    """Every line looks at one subject's records, so splitting the subjects changes
    nothing: several buckets, staged one after another, give the entries and grades the
    store's SQL gives (one bucket's are, by ``test_spark_recompute_writes_what_sql_writes``),
    and the SQL finds nothing to change after them."""
    rules = packaged_rules()
    with ctx.sessions.begin() as session:
        clear_store(session)
        store(session, gathered(rules, 20))
        subjects = len(session.scalars(select(Subject.id)).all())
        size = -(-subjects // 3)
        assert len(buckets(session, size)) == 3
    in_three = Context(
        Settings(
            db=_over_tcp(ctx.settings.db), secret_key=SECRET, demo=True, spark_bucket_subjects=size
        )
    )
    try:
        added, _ = _run(in_three, "spark")
        by_three = _stored(ctx)
    finally:
        in_three.close()
    assert added > 10
    assert by_three[1], "no grade as of the day: the comparison proves nothing"
    assert _run(ctx, "sql") == (0, 0)
    assert _stored(ctx) == by_three


def test_a_result_is_written_in_at_most_the_shuffles_partitions(spark: Any) -> None:
    """A union of many lines' rows, each in several partitions, is merged before it is
    written: a task per partition each deserialised the whole plan and opened its own
    connection (193 of them per bucket at 8 shuffle partitions)."""
    lines = [spark.range(line * 10, line * 10 + 10, numPartitions=4) for line in range(24)]
    union = functools.reduce(lambda a, b: a.unionByName(b), lines)
    assert union.rdd.getNumPartitions() == 96
    written = for_writing(union)
    assert written.rdd.getNumPartitions() <= int(spark.conf.get("spark.sql.shuffle.partitions"))
    assert sorted(row.id for row in written.collect()) == list(range(240))


def test_a_read_session_runs_without_jit_parallel_workers_or_whole_table_joins(
    spark: Any, db_url: str
) -> None:
    """Spark reads the store in sessions of its own, where the store's no_jit does not
    reach: JIT compiled every bucket's read of the versions for longer than the read ran,
    and a hash join read every version of the store for each of a bucket's reads."""
    if not db_url.startswith("postgresql"):
        pytest.skip("JDBC reads a PostgreSQL store")
    names = ("jit", "max_parallel_workers_per_gather", "enable_hashjoin", "enable_mergejoin")
    settings = jdbc_table(
        spark,
        _over_tcp(db_url),
        "(SELECT " + ", ".join(f"current_setting('{name}') AS {name}" for name in names) + ") AS s",
        tuple((name, "string") for name in names),
        key=None,
    ).collect()
    assert [tuple(row) for row in settings] == [("off", "0", "off", "off")]


def test_the_engine_needs_pyspark(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    result = CliRunner().invoke(app, ["lists", "recompute", "--engine", "spark", "--db", db_url])
    assert result.exit_code == 2
    assert "the Spark engine needs pyspark: pip install bonafides[spark]" in result.stderr
