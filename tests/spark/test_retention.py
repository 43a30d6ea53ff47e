"""``records expire --engine spark``: the ends of publication and retention found on
Spark and written by the store's job, on both stores; the store's own search run after
it finds nothing left, so Spark found what SQL finds; a killed run's staging table is
overwritten by the rerun."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from bonafides.app.records import expire
from bonafides.cli import app
from bonafides.context import Context
from bonafides.records import RecordInput
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.feed import Kind
from bonafides.store.tables import AuditEvent, FeedEvent, Record
from bonafides.workflows.retention import expire_records
from tests import factories
from tests.rules.fixtures import ctx as ctx
from tests.spark.test_jobs import SECRET, _over_tcp

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]
TODAY = factories.office_today()
AS_OF = TODAY + dt.timedelta(days=60)


def _penalty(published: int, retained: int) -> RecordInput:
    """A penalty decided a month ago (public now), its publication and retention ending
    ``published`` and ``retained`` days from today."""
    return dataclasses.replace(
        factories.penalty(decision_date=TODAY - dt.timedelta(days=30)),
        published_until=TODAY + dt.timedelta(days=published),
        retention_until=TODAY + dt.timedelta(days=retained),
    )


def test_spark_expiry_finds_what_the_store_finds(spark: object, ctx: Context) -> None:
    items = {
        "both_ended": _penalty(10, 50),
        "both_ended_earlier": _penalty(5, 20),
        "publication_ended": _penalty(30, 400),
        "public": _penalty(100, 500),
        "public_longer": _penalty(200, 300),
    }
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, list(items.values()), actor="samr")
    spark_ctx = Context(Settings(db=_over_tcp(ctx.settings.db), secret_key=SECRET, demo=True))
    if spark_ctx.engine.dialect.name == "postgresql":
        with spark_ctx.engine.begin() as conn:
            conn.execute(text("CREATE TABLE spark_staged_expired (junk TEXT)"))
            conn.execute(text("INSERT INTO spark_staged_expired VALUES ('junk')"))
    try:
        result = expire(spark_ctx, as_of=AS_OF, actor="cli:op", engine="spark")
    finally:
        spark_ctx.close()
    assert (result.records, result.subjects) == (2, 2)
    with ctx.sessions.begin() as session:
        status = dict(session.execute(select(Record.decision_no, Record.status)).all())
        ended = set(
            session.scalars(
                select(Record.decision_no)
                .join(FeedEvent, FeedEvent.record_id == Record.id)
                .where(FeedEvent.kind == Kind.RECORD_PUBLICATION_ENDED.value)
            )
        )
        # The store's own search now finds nothing Spark left behind.
        again = expire_records(session, as_of=AS_OF, actor="cli:op")
        more = session.scalar(
            select(FeedEvent.id)
            .where(FeedEvent.kind == Kind.RECORD_PUBLICATION_ENDED.value)
            .order_by(FeedEvent.id.desc())
            .limit(1)
            .offset(len(ended))
        )
        tags = session.scalars(select(AuditEvent.tag)).all()
    expired = {name for name, item in items.items() if status[item.decision_no] == "expired"}
    assert expired == {"both_ended", "both_ended_earlier"}
    assert ended == {
        items[name].decision_no
        for name in ("both_ended", "both_ended_earlier", "publication_ended")
    }
    assert (again.records, again.subjects) == (0, 0)
    assert more is None
    assert tags.count("records:retention:expired") == 1
    with ctx.engine.connect() as conn:
        names = set(
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE tablename LIKE 'spark_staged%'"
                    if conn.dialect.name == "postgresql"
                    else "SELECT name FROM sqlite_master WHERE name LIKE 'spark_staged%'"
                )
            ).scalars()
        )
    assert names == set()


def test_expire_engine_is_checked_before_any_work(db_url: str) -> None:
    result = CliRunner().invoke(app, ["records", "expire", "--engine", "beam", "--db", db_url])
    assert result.exit_code == 2
    assert "--engine must be sql or spark, not 'beam'" in result.stderr
