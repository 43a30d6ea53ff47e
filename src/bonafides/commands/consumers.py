"""``bonafides consumers``: register downstream consumers, record their acknowledgements,
and report which still hold removed data (docs/exports.md, "Consumers")."""

from __future__ import annotations

import json
from typing import Annotated

import typer

consumers_app = typer.Typer(
    help="Downstream consumers and the tombstones they have acknowledged.", no_args_is_help=True
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


@consumers_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Short name: a-z, 0-9, '.', '_', '-'.")],
    contact: Annotated[str, typer.Option("--contact", help="Who to reach about it (e-mail).")],
    db: DbOption = None,
) -> None:
    """Register a consumer and print its acknowledgement token (shown once)."""
    from bonafides.app.consumers import register
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import operator as _operator
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.workflows.common import WorkflowError

    ctx = Context(_settings(db))
    try:
        done = register(ctx, actor=_operator(), name=name, contact=contact)
    except WorkflowError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    out.print(f"consumer {done.name} registered; its token, shown once:", markup=False)
    out.print(done.token, markup=False, highlight=False, soft_wrap=True)


@consumers_app.command("ack")
def ack(
    name: Annotated[str, typer.Argument(help="The consumer.")],
    cursor: Annotated[int, typer.Argument(min=0, help="Feed cursor up to which it applied.")],
    db: DbOption = None,
) -> None:
    """Record, for a consumer, that it applied every tombstone up to CURSOR."""
    from bonafides.app.consumers import acknowledge
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import operator as _operator
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.workflows.common import WorkflowError

    ctx = Context(_settings(db))
    try:
        acknowledge(ctx, actor=_operator(), name=name, cursor=cursor)
    except WorkflowError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    out.print(f"consumer {name} acknowledged up to {cursor}", markup=False)


@consumers_app.command("report")
def report(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    db: DbOption = None,
) -> None:
    """Which consumers have not acknowledged removals, how many, and since when; exit 1
    when any consumer holds removed data."""
    from rich.table import Table

    from bonafides.app.consumers import report as holdings
    from bonafides.commands.common import out
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context

    ctx = Context(_settings(db))
    try:
        found = holdings(ctx)
    finally:
        ctx.close()
    if as_json:
        for h in found:
            line = {
                "name": h.lag.name,
                "contact": h.lag.contact,
                "acked_cursor": h.lag.acked_cursor,
                "pending_tombstones": h.lag.pending,
                "first_pending": h.lag.first_pending,
                "holding_since": h.lag.oldest_pending_at.isoformat()
                if h.lag.oldest_pending_at
                else None,
                "days": h.days,
            }
            out.print(
                json.dumps(line, ensure_ascii=False), markup=False, highlight=False, soft_wrap=True
            )
    else:
        table = Table("consumer", "contact", "acked", "pending", "since", "days")
        for h in found:
            since = h.lag.oldest_pending_at
            table.add_row(
                h.lag.name,
                h.lag.contact,
                str(h.lag.acked_cursor),
                str(h.lag.pending),
                since.isoformat(timespec="seconds") if since else "",
                "" if h.days is None else str(h.days),
            )
        out.print(table)
    if any(h.lag.pending for h in found):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(consumers_app, name="consumers")
