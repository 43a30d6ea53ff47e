"""``bonafides sync``: pull a peer instance's change feed and apply it here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bonafides.commands.common import DbOption, out


def sync(
    source: Annotated[
        str,
        typer.Option("--from", help="The peer's base URL, e.g. https://credit.gd.example."),
    ],
    key: Annotated[
        str,
        typer.Option(
            "--key", envvar="BONAFIDES_SYNC_KEY", help="The API key the peer issued to us."
        ),
    ],
    key_id: Annotated[
        str | None,
        typer.Option(
            "--key-id",
            help="Pin the peer's published signing key with this id (default: its current "
            "key on first use, then the key pinned).",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            exists=True,
            dir_okay=False,
            help="Pin the peer's signing key from this PEM public key file.",
        ),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=5000, help="Events per signed batch.")
    ] = 2000,
    db: DbOption = None,
) -> None:
    """Pull the peer's feed after the cursor kept for it, verify each signed batch under
    the peer's pinned key, and apply it with the cursor in one transaction. Exit 1 when a
    batch is refused (nothing of it applied), 2 when the peer cannot be used."""
    from bonafides.app.sync import HttpTransport, SyncError, pull
    from bonafides.commands.common import fail
    from bonafides.commands.common import operator as _operator
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.exchange.sync import BatchRefusedError

    url = source.rstrip("/")
    try:
        transport = HttpTransport(url, key)
    except SyncError as exc:
        fail(str(exc))
    ctx = Context(_settings(db))
    try:
        result = pull(
            ctx,
            transport,
            url,
            actor=_operator(),
            key_id=key_id,
            key_pem=key_file.read_text() if key_file else None,
            limit=batch,
        )
    except BatchRefusedError as exc:
        fail(f"batch refused: {exc}", 1)
    except SyncError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(result.skipped.items())) or "none"
    out.print(
        f"synced from {result.origin or url} (key {result.key_id}): {result.batches} batches, "
        f"{result.applied} applied, {result.conflicts} conflicts, skipped: {skipped}; "
        f"cursor {result.cursor}",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)
