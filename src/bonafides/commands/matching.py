"""``bonafides match``: which registered organisation a name without a code means."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bonafides.commands.rules import DbOption, _settings, fail, out


def match(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8 or GB18030) with 名称 and optionally 地区代码, 法定代表人, "
            "注册号, 组织机构代码."
        ),
    ],
    out_path: Annotated[Path, typer.Option("--out", help="Write one JSON line per data row here.")],
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding (detected: UTF-8 or GB18030).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Match organisation names against the store's subjects: match, review or none per
    row, with up to five candidates, the features that decided and the algorithm."""
    from bonafides.app.matching import match_names
    from bonafides.context import Context
    from bonafides.ingest.readers import UnusableInputError

    ctx = Context(_settings(db))
    try:
        summary = match_names(ctx, file, out_path, encoding=encoding)
    except UnusableInputError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    counts = ", ".join(f"{summary.decisions[d]:,} {d}" for d in ("match", "review", "none"))
    out.print(f"matched {summary.rows:,} rows with {summary.algorithm}: {counts}")


def register(app: typer.Typer) -> None:
    app.command("match")(match)
