"""The open-data export on Spark (``export --engine spark``): a snapshot's records and
list entries selected on Spark, written by the store path's own code.

Spark reads the store's records, record types, subjects and current list entries (over
JDBC from PostgreSQL, from a Parquet snapshot for SQLite or when a snapshot directory is
given), joins them and keeps what the public may see. What is public is the one rule,
``bonafides.disclosure.PUBLIC_RULE``, compiled from its SQL spelling to a Spark SQL
expression (``spark.disclosure``), never restated; a list entry is public when its deciding record
is and so is every record behind it, as ``store.disclosure.entry_is_public`` says. The
rows come back to the driver in id order and are shaped and written exactly as the store
engine shapes and writes them (``exchange.export``: content cut to its public fields, a
person by family name alone and never an ID number), into the hidden directory that the
export renames into place whole. A job killed midway leaves that directory, which the
next run clears; it starts from the start and writes the same files.

Only the application layer imports this module, after ``spark.session.require``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.exchange.export import (
    ENTRIES,
    MEASURES,
    RECORDS,
    ExportError,
    TablesWriter,
    entry_columns,
    measure_columns,
    public_content,
    record_columns,
    write_table,
)
from bonafides.exchange.sinks import ExportFormat, Scope, Written
from bonafides.rules.model import Rules
from bonafides.rules.service import CURRENT
from bonafides.spark.disclosure import public
from bonafides.spark.sources import Read, read_store
from bonafides.store.lists import EntryRow
from bonafides.store.tables import ListEntry, Record, RecordType, Subject

#: Per table the columns the export reads, as (name, Spark SQL type).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "records": (
        ("id", "bigint"),
        ("subject_id", "bigint"),
        ("type_code", "string"),
        ("source", "string"),
        ("decision_no", "string"),
        ("decision_date", "date"),
        ("status", "string"),
        ("severity", "string"),
        ("legal_basis", "string"),
        ("published_until", "date"),
        ("retention_until", "date"),
        ("updated_at", "timestamp"),
        ("content", "string"),
    ),
    "record_types": (
        ("code", "string"),
        ("field", "string"),
        ("polarity", "string"),
        ("disclosure", "string"),
    ),
    "subjects": (
        ("id", "bigint"),
        ("kind", "string"),
        ("key", "string"),
        ("code_display", "string"),
        ("name", "string"),
        ("name_en", "string"),
        ("region", "string"),
        ("adult_from", "date"),
    ),
    "list_entries": (
        ("id", "bigint"),
        ("list_code", "string"),
        ("line", "int"),
        ("subject_id", "bigint"),
        ("trigger_record_id", "bigint"),
        ("valid_from", "date"),
        ("valid_until", "date"),
        ("until_basis", "string"),
        ("reason", "string"),
        ("record_ids", "string"),
    ),
}
_MODELS: dict[str, Any] = {
    "records": Record,
    "record_types": RecordType,
    "subjects": Subject,
    "list_entries": ListEntry,
}
#: The integer column each table's JDBC reads are split on (record types are few).
_SPLIT = {"records": "subject_id", "subjects": "id", "list_entries": "subject_id"}
#: The columns of ``store.exports.RECORD_COLUMNS``, in its order, as this job names them.
_RECORD_ROW = (
    "id",
    "type_code",
    "field",
    "polarity",
    "source",
    "decision_no",
    "decision_date",
    "status",
    "severity",
    "legal_basis",
    "published_until",
    "updated_at",
    "content",
    "kind",
    "key",
    "code_display",
    "name",
    "name_en",
    "region",
)
#: The fields of ``store.lists.EntryRow``, in its order, as this job names them.
_ENTRY_ROW = (
    "id",
    "list_code",
    "line",
    "kind",
    "key",
    "code_display",
    "name",
    "name_en",
    "region",
    "adult_from",
    "valid_from",
    "valid_until",
    "until_basis",
    "reason",
    "field",
    "type_code",
    "source",
    "decision_no",
    "decision_date",
)
BATCH = 5_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Tables:
    records: DataFrame
    record_types: DataFrame
    subjects: DataFrame
    entries: DataFrame


@contextmanager
def read_tables(
    spark: SparkSession,
    session: Session,
    db_url: str,
    *,
    snapshot_dir: Path | None = None,
    partitions: int = 8,
) -> Iterator[Tables]:
    """The four tables (``spark.sources.read_store``), only current entries."""
    reads = {
        name: Read(
            _MODELS[name],
            columns,
            _SPLIT.get(name),
            ("status", CURRENT) if name == "list_entries" else None,
        )
        for name, columns in COLUMNS.items()
    }
    with read_store(
        spark, session, db_url, reads, snapshot_dir=snapshot_dir, partitions=partitions
    ) as frames:
        yield Tables(
            frames["records"], frames["record_types"], frames["subjects"], frames["list_entries"]
        )


def _with_rule(tables: Tables, today: dt.date) -> DataFrame:
    """Every record beside its type and subject, with ``shown``: public on ``today``."""
    types = tables.record_types.withColumnRenamed("code", "type_code")
    subjects = tables.subjects.withColumnRenamed("id", "subject_id")
    return (
        tables.records.join(types, on="type_code")
        .join(subjects, on="subject_id")
        .withColumn("shown", public(today))
    )


def public_records(tables: Tables, today: dt.date) -> DataFrame:
    """The public records as rows of ``store.exports.RECORD_COLUMNS``, in id order; the
    update time as microseconds since the epoch (Python's timestamps would be local)."""
    return (
        _with_rule(tables, today)
        .where(fn.col("shown"))
        .withColumn("updated_at", fn.unix_micros("updated_at"))
        .select(*_RECORD_ROW)
        .orderBy("id")
    )


def public_entries(tables: Tables, today: dt.date) -> DataFrame:
    """The public entries in force on ``today`` as rows of ``store.lists.EntryRow``, in id
    order: the deciding record is public, and no other record of the subject whose id is
    in the entry's ``record_ids`` is not (``store.disclosure.entry_is_public``)."""
    records = _with_rule(tables, today)
    entries = tables.entries.where(
        (fn.col("valid_from") <= fn.lit(today)) & (fn.col("valid_until") >= fn.lit(today))
    )
    behind = (
        entries.select(
            fn.col("id").alias("entry_id"),
            "subject_id",
            fn.explode(fn.split("record_ids", ",")).alias("behind"),
        )
        .join(
            records.select(
                fn.col("id").cast("string").alias("behind"),
                "subject_id",
                fn.col("shown").alias("behind_shown"),
            ),
            on=["behind", "subject_id"],
        )
        .where(~fn.col("behind_shown"))
        .select("entry_id")
        .distinct()
    )
    deciding = records.where(fn.col("shown")).select(
        fn.col("id").alias("trigger_record_id"),
        "kind",
        "key",
        "code_display",
        "name",
        "name_en",
        "region",
        "adult_from",
        "field",
        "type_code",
        "source",
        "decision_no",
        "decision_date",
    )
    return (
        entries.join(deciding, on="trigger_record_id")
        .join(behind, entries["id"] == behind["entry_id"], "left_anti")
        .select(*_ENTRY_ROW)
        .orderBy("id")
    )


def _batches(frame: DataFrame) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``frame`` in its order, ``BATCH`` at a time, fetched a partition at a
    time so the driver never holds the whole table."""
    batch: list[tuple[Any, ...]] = []
    for row in frame.toLocalIterator(prefetchPartitions=True):
        batch.append(tuple(row))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _record_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    at = _RECORD_ROW.index("updated_at")
    return [
        (
            *row[:at],
            None if row[at] is None else _EPOCH + dt.timedelta(microseconds=row[at]),
            *row[at + 1 :],
        )
        for row in rows
    ]


def tables_writer(
    spark: SparkSession,
    db_url: str,
    *,
    snapshot_dir: Path | None = None,
    partitions: int = 8,
) -> TablesWriter:
    """An ``exchange.export.TablesWriter`` that selects on Spark (snapshots only)."""

    def write(
        session: Session,
        written: Written,
        fmt: ExportFormat,
        scope: Scope,
        *,
        catalogue: Catalogue,
        rules: Rules,
    ) -> None:
        if scope.since is not None:
            raise ExportError("--engine spark makes snapshots only; a delta (--since) is SQL's")
        content = public_content(catalogue)
        with read_tables(
            spark, session, db_url, snapshot_dir=snapshot_dir, partitions=partitions
        ) as tables:
            write_table(
                written,
                fmt,
                "records",
                RECORDS,
                (
                    record_columns(_record_rows(rows), content)
                    for rows in _batches(public_records(tables, scope.today))
                ),
            )
            write_table(
                written,
                fmt,
                "entries",
                ENTRIES,
                (
                    entry_columns([EntryRow(*row) for row in rows])
                    for rows in _batches(public_entries(tables, scope.today))
                ),
            )
        write_table(written, fmt, "measures", MEASURES, [measure_columns(rules)])

    return write
