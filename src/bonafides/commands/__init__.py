"""CLI commands of the platform's areas, each module adding its own to the main app.

Each module here defines ``register(app: typer.Typer) -> None``; ``AREAS`` lists them
so that ``bonafides.cli`` stays the one entry point.
"""

from __future__ import annotations

from importlib import import_module

import typer

AREAS: tuple[str, ...] = (
    "reports",
    "rules",
    "accounts",
    "due_process",
    "notifications",
    "backup",
    "records",
    "alerts",
    "matching",
    "exports",
    "consumers",
    "register",
    "feed",
    "watchlists",
    "worker",
    "sync",
    "review",
)


def register_all(app: typer.Typer) -> None:
    for area in AREAS:
        import_module(f"{__name__}.{area}").register(app)
