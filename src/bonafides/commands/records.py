"""Commands for the records themselves: the end of their retention (principle 2)."""

from __future__ import annotations

from typing import Annotated

import typer

from bonafides.commands.engines import Engine, Snapshot, check_engine
from bonafides.commands.rules import DbOption, _date_option, _operator, _settings, out

records_app = typer.Typer(help="Records: the end of their retention.", no_args_is_help=True)


@records_app.command("expire")
def records_expire(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day to expire as of (YYYY-MM-DD); default today."),
    ] = None,
    engine: Engine = "sql",
    snapshot: Snapshot = None,
    db: DbOption = None,
) -> None:
    """Set records whose retention ended before a day to 'expired' (run daily; safe to
    repeat). Each gets a new version saying so; the run is one audit event. The change
    feed also gets its tombstones for records the public may no longer see."""
    from bonafides.app.records import expire
    from bonafides.context import Context

    day = _date_option(as_of, "--as-of")
    check_engine(engine)
    ctx = Context(_settings(db))
    try:
        result = expire(ctx, as_of=day, actor=_operator(), engine=engine, snapshot_dir=snapshot)
    finally:
        ctx.close()
    noun = "record" if result.records == 1 else "records"
    out.print(f"expired as of {day}: {result.records:,} {noun} of {result.subjects:,} subjects")


def register(app: typer.Typer) -> None:
    app.add_typer(records_app, name="records")
