"""Public figures on Spark agree with the store's (``app.public.statistics``) on both
stores, over data with minors, restricted, revoked and ended records."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from bonafides.app.public import statistics
from bonafides.cli import app
from bonafides.context import Context
from bonafides.settings import Settings
from tests.exchange.conftest import SECRET, World
from tests.exchange.conftest import ctx as ctx
from tests.exchange.conftest import settings as settings
from tests.exchange.conftest import world as world
from tests.spark.test_jobs import _over_tcp

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]


def test_spark_figures_are_the_stores(spark: object, ctx: Context, world: World) -> None:
    from bonafides.spark.session import job_session
    from bonafides.spark.statistics import figures

    today = ctx.today()
    with ctx.sessions() as session:
        by_store = statistics(session, ctx, today=today)
    since = dt.date.fromisoformat(f"{by_store.months[0]}-01")
    spark_ctx = Context(Settings(db=_over_tcp(ctx.settings.db), secret_key=SECRET))
    try:
        with spark_ctx.sessions() as session:
            by_spark = figures(
                job_session(), session, spark_ctx.settings.db, today=today, since=since
            )
    finally:
        spark_ctx.close()
    assert by_spark.subjects == by_store.headline.subjects
    assert by_spark.public_records == by_store.headline.public_records == len(world.public_ids)
    assert by_spark.by_field_month == [
        (row.field, row.month, row.records) for row in by_store.by_field_month
    ]
    assert by_spark.by_field_month, "nothing counted: the comparison proves nothing"


def test_the_command_prints_the_same_figures_on_both_engines(
    spark: object, ctx: Context, world: World
) -> None:
    url = _over_tcp(ctx.settings.db)
    env = {"BONAFIDES_SECRET_KEY": SECRET}
    runs = [
        CliRunner().invoke(app, ["stats", "figures", "--engine", engine, "--db", url], env=env)
        for engine in ("sql", "spark")
    ]
    assert [r.exit_code for r in runs] == [0, 0], [r.output for r in runs]
    assert runs[0].stdout == runs[1].stdout
    assert f"{len(world.public_ids)} public records" in runs[0].stdout
