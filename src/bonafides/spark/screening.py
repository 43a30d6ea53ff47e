"""Batch screening on Spark (``screen --engine spark``): the part that reads the whole
store, finding each line's subject and its entries in force, is a Spark join over the
store's subjects and current list entries; everything else is the store path's own
(``screening.batch``), so the answers, digests, certificate and audit event are the same
by construction.

Spark reads the committed store (over JDBC from PostgreSQL, from a Parquet snapshot for
SQLite or when a snapshot directory is given) and the batch's valid lines, shipped from
the driver. It writes nothing: the lines are stored by the batch path in the caller's one
transaction, and a job killed midway leaves nothing behind but a temporary snapshot.

Only the application layer imports this module, after ``spark.session.require``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn
from sqlalchemy.orm import Session

from bonafides.rules.model import Rules
from bonafides.rules.service import CURRENT
from bonafides.screening.batch import Found, Keyed, Lookup, collect
from bonafides.spark.sources import Read, read_store
from bonafides.store.tables import ListEntry, Subject

#: The columns of the two tables a screening reads, as (name, Spark SQL type).
SUBJECTS = (("id", "bigint"), ("key", "string"), ("kind", "string"), ("name", "string"))
ENTRIES = (
    ("subject_id", "bigint"),
    ("list_code", "string"),
    ("line", "int"),
    ("trigger_record_id", "bigint"),
    ("valid_from", "date"),
    ("valid_until", "date"),
    ("until_basis", "string"),
    ("record_ids", "string"),
)
#: The joined row ``screening.batch.collect`` takes.
_JOINED = (
    "pos",
    "id",
    "kind",
    "name",
    "list_code",
    "line",
    "trigger_record_id",
    "valid_from",
    "valid_until",
    "until_basis",
    "record_ids",
)


#: The tables a screening reads: every subject, and the current list entries.
TABLES = {
    "subjects": Read(Subject, SUBJECTS, "id"),
    "list_entries": Read(ListEntry, ENTRIES, "subject_id", ("status", CURRENT)),
}


def joined(
    inputs: DataFrame,
    subjects: DataFrame,
    entries: DataFrame,
    lists: list[str],
    as_of: dt.date,
) -> tuple[DataFrame, DataFrame]:
    """The lines' subjects (pos, subject_id) and, for the lines with entries in force on
    ``as_of`` on ``lists``, the rows of ``_JOINED`` (what the store's join gives)."""
    matched = inputs.join(subjects, on="key").select("pos", "id", "kind", "name")
    in_force = entries.where(
        fn.col("list_code").isin(lists)
        & (fn.col("valid_from") <= fn.lit(as_of))
        & (fn.col("valid_until") >= fn.lit(as_of))
    )
    listed = (
        matched.join(in_force, matched["id"] == in_force["subject_id"])
        .select(*_JOINED)
        .orderBy("pos", "list_code", "line", "trigger_record_id")
    )
    return matched.select("pos", fn.col("id").alias("subject_id")), listed


def lookup(
    spark: SparkSession,
    db_url: str,
    *,
    snapshot_dir: Path | None = None,
    partitions: int = 8,
) -> Lookup:
    """A ``screening.batch.Lookup`` that joins on Spark."""

    def find(
        session: Session, rules: Rules, action: str, as_of: dt.date, keyed: Keyed
    ) -> tuple[Found, pl.DataFrame]:
        valid = [pos for pos, key in enumerate(keyed.keys) if key is not None]
        inputs = spark.createDataFrame(
            pa.table(
                {
                    "pos": pa.array(valid, type=pa.int64()),
                    "key": pa.array([keyed.keys[pos] for pos in valid], type=pa.string()),
                }
            )
        )
        with read_store(
            spark, session, db_url, TABLES, snapshot_dir=snapshot_dir, partitions=partitions
        ) as frames:
            matched, listed = joined(
                inputs,
                frames["subjects"],
                frames["list_entries"],
                list(rules.lists_for(action)) or [""],
                as_of,
            )
            rows = pl.from_arrow(listed.toArrow())
            frame = pl.from_arrow(matched.toArrow())
        assert isinstance(rows, pl.DataFrame)
        assert isinstance(frame, pl.DataFrame)
        found = collect(rows, len(keyed))
        return found, frame.select(pl.col("pos", "subject_id").cast(pl.Int64))

    return find
