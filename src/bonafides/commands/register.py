"""The register of subjects: loading a registration authority's export (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bonafides.commands.rules import DbOption, _operator, _settings, err, fail, out

if TYPE_CHECKING:
    from rich.console import RenderableType

    from bonafides.ingest.register import RegisterReport

register_app = typer.Typer(
    help="The register of subjects: names, former names, status and legacy codes.",
    no_args_is_help=True,
)

_LABELS = {
    "rows": "rows read",
    "accepted": "accepted",
    "new_subjects": "subjects new to the platform",
    "changed": "registered or changed",
    "unchanged": "unchanged",
    "rejected": "rejected",
}


@register_app.command("load")
def register_load(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines, XLSX or Parquet file.")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="Department whose register this is (a department code)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv, jsonl, xlsx or parquet, if the file name does not say."
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding (detected: UTF-8 or GB18030).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the full JSON report here.")
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows per committed chunk.")
    ] = 5_000,
    db: DbOption = None,
) -> None:
    """Load a register export: subjects with their names, former names, status, legal
    representative and legacy codes. Loading the same file again changes nothing; each
    change (renamed, deregistered, ...) is kept as a dated subject event."""
    from bonafides.app.register import load_register
    from bonafides.context import Context
    from bonafides.ingest.readers import UnusableInputError
    from bonafides.progress import watch

    ctx = Context(_settings(db))
    try:
        with watch(err, f"register {file.name}") as progress:
            result = load_register(
                ctx,
                file,
                source=source,
                actor=f"{_operator()}@{source or 'register'}",
                fmt=fmt,
                encoding=encoding,
                chunk_rows=chunk_rows,
                progress=progress,
            )
    except UnusableInputError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    if report is not None:
        report.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    out.print(_summary(result))
    raise typer.Exit(result.exit_code)


def _summary(report: RegisterReport, *, shown: int = 20) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    from bonafides.views import plain

    table = Table(
        title=plain(f"{report.file} → register of {report.source or 'subjects'}"), expand=False
    )
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for key, label in _LABELS.items():
        table.add_row(label, f"{report.counts.get(key, 0):,}")
    table.add_row("time", f"{report.seconds:.1f} s")
    parts: list[RenderableType] = [table]
    if report.events:
        events = Table("subject event", "subjects", title="changes recorded", expand=False)
        for kind, count in report.events.items():
            events.add_row(kind, f"{count:,}")
        parts.append(events)
    if report.ignored_columns:
        parts.append(plain("columns not read: " + ", ".join(report.ignored_columns)))
    if report.rejections:
        rows = Table("row", "field", "value", "reason", title="first rejected rows", expand=False)
        for r in report.rejections[:shown]:
            rows.add_row(str(r.row), plain(r.field), plain(r.value), plain(r.reason))
        parts.append(rows)
    return Group(*parts)


def register(app: typer.Typer) -> None:
    app.add_typer(register_app, name="register")
