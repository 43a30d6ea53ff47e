"""The store's tables as Spark DataFrames: over JDBC from PostgreSQL, from a Parquet
snapshot (how a SQLite store, or a copy of any store, reaches a cluster), or, for small
stores and tests, read through the store's own session."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bonafides.spark.evaluate import Tables
from bonafides.store.tables import Record, RecordVersion, Subject

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Per table, the columns the rules read, as (name, Spark SQL type).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "subjects": (("id", "bigint"), ("kind", "string"), ("adult_from", "date")),
    "records": (
        ("id", "bigint"),
        ("subject_id", "bigint"),
        ("type_code", "string"),
        ("source", "string"),
        ("status", "string"),
        ("severity", "string"),
        ("decision_date", "date"),
        ("content", "string"),
        ("retention_until", "date"),
    ),
    "record_versions": (
        ("record_id", "bigint"),
        ("subject_id", "bigint"),
        ("version", "int"),
        ("status", "string"),
        ("changed_at", "timestamp"),
    ),
}
_MODELS: dict[str, Any] = {"subjects": Subject, "records": Record, "record_versions": RecordVersion}


def _schema(table: str) -> str:
    return schema_of(COLUMNS[table])


def schema_of(columns: tuple[tuple[str, str], ...]) -> str:
    """Spark's DDL schema of (name, Spark SQL type) columns."""
    return ", ".join(f"{name} {kind}" for name, kind in columns)


def _tables(frames: dict[str, Any]) -> Tables:
    return Tables(frames["subjects"], frames["records"], frames["record_versions"])


#: Per table of ``COLUMNS``, the column that holds the subject's id.
SUBJECT_OF = {"subjects": "id", "records": "subject_id", "record_versions": "subject_id"}


@dataclass(frozen=True)
class Bucket:
    """The subjects whose id is in ``[low, high)``; None is no bound, so the buckets of
    ``buckets`` cover every id, even one a later write adds between its reads.

    A bucket is a range, not a hash class: a range is read through the subject's index
    (records) or a partition's key range, so reading all buckets reads each row once,
    where a hash class (id modulo B) would scan the whole table for each of B buckets."""

    low: int | None = None
    high: int | None = None

    def sql(self, column: str) -> str:
        """The condition on ``column`` (a name of this package's, never input)."""
        conds = [f"{column} >= {self.low}" if self.low is not None else ""]
        conds.append(f"{column} < {self.high}" if self.high is not None else "")
        return " AND ".join(c for c in conds if c)

    def keeps(self, frame: DataFrame, column: str) -> DataFrame:
        from pyspark.sql import functions as fn

        if self.low is not None:
            frame = frame.where(fn.col(column) >= self.low)
        if self.high is not None:
            frame = frame.where(fn.col(column) < self.high)
        return frame


def buckets(session: Session, size: int) -> list[Bucket]:
    """The subjects in buckets of ``size`` consecutive ids, at least one: the memory a job
    needs is that of a bucket, whatever the size of the store. The first bucket has no
    lower bound and the last no upper one."""
    if size < 1:
        raise ValueError(f"a bucket holds at least one subject, not {size}")
    numbered = select(
        Subject.id.label("id"), func.row_number().over(order_by=Subject.id).label("n")
    ).subquery()
    starts = session.scalars(
        select(numbered.c.id).where((numbered.c.n - 1) % size == 0).order_by(numbered.c.id)
    ).all()
    bounds: list[int | None] = [None, *starts[1:], None]
    return [Bucket(low, high) for low, high in itertools.pairwise(bounds)]


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def from_session(spark: SparkSession, session: Session) -> Tables:
    """Read the tables through the store's session: for tests and small stores only, as
    every row passes through this process."""
    frames = {}
    for table, columns in COLUMNS.items():
        model = _MODELS[table]
        rows = session.execute(select(*(getattr(model, name) for name, _ in columns))).all()
        data = [tuple(_value(v) for v in row) for row in rows]
        frames[table] = spark.createDataFrame(data, _schema(table))
    return _tables(frames)


#: Run first in each of Spark's JDBC read sessions. JIT compiled every bucket's read of
#: the versions through their records (about 0.15 s a read, and as much again in each
#: parallel worker) for a scan that runs in 0.2 s; Spark's partitions are already the
#: read's parallelism, so the store's parallel workers would only queue for the same
#: cores; and a bucket's versions must be reached through its records' index, one
#: lookup per record. Without parallel workers the planner priced a hash join over every
#: version of the store as cheaper, for each of a bucket's reads: at 1M subjects that
#: took the recompute from 316 to 383 s, and it grows with the square of the store.
READ_SESSION = (
    "SET jit = off; SET max_parallel_workers_per_gather = 0; "
    "SET enable_hashjoin = off; SET enable_mergejoin = off"
)


def jdbc_options(db_url: str) -> dict[str, str]:
    """The JDBC URL and credentials of a PostgreSQL store URL (``BONAFIDES_DB``), and
    the settings of a read session."""
    url = make_url(db_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError(f"JDBC input needs a PostgreSQL store, not {url.drivername}")
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    options = {
        "url": f"jdbc:postgresql://{host}{port}/{url.database}",
        "driver": "org.postgresql.Driver",
        "sessionInitStatement": READ_SESSION,
    }
    if url.username:
        options["user"] = url.username
    if url.password:
        options["password"] = url.password
    return options


def from_jdbc(
    spark: SparkSession, db_url: str, *, partitions: int = 8, bucket: Bucket = Bucket()
) -> Tables:
    """Read the ``bucket``'s rows of the tables from PostgreSQL over JDBC, each split into
    ``partitions`` reads.

    The whole store is split by ranges of each table's subject (records), id (subjects)
    or record (versions, whose index leads with it): one pass over each. A bucket of a
    store is split by ranges of its subjects in every table, and its versions are read
    through its records: the store has no index on the versions' subject, so a bucket
    that filtered the versions by it, or split them by record, read every version of the
    store once per bucket, and a job of B buckets B times (its cost then grew with the
    square of the store). Through the records' subject index each read touches its
    own subjects' rows only."""
    if bucket.low is None and bucket.high is None:
        return _tables(
            {
                table: jdbc_table(
                    spark,
                    db_url,
                    table,
                    columns,
                    key="record_id" if table == "record_versions" else SUBJECT_OF[table],
                    partitions=partitions,
                )
                for table, columns in COLUMNS.items()
            }
        )
    bounds = subject_bounds(spark, db_url, bucket)
    return _tables(
        {
            table: jdbc_table(
                spark,
                db_url,
                _VERSIONS_OF_RECORDS if table == "record_versions" else table,
                columns,
                key=SUBJECT_OF[table],
                partitions=partitions,
                where=bucket.sql(SUBJECT_OF[table]),
                bounds=bounds,
            )
            for table, columns in COLUMNS.items()
        }
    )


#: The versions with their record's subject, as a table to read a bucket's versions
#: from: the bucket's condition on ``subject_id`` becomes one on the records' subject,
#: which their index serves.
_VERSIONS_OF_RECORDS = (
    "(SELECT "  # noqa: S608 (names from this package's column lists)
    + ", ".join(
        "r.subject_id AS subject_id" if name == "subject_id" else f"v.{name} AS {name}"
        for name, _ in COLUMNS["record_versions"]
    )
    + " FROM record_versions v JOIN records r ON r.id = v.record_id) AS record_versions"
)


def subject_bounds(spark: SparkSession, db_url: str, bucket: Bucket) -> tuple[int, int]:
    """The lowest and highest subject id of ``bucket`` (0, 0 when it holds none), read
    from the subjects' primary key: the range its reads are split over."""
    return _bounds(spark, jdbc_options(db_url), "subjects", "id", f" WHERE {bucket.sql('id')}")


def jdbc_table(
    spark: SparkSession,
    db_url: str,
    table: str,
    columns: tuple[tuple[str, str], ...],
    *,
    key: str | None,
    partitions: int = 8,
    where: str = "",
    bounds: tuple[int, int] | None = None,
) -> DataFrame:
    """One table's ``columns`` (name, Spark SQL type) over JDBC, split into ``partitions``
    reads by ranges of the integer column ``key`` (one read without a key: a small
    table) between ``bounds`` (read from the table when not given); ``where`` (SQL of
    this package's constants, never input) keeps only some rows. ``table`` may be a
    parenthesised query with an alias. JSON columns come as text."""
    options = jdbc_options(db_url)
    names = ", ".join(
        f"CAST({name} AS TEXT) AS {name}" if name == "content" else name for name, _ in columns
    )
    condition = f" WHERE {where}" if where else ""
    # Names from this package's column lists, never from input.
    query = f"(SELECT {names} FROM {table}{condition}) AS t"  # noqa: S608
    if key is None:
        return spark.read.format("jdbc").options(**options).option("dbtable", query).load()
    if bounds is None:
        bounds = _bounds(spark, options, table, key, condition)
    return (
        spark.read.format("jdbc")
        .options(**options)
        .option("dbtable", query)
        .option("partitionColumn", key)
        .option("lowerBound", str(bounds[0]))
        .option("upperBound", str(bounds[1] + 1))
        .option("numPartitions", str(partitions))
        .option("fetchsize", "10000")
        .load()
    )


def _bounds(
    spark: SparkSession, options: dict[str, str], table: str, key: str, condition: str
) -> tuple[int, int]:
    row = (
        spark.read.format("jdbc")
        .options(**options)
        .option(
            "dbtable",
            f"(SELECT COALESCE(MIN({key}), 0) AS lo, "  # noqa: S608
            f"COALESCE(MAX({key}), 0) AS hi FROM {table}{condition}) AS b",
        )
        .load()
        .first()
    )
    assert row is not None
    return int(row["lo"]), int(row["hi"])


def snapshot(session: Session, directory: Path, *, batch: int = 50_000) -> Path:
    """Write the tables the rules read as Parquet files (one directory per table), read
    in batches so a large store never sits in memory whole."""
    for table, columns in COLUMNS.items():
        model = _MODELS[table]
        snapshot_table(
            session,
            directory / table,
            select(*(getattr(model, name) for name, _ in columns)),
            columns,
            batch=batch,
        )
    return directory


def snapshot_table(
    session: Session,
    target: Path,
    statement: Select[Any],
    columns: tuple[tuple[str, str], ...],
    *,
    batch: int = 50_000,
) -> Path:
    """Write the rows of ``statement`` (whose columns are ``columns``, as (name, Spark
    SQL type)) as a Parquet file in the directory ``target``, a batch at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "bigint": pa.int64(),
        "int": pa.int32(),
        "string": pa.string(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "boolean": pa.bool_(),
    }
    schema = pa.schema([(name, types[kind]) for name, kind in columns])
    target.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(target / "part-0.parquet", schema) as writer:
        result = session.execute(statement.execution_options(yield_per=batch))
        for rows in result.partitions(batch):
            data = [[_value(v) for v in row] for row in rows]
            arrays = [
                pa.array([row[i] for row in data], type=schema.field(i).type)
                for i in range(len(columns))
            ]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
    return target


def from_parquet(spark: SparkSession, directory: Path, *, bucket: Bucket = Bucket()) -> Tables:
    """Read the ``bucket``'s rows of a snapshot written by ``snapshot`` (or any Parquet
    files of those columns)."""
    frames = {
        table: bucket.keeps(
            spark.read.schema(_schema(table)).parquet(str(directory / table)), SUBJECT_OF[table]
        )
        for table in COLUMNS
    }
    return _tables(frames)


def from_parquet_table(
    spark: SparkSession, directory: Path, columns: tuple[tuple[str, str], ...]
) -> DataFrame:
    """One table written by ``snapshot_table`` (or any Parquet files of those columns)."""
    return spark.read.schema(schema_of(columns)).parquet(str(directory))


@dataclass(frozen=True)
class Read:
    """One table a job reads: its model, its columns (name, Spark SQL type), the integer
    column its JDBC reads are split on (None: one read, a small table), and ``equal``,
    (column, value) of this package's constants, to read only the rows with that value."""

    model: Any
    columns: tuple[tuple[str, str], ...]
    key: str | None = None
    equal: tuple[str, str] | None = None


#: Records with the dates their publication and retention periods end, read in parts by
#: subject; and subjects with the day they come of age: what the jobs over periods and
#: public figures read (``spark.retention``, ``spark.statistics``).
RECORD_PERIODS = Read(
    Record,
    (
        ("id", "bigint"),
        ("subject_id", "bigint"),
        ("type_code", "string"),
        ("status", "string"),
        ("decision_date", "date"),
        ("published_until", "date"),
        ("retention_until", "date"),
    ),
    "subject_id",
)
SUBJECT_AGES = Read(Subject, (("id", "bigint"), ("adult_from", "date")), "id")


@contextmanager
def read_store(
    spark: SparkSession,
    session: Session,
    db_url: str,
    tables: dict[str, Read],
    *,
    snapshot_dir: Path | None = None,
    partitions: int = 8,
) -> Iterator[dict[str, DataFrame]]:
    """Whole tables for a job, by name. Over JDBC from PostgreSQL unless ``snapshot_dir``
    is given; otherwise, and always for SQLite, a Parquet snapshot (in ``snapshot_dir``,
    or a temporary directory removed after the job). JSON columns come as text."""
    if snapshot_dir is None and session.connection().dialect.name == "postgresql":
        yield {
            name: jdbc_table(
                spark,
                db_url,
                name,
                read.columns,
                key=read.key,
                partitions=partitions,
                where="" if read.equal is None else f"{read.equal[0]} = '{read.equal[1]}'",
            )
            for name, read in tables.items()
        }
        return
    with tempfile.TemporaryDirectory(prefix="bonafides-spark-") as tmp:
        directory = snapshot_dir or Path(tmp)
        frames = {}
        for name, read in tables.items():
            table = read.model.__table__
            statement = select(
                *(
                    cast(table.c[column], Text) if column == "content" else table.c[column]
                    for column, _ in read.columns
                )
            )
            if read.equal is not None:
                statement = statement.where(table.c[read.equal[0]] == read.equal[1])
            target = snapshot_table(session, directory / f"job_{name}", statement, read.columns)
            frames[name] = from_parquet_table(spark, target, read.columns)
        yield frames
