"""The end of publication and retention periods on Spark (``records expire --engine
spark``): the two whole-table searches on Spark, the writes by the store's own job.

Spark reads records, their types, subjects and the change feed, and finds the records
whose retention ended before the day and are not yet expired or revoked, and the records
the public was shown and may see no more (the one rule ``bonafides.disclosure.PUBLIC_RULE``,
compiled by ``spark.disclosure``). The ids go into two staging tables; the store's job
(``workflows.retention.expire_records``) then checks each again and writes the versions,
feed events, list entries and audit event in the caller's one transaction, which drops
the staging tables: readers see everything or nothing. A job killed midway leaves at most
a staging table, which the rerun overwrites; it reads only committed data, so it reaches
the same result.

Only the application layer imports this module, after ``spark.session.require``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as fn
from sqlalchemy import BigInteger, Column, MetaData, Select, Table, select
from sqlalchemy.orm import Session

from bonafides.records import RecordStatus
from bonafides.spark.disclosure import public
from bonafides.spark.jobs import drop, stage
from bonafides.spark.sources import RECORD_PERIODS, SUBJECT_AGES, Read, read_store
from bonafides.store.tables import FeedEvent, RecordType
from bonafides.workflows.retention import ExpiryResult, expire_records

#: A revoked decision never existed and stays revoked; an expired one has ended already.
_FINAL = [RecordStatus.EXPIRED.value, RecordStatus.REVOKED.value]
TABLES: dict[str, Read] = {
    "records": RECORD_PERIODS,
    "record_types": Read(RecordType, (("code", "string"), ("disclosure", "string")), None),
    "subjects": SUBJECT_AGES,
    "feed_events": Read(
        FeedEvent,
        (
            ("id", "bigint"),
            ("record_id", "bigint"),
            ("list_entry_id", "bigint"),
            ("is_public", "boolean"),
            ("tombstone", "boolean"),
        ),
        "id",
    ),
}


def _ids_table(name: str, *, temporary: bool) -> Table:
    return Table(
        name,
        MetaData(),
        Column("record_id", BigInteger),
        prefixes=["TEMPORARY"] if temporary else [],
    )


def due(records: DataFrame, as_of: dt.date) -> DataFrame:
    """Records whose retention ended before ``as_of`` and that have not ended already."""
    return records.where(
        (fn.col("retention_until") < fn.lit(as_of)) & ~fn.col("status").isin(_FINAL)
    ).select(fn.col("id").alias("record_id"))


def publications_ended(frames: dict[str, DataFrame], today: dt.date) -> DataFrame:
    """Records shown to the public since their last tombstone (``store.feed``'s test:
    the last public, non-tombstone event after the last record tombstone) that the
    public rule hides on ``today``."""
    events = frames["feed_events"].where(fn.col("record_id").isNotNull())
    by_record = Window.partitionBy("record_id")
    marks = (
        events.withColumn(
            "shown",
            fn.max(fn.when(fn.col("is_public") & ~fn.col("tombstone"), fn.col("id"))).over(
                by_record
            ),
        )
        .withColumn(
            "record_shown",
            fn.max(
                fn.when(
                    fn.col("is_public") & ~fn.col("tombstone") & fn.col("list_entry_id").isNull(),
                    fn.lit(1),
                )
            ).over(by_record),
        )
        .withColumn(
            "dropped",
            fn.coalesce(
                fn.max(
                    fn.when(fn.col("tombstone") & fn.col("list_entry_id").isNull(), fn.col("id"))
                ).over(by_record),
                fn.lit(0),
            ),
        )
        .where(fn.col("record_shown").isNotNull() & (fn.col("shown") > fn.col("dropped")))
        .select(fn.col("record_id").alias("id"))
        .distinct()
    )
    types = frames["record_types"].withColumnRenamed("code", "type_code")
    subjects = frames["subjects"].withColumnRenamed("id", "subject_id")
    hidden = (
        frames["records"]
        .join(types, on="type_code")
        .join(subjects, on="subject_id")
        .where(~public(today))
        .select("id")
    )
    return marks.join(hidden, on="id").select(fn.col("id").alias("record_id"))


def expire(
    spark: SparkSession,
    session: Session,
    db_url: str,
    *,
    as_of: dt.date,
    actor: str,
    snapshot_dir: Path | None = None,
) -> ExpiryResult:
    """Find on Spark, stage, and let the store's job write, in ``session``'s transaction."""
    temporary = session.connection().dialect.name != "postgresql"
    expired = _ids_table("spark_staged_expired", temporary=temporary)
    ended = _ids_table("spark_staged_publication_ended", temporary=temporary)
    with read_store(spark, session, db_url, TABLES, snapshot_dir=snapshot_dir) as frames:
        stage(session, db_url, due(frames["records"], as_of), expired)
        stage(session, db_url, publications_ended(frames, as_of), ended)
    among: Select[tuple[int]] = select(expired.c.record_id)
    ended_among: Select[tuple[int]] = select(ended.c.record_id)
    result = expire_records(session, as_of=as_of, actor=actor, among=among, ended_among=ended_among)
    drop(session, expired, ended)
    return result
