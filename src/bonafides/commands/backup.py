"""``bonafides backup`` and ``bonafides restore``: a whole platform to a directory and back.

Both call ``bonafides.app.backup``; see docs/deployment.md for what a backup holds and
what it leaves out (the master secret, and the private report key unless asked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


def backup(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory to write the backup into (new or empty).")
    ],
    db: DbOption = None,
    with_private_keys: Annotated[
        bool,
        typer.Option(
            "--with-private-keys",
            help="Also copy the private report signing key (keep the backup as safe as it).",
        ),
    ] = False,
) -> None:
    """Back up the running platform: a consistent snapshot of the store, the public report
    keys and certificates, the attachments, and a manifest (row counts, audit head, SHA-256
    of every file). BONAFIDES_SECRET_KEY is never included: keep it apart."""
    from bonafides.app.backup import BackupError
    from bonafides.app.backup import backup as make_backup
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context

    ctx = Context(_settings(db))
    try:
        manifest = make_backup(ctx, out_dir, with_private_keys=with_private_keys)
    except BackupError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    head = manifest["audit_head"] or {"count": 0}
    rows = sum(manifest["tables"].values())
    keys = "with" if manifest["private_keys"] else "without"
    out.print(
        f"backup of the {manifest['store']} store in {out_dir}: {rows:,} rows in "
        f"{len(manifest['tables'])} tables, audit head at event {head['count']}, "
        f"{len(manifest['files'])} files, {keys} the private report key",
        markup=False,
        highlight=False,
    )
    out.print(
        "BONAFIDES_SECRET_KEY is not in the backup: keep it apart", markup=False, highlight=False
    )


def restore(
    directory: Annotated[Path, typer.Argument(help="A directory written by bonafides backup.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a target store that is not empty.")
    ] = False,
) -> None:
    """Restore a backup into an empty store (stop the platform first). Every file is
    checked against the manifest before anything is written; afterwards the row counts,
    revision and audit head must equal the manifest's and the audit chain must verify
    under BONAFIDES_SECRET_KEY. A backup older than this bonafides is migrated forward."""
    from bonafides.app.backup import BackupError, RestoreVerificationError
    from bonafides.app.backup import restore as run_restore
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import settings_for as _settings

    try:
        report = run_restore(_settings(db), directory, force=force)
    except BackupError as exc:
        fail(str(exc))
    except RestoreVerificationError as exc:
        fail(f"restored, but it does not verify: {exc}", code=1)
    for note in report.notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    line = (
        f"restored {report.rows:,} rows from {directory}; counts, revision and audit head "
        f"match the manifest; audit chain intact: {report.audit_events} events"
    )
    if report.migrated_to:
        line += f"; migrated forward to {', '.join(report.migrated_to)}"
    out.print(line, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
