"""Whole-table jobs on Spark: every list and the grades, evaluated by the Spark evaluator
and written back through staging tables and one swap.

A job reads the store's tables (over JDBC from PostgreSQL; from a Parquet snapshot for
SQLite, or any store when a snapshot is given) one bucket of subjects at a time
(``sources.buckets``: every list line and grade line looks at one subject's records, so
a bucket's entries and grades are those of its subjects in the whole store), evaluates
the bucket on Spark, and appends its result to staging tables before the next bucket is
read: the records Spark keeps are one bucket's, so the memory a job needs is bounded by
the bucket, not the store (with the whole store kept at once, 4 million subjects outgrew
a 12 GB driver and spilled every cached partition to disk). A PostgreSQL store receives
the staged rows from Spark's executors over JDBC, in parallel, into ordinary tables a
rerun overwrites; a SQLite store (small by nature) receives them through the job's own
connection into temporary tables. The swap is then the store's own difference step
(``rules.service``) inside the caller's one transaction: readers see the old entries
until it commits and the new ones after, never a mixture. A job killed midway leaves at
most a staging table, which the rerun overwrites; it starts from the start and reaches
the same result, since it reads only the committed store.

Only the application layer imports this module, after ``spark.session.require``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.orm import Session

from bonafides.rules.compile import ENTRY_COLUMNS, GRADE_COLUMNS
from bonafides.rules.model import Rules
from bonafides.spark.evaluate import SparkEvaluator, Tables
from bonafides.spark.sources import Bucket, from_jdbc, from_parquet, jdbc_options, snapshot

#: Rows per insert when a staging table is filled through the job's own connection.
BATCH = 5_000


def _entries_table(name: str, *, temporary: bool) -> Table:
    return Table(
        name,
        MetaData(),
        Column("list_code", Text),
        Column("line", Integer),
        Column("subject_id", BigInteger),
        Column("trigger_record_id", BigInteger),
        Column("valid_from", Date),
        Column("valid_until", Date),
        Column("until_basis", Text),
        Column("record_ids", Text),
        Column("reason", Text),
        prefixes=["TEMPORARY"] if temporary else [],
    )


def _grades_table(name: str, *, temporary: bool) -> Table:
    return Table(
        name,
        MetaData(),
        Column("scheme", String(64)),
        Column("subject_id", BigInteger),
        Column("grade", Text),
        Column("line", Integer),
        Column("record_ids", Text),
        prefixes=["TEMPORARY"] if temporary else [],
    )


@contextmanager
def read_tables(
    spark: SparkSession,
    session: Session,
    db_url: str,
    *,
    snapshot_dir: Path | None = None,
    partitions: int = 8,
) -> Iterator[Callable[[Bucket], Tables]]:
    """The store's tables for a job, a bucket of subjects at a time: over JDBC from
    PostgreSQL unless ``snapshot_dir`` is given; otherwise, and always for SQLite, a
    Parquet snapshot of the whole store (written to ``snapshot_dir``, or to a temporary
    directory removed after the job), read with the bucket's filter."""
    if snapshot_dir is None and session.connection().dialect.name == "postgresql":
        yield lambda bucket: from_jdbc(spark, db_url, partitions=partitions, bucket=bucket)
        return
    with tempfile.TemporaryDirectory(prefix="bonafides-spark-") as tmp:
        directory = snapshot(session, snapshot_dir or Path(tmp))
        yield lambda bucket: from_parquet(spark, directory, bucket=bucket)


def for_writing(frame: DataFrame) -> DataFrame:
    """``frame`` in at most the session's shuffle partitions, merged without a shuffle.

    A job's result is the union of every list line's (or grade line's) rows, each in as
    many partitions as a shuffle makes: 193 partitions for the entries at 8. Written as
    they were, each of 193 tasks deserialised the whole plan (1.3 MB) and opened its own
    connection to write a few rows, and that was most of a small bucket's time: at 20,000
    subjects five buckets cost 2.4 times one. The lines' own work keeps its parallelism;
    only the last step, reading their shuffled rows and writing them, is merged."""
    partitions = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions") or 1)
    return frame.coalesce(partitions)


def stage(
    session: Session, db_url: str, frame: DataFrame, table: Table, *, first: bool = True
) -> Table:
    """Write a job's result into a staging table and return it: the ``first`` write
    replaces what the table held (what a killed run left), the next ones append.

    On PostgreSQL Spark writes it over JDBC; on SQLite the rows come through this process
    into a temporary table of the session.
    """
    conn = session.connection()
    frame = for_writing(frame)
    if conn.dialect.name == "postgresql":
        options = jdbc_options(db_url)
        (
            frame.write.format("jdbc")
            .options(**options)
            .option("dbtable", table.name)
            .option("batchsize", str(BATCH))
            .mode("overwrite" if first else "append")
            .save()
        )
        return table
    if first:
        table.drop(conn, checkfirst=True)
        table.create(conn)
    names = [c.name for c in table.columns]
    batch: list[dict[str, object]] = []
    for row in frame.select(*names).toLocalIterator():
        batch.append(row.asDict())
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
    return table


def stage_buckets(
    session: Session,
    db_url: str,
    rules: Rules,
    read: Callable[[Bucket], Tables],
    buckets: Sequence[Bucket],
    *,
    zone: str,
    as_of: dt.date,
) -> tuple[Table, Table | None]:
    """Every list's entries and the grades as of ``as_of``, evaluated a bucket at a time
    and staged; the staged grades are None without schemes. A bucket's records are
    released before the next is read."""
    entries_table, grades_table = staging_tables(session)
    for number, bucket in enumerate(buckets):
        with evaluate(rules, read(bucket), zone=zone, as_of=as_of) as (entries, grades):
            stage(session, db_url, entries, entries_table, first=number == 0)
            if grades is not None:
                stage(session, db_url, grades, grades_table, first=number == 0)
    return entries_table, grades_table if rules.grades else None


@contextmanager
def evaluate(
    rules: Rules,
    tables: Tables,
    *,
    zone: str,
    as_of: dt.date,
) -> Iterator[tuple[DataFrame, DataFrame | None]]:
    """The entries of every list and the grades as of ``as_of`` (None without schemes),
    to be written inside the block: on leaving it the evaluator's cached records and views
    are released, so a session that runs job after job (a service, a notebook, the tests)
    does not keep every job's copy of the store in memory."""
    evaluator = SparkEvaluator(rules, tables, zone=zone)
    try:
        entries = evaluator.entries().select(*ENTRY_COLUMNS)
        grades = evaluator.grades(as_of).select(*GRADE_COLUMNS) if rules.grades else None
        yield entries, grades
    finally:
        evaluator.close()


def staging_tables(session: Session) -> tuple[Table, Table]:
    """The two staging tables of a job (ordinary tables on PostgreSQL, so Spark's
    executors can fill them over JDBC)."""
    temporary = session.connection().dialect.name != "postgresql"
    return (
        _entries_table("spark_staged_entries", temporary=temporary),
        _grades_table("spark_staged_grades", temporary=temporary),
    )


def drop(session: Session, *tables: Table) -> None:
    conn = session.connection()
    for table in tables:
        table.drop(conn, checkfirst=True)
