"""The change feed at the shell: read it after a cursor, and compact it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bonafides.commands.rules import DbOption, fail, out

feed_app = typer.Typer(
    help="The change feed: every change a consumer may see, after a cursor.",
    invoke_without_command=True,
)


@feed_app.callback()
def feed(
    context: typer.Context,
    after: Annotated[int, typer.Option("--after", min=0, help="Events after this cursor.")] = 0,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="Most events to print.")
    ] = 100,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One JSON object per event, then the next cursor.")
    ] = False,
    public: Annotated[
        bool, typer.Option("--public", help="Only what an anonymous caller of the API sees.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Print the events after a cursor, as the operator sees them (or as the public with
    --public); the last line gives the cursor to ask with next. Reading non-public events
    is logged in the audit chain."""
    if context.invoked_subcommand is not None:
        return
    from bonafides.app import feed as feed_app_
    from bonafides.commands.common import operator_principal, unit_of_work
    from bonafides.store.feed import PUBLIC_SCOPE

    with unit_of_work(db) as (ctx, unit):
        page = feed_app_.read_feed(
            unit,
            ctx.catalogue,
            operator_principal(),
            after=after,
            limit=limit,
            scope=PUBLIC_SCOPE if public else None,
        )
    if jsonl:
        for event in page.events:
            typer.echo(json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True))
        typer.echo(json.dumps({"next_cursor": page.next_cursor, "more": page.more}))
        return
    for e in page.events:
        mark = " (tombstone)" if e.tombstone else ""
        ref = f"record {e.record_id}" if e.list_entry_id is None else f"entry {e.list_entry_id}"
        out.print(
            f"{e.cursor:>8}  {e.occurred_at:%Y-%m-%d %H:%M:%S}  {e.kind}{mark}  "
            f"{e.subject_code or '-'}  {ref}  [{e.disclosure}]",
            highlight=False,
            markup=False,
        )
    out.print(f"next cursor: {page.next_cursor}" + (" (more follow)" if page.more else ""))


@feed_app.command("compact")
def compact(
    older_than: Annotated[
        int,
        typer.Option("--older-than", min=1, help="Days: only events older than this are dropped."),
    ] = 90,
    db: DbOption = None,
) -> None:
    """Drop events older than N days that a later event about the same record or entry
    makes redundant; every tombstone stays. Cursors stay valid."""
    import datetime as dt

    from bonafides.app import feed as feed_app_
    from bonafides.commands.common import operator_principal, unit_of_work

    try:
        with unit_of_work(db) as (ctx, unit):
            before = ctx.clock.now() - dt.timedelta(days=older_than)
            removed = feed_app_.compact(unit, operator_principal(), before=before, days=older_than)
    except ValueError as exc:
        fail(str(exc))
    out.print(f"compacted: {removed:,} superseded events older than {older_than} days removed")


def register(app: typer.Typer) -> None:
    app.add_typer(feed_app, name="feed")
