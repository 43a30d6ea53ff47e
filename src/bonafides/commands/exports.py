"""``bonafides export``: open data, a full snapshot or the changes since a day.

Calls ``bonafides.app.exports.make_export``, the function a scheduled job calls too; see
docs/exports.md for the files, the manifest and what is never exported.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from bonafides.commands.engines import Engine, Snapshot, check_engine
from bonafides.exchange.sinks import ExportFormat

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


def export(
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="csv, jsonl, parquet, or ftm (FollowTheMoney entities)."),
    ] = ExportFormat.PARQUET,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Directory to write the export into (as a subdirectory named after it); "
            "default: BONAFIDES_DATA_DIR/exports, which /api/v1/exports serves.",
        ),
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d"],
            help="Write a delta: what changed on or after this day (YYYY-MM-DD), with "
            "tombstones for what is no longer public. Default: a full snapshot.",
        ),
    ] = None,
    engine: Engine = "sql",
    snapshot: Snapshot = None,
    db: DbOption = None,
) -> None:
    """Export all public records, public list entries in force and the joint measures,
    with a manifest (rows, schema and SHA-256 of every file, catalogue version). Never an
    ID number, a minor, a non-public record, or anything past its publication period."""
    from bonafides.app.exports import make_export
    from bonafides.commands.common import fail
    from bonafides.commands.common import out as console
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.exchange.export import ExportError

    check_engine(engine)
    ctx = Context(_settings(db))
    try:
        directory, manifest = make_export(
            ctx,
            fmt,
            out=out,
            since=None if since is None else since.date(),
            engine=engine,
            snapshot_dir=snapshot,
        )
    except (ExportError, OSError) as exc:
        fail(str(exc))
    finally:
        ctx.close()
    counts = ", ".join(f"{name} {entry['rows']:,}" for name, entry in manifest["files"].items())
    console.print(
        f"{manifest['kind']} {manifest['name']} in {directory}: {counts}",
        markup=False,
        highlight=False,
    )


def verify_export(
    directory: Annotated[Path, typer.Argument(help="A directory written by bonafides export.")],
) -> None:
    """Check every file of an export against its manifest's SHA-256; exit 1 if any differs."""
    from bonafides.commands.common import fail
    from bonafides.commands.common import out as console
    from bonafides.exchange.export import ExportError, verify

    try:
        problems = verify(directory)
    except ExportError as exc:
        fail(str(exc))
    for problem in problems:
        console.print(problem, markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{directory}: every file matches the manifest", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("export-verify")(verify_export)
