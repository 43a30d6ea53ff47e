"""Open-data exports as use cases: make one (the CLI and the scheduler), list and serve them.

Exports live under ``<data_dir>/exports/<name>/``, each with its manifest; the API serves
what is there and never builds one on request. ``make_export`` is the one function the
CLI and a scheduled job call: a full snapshot, or the changes since a day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bonafides.context import Context
from bonafides.digests import sha256_of
from bonafides.exchange.export import (
    ExportError,
    TablesWriter,
    list_exports,
    read_manifest,
    write_export,
)
from bonafides.exchange.sinks import ExportFormat, Scope
from bonafides.rules.loader import rules_for

EXPORTS_DIR = "exports"
_NAME = re.compile(r"^(snapshot|delta)-[0-9a-z-]+$")
_FILE = re.compile(r"^[a-z_]+(\.[a-z]+){1,2}$")


def exports_root(ctx: Context) -> Path:
    return ctx.settings.data_dir / EXPORTS_DIR


def make_export(
    ctx: Context,
    fmt: ExportFormat,
    *,
    out: Path | None = None,
    since: dt.date | None = None,
    engine: str = "sql",
    snapshot_dir: Path | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write a snapshot (``since`` None) or a delta under ``out`` (default: the data
    directory's exports, which the API serves) and return its directory and manifest.

    Reads only: public data, one transaction, nothing changed in the store. ``engine``
    "spark" selects a snapshot's rows on Spark (``spark.export``; a ``snapshot_dir``
    keeps the Parquet snapshot it reads); the files are the same.
    """
    scope = Scope(today=ctx.today(), zone=ctx.settings.timezone, since=since)
    tables: TablesWriter | None = None
    if engine == "spark":
        if since is not None or fmt is ExportFormat.FTM:
            raise ExportError(
                "--engine spark writes snapshots as csv, jsonl or parquet; "
                "deltas (--since) and ftm are the store engine's"
            )
        from bonafides.spark.session import job_session

        spark = job_session(ctx.settings.spark_driver_memory)
        from bonafides.spark.export import tables_writer

        tables = tables_writer(spark, ctx.settings.db, snapshot_dir=snapshot_dir)
    elif engine != "sql":
        raise ValueError(f"unknown engine {engine!r}: sql or spark")
    with ctx.sessions() as session:
        return write_export(
            session,
            out or exports_root(ctx),
            fmt,
            scope,
            catalogue=ctx.catalogue,
            rules=rules_for(ctx.catalogue),
            generated_at=ctx.clock.now(),
            tables=tables,
        )


def exports(ctx: Context) -> list[dict[str, Any]]:
    """The manifests of the exports the API serves, newest first."""
    return list_exports(exports_root(ctx))


@dataclass(frozen=True)
class ExportFile:
    path: Path
    sha256: str
    media_type: str


_MEDIA = {
    ".csv": "text/csv; charset=utf-8",
    ".jsonl": "application/x-ndjson",
    ".json": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
}


def export_file(ctx: Context, name: str, file_name: str) -> ExportFile | None:
    """A file of a served export, by the names its manifest gives; None if there is none.

    Only names the manifest lists are served, so no path outside the export is reachable.
    """
    if not _NAME.fullmatch(name) or not _FILE.fullmatch(file_name):
        return None
    directory = exports_root(ctx) / name
    try:
        manifest = read_manifest(directory)
    except ExportError:
        return None
    if file_name == "manifest.json":
        path = directory / file_name
        return ExportFile(path, sha256_of(path), "application/json")
    entry = manifest["files"].get(file_name)
    if entry is None:
        return None
    suffix = Path(file_name).suffix
    return ExportFile(
        directory / file_name, entry["sha256"], _MEDIA.get(suffix, "application/octet-stream")
    )
