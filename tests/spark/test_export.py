"""``export --engine spark``: the same files, rows and manifest counts as the store's own
engine, on both stores (SQLite through a Parquet snapshot, PostgreSQL over JDBC), and
nothing the public may not see: no ID number, no minor, nothing past its publication."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bonafides.app.exports import make_export
from bonafides.cli import app
from bonafides.context import Context
from bonafides.exchange.export import ExportError, verify
from bonafides.exchange.sinks import ExportFormat
from bonafides.settings import Settings
from tests.exchange.conftest import ADULT_NAME, MINOR_NAME, SECRET, World
from tests.exchange.conftest import ctx as ctx
from tests.exchange.conftest import settings as settings
from tests.exchange.conftest import world as world
from tests.exchange.test_export import TABLE_FORMATS, all_bytes, rows_of
from tests.spark.test_jobs import _over_tcp

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]


def _rows(directory: Path, stem: str, fmt: ExportFormat) -> list[str]:
    """The rows of a file as a sorted list, content compared parsed (a Parquet snapshot
    of PostgreSQL passes the stored JSON text on, with PostgreSQL's key order)."""
    rows = rows_of(directory, stem, fmt)
    for row in rows:
        if isinstance(row.get("content"), str):
            row["content"] = json.loads(row["content"])
    return sorted(json.dumps(row, default=str, ensure_ascii=False, sort_keys=True) for row in rows)


def test_spark_export_writes_the_files_sql_writes(
    spark: object, ctx: Context, world: World, tmp_path: Path
) -> None:
    spark_ctx = Context(
        Settings(db=_over_tcp(ctx.settings.db), secret_key=SECRET, data_dir=ctx.settings.data_dir)
    )
    try:
        for fmt in TABLE_FORMATS:
            by_sql, manifest = make_export(ctx, fmt, out=tmp_path / "sql")
            # What a run killed midway leaves: its hidden directory, cleared by the rerun.
            killed = tmp_path / "spark" / f".{by_sql.name}.partial-999999"
            killed.mkdir(parents=True)
            (killed / f"records.{fmt.value}").write_text("half", "utf-8")
            by_spark, spark_manifest = make_export(
                spark_ctx, fmt, out=tmp_path / "spark", engine="spark"
            )
            assert by_spark.name == by_sql.name
            assert verify(by_spark) == []
            assert not killed.exists()
            files = spark_manifest["files"]
            assert set(files) == set(manifest["files"])
            for name, entry in files.items():
                assert entry["rows"] == manifest["files"][name]["rows"], name
                assert entry["schema"] == manifest["files"][name]["schema"], name
            for stem in ("records", "entries", "measures"):
                assert _rows(by_spark, stem, fmt) == _rows(by_sql, stem, fmt), (fmt, stem)
            records = rows_of(by_spark, "records", fmt)
            assert {int(r["id"]) for r in records} == world.public_ids
            entries = rows_of(by_spark, "entries", fmt)
            assert {int(e["id"]) for e in entries} == world.entry_ids
            blob = all_bytes(by_spark)
            for secret in (world.adult.code, world.minor.code, ADULT_NAME, MINOR_NAME):
                assert secret.encode() not in blob
        with pytest.raises(ExportError, match="snapshots"):
            make_export(spark_ctx, ExportFormat.FTM, out=tmp_path / "ftm", engine="spark")
    finally:
        spark_ctx.close()


def test_export_engine_is_checked_before_any_work(db_url: str) -> None:
    result = CliRunner().invoke(app, ["export", "--engine", "dask", "--db", db_url])
    assert result.exit_code == 2
    assert "--engine must be sql or spark, not 'dask'" in result.stderr
