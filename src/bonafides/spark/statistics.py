"""Public figures on Spark: the headline counts and the decisions per field and month
that the public statistics page shows (``app.public.statistics``), over whole tables.

What is counted is the one rule of ``bonafides.disclosure``: a public record by
``PUBLIC_RULE``, a decision in the monthly figures by ``COUNTED_RULE`` (public types,
never a minor's, inside retention), both compiled by ``spark.disclosure``. Spark reads
the committed store (JDBC or a Parquet snapshot) and writes nothing; the figures come
back to the caller, so a run killed midway leaves nothing but a temporary snapshot.

Only the application layer imports this module, after ``spark.session.require``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn
from sqlalchemy.orm import Session

from bonafides.spark.disclosure import counted, public
from bonafides.spark.sources import RECORD_PERIODS, SUBJECT_AGES, Read, read_store
from bonafides.store.tables import RecordType

TABLES: dict[str, Read] = {
    "records": RECORD_PERIODS,
    "record_types": Read(
        RecordType,
        (("code", "string"), ("field", "string"), ("disclosure", "string")),
        None,
    ),
    "subjects": SUBJECT_AGES,
}


@dataclass(frozen=True)
class Figures:
    subjects: int
    public_records: int
    #: (field, "YYYY-MM", decisions), by month then field.
    by_field_month: list[tuple[str, str, int]]


def _rated(frames: dict[str, DataFrame]) -> DataFrame:
    types = frames["record_types"].withColumnRenamed("code", "type_code")
    subjects = frames["subjects"].withColumnRenamed("id", "subject_id")
    return frames["records"].join(types, on="type_code").join(subjects, on="subject_id")


def count(frames: dict[str, DataFrame], *, today: dt.date, since: dt.date) -> Figures:
    """The figures as of ``today``, the monthly ones for decisions from ``since``."""
    rated = _rated(frames)
    months = (
        rated.where(
            counted(today)
            & (fn.col("decision_date") >= fn.lit(since))
            & (fn.col("decision_date") <= fn.lit(today))
        )
        .groupBy("field", fn.date_format("decision_date", "yyyy-MM").alias("month"))
        .count()
        .orderBy("month", "field")
        .collect()
    )
    return Figures(
        subjects=frames["subjects"].count(),
        public_records=rated.where(public(today)).count(),
        by_field_month=[(row["field"], row["month"], int(row["count"])) for row in months],
    )


def figures(
    spark: SparkSession,
    session: Session,
    db_url: str,
    *,
    today: dt.date,
    since: dt.date,
    snapshot_dir: Path | None = None,
) -> Figures:
    """Read the store's tables and count on Spark."""
    with read_store(spark, session, db_url, TABLES, snapshot_dir=snapshot_dir) as frames:
        return count(frames, today=today, since=since)
