"""Watchlists at the shell: make one for an account, list them, and run the webhook
deliveries (what a scheduler calls every minute)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bonafides.commands.rules import DbOption, _settings, fail, out

watchlists_app = typer.Typer(
    help="Watchlists: codes an account follows, and their signed webhooks.",
    no_args_is_help=True,
)


@watchlists_app.command("create")
def create(
    account: Annotated[str, typer.Option("--account", help="The account that owns it.")],
    name: Annotated[str, typer.Option("--name", help="What the owner calls it.")],
    url: Annotated[
        str | None, typer.Option("--url", help="Webhook to POST signed events to (https://).")
    ] = None,
    codes: Annotated[
        str | None, typer.Option("--codes", help="Codes to follow, separated by commas.")
    ] = None,
    codes_file: Annotated[
        Path | None,
        typer.Option("--codes-file", exists=True, dir_okay=False, help="One code a line."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Make a watchlist for an account; prints its id and the signing secret (shown once)."""
    from bonafides.app import watchlists as use
    from bonafides.commands.common import unit_of_work
    from bonafides.security.accounts import UnknownAccountError, get_account, principal_of
    from bonafides.workflows.common import WorkflowError

    wanted = [c for c in (codes or "").split(",") if c.strip()]
    if codes_file is not None:
        wanted += [line for line in codes_file.read_text("utf-8").splitlines() if line.strip()]
    if not wanted:
        fail("give the codes to follow: --codes or --codes-file")
    try:
        with unit_of_work(db) as (ctx, unit):
            owner = principal_of(get_account(unit.session, account), via="cli")
            made = use.create(unit, ctx, owner, name=name, url=url, codes=wanted)
            ident = made.watchlist.id
    except (UnknownAccountError, WorkflowError) as exc:
        fail(str(exc))
    out.print(f"watchlist {ident}: {len(wanted):,} codes", highlight=False)
    out.print(f"signing secret (shown once): {made.secret}", highlight=False)


@watchlists_app.command("list")
def list_watchlists(
    account: Annotated[str, typer.Option("--account", help="Whose watchlists.")],
    db: DbOption = None,
) -> None:
    """An account's watchlists: codes, webhook, cursor."""
    from bonafides.app import watchlists as use
    from bonafides.context import Context
    from bonafides.security.accounts import UnknownAccountError, get_account, principal_of

    ctx = Context(_settings(db))
    try:
        with ctx.sessions() as session:
            owner = principal_of(get_account(session, account), via="cli")
            for w, n in use.mine(session, owner):
                state = "active" if w.active else "closed"
                out.print(
                    f"{w.id:>6}  {w.name}  {n:,} codes  {w.url or '(poll only)'}  "
                    f"cursor {w.cursor}  {state}",
                    highlight=False,
                )
    except UnknownAccountError as exc:
        fail(str(exc))
    finally:
        ctx.close()


@watchlists_app.command("deliver")
def deliver(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="Most deliveries to try.")
    ] = 100,
    db: DbOption = None,
) -> None:
    """Match new feed events to watchlists and POST every due delivery once (run every
    minute from a scheduler; safe to run in several processes)."""
    from bonafides.app.webhooks import deliver_due
    from bonafides.context import Context

    ctx = Context(_settings(db))
    try:
        report = deliver_due(ctx, limit=limit)
    finally:
        ctx.close()
    out.print(
        f"matched {report.matched:,}; delivered {report.delivered:,}, "
        f"to retry {report.retried:,}, dead {report.dead:,}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(watchlists_app, name="watchlists")
