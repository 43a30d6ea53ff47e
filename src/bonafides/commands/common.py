"""What every command shares: the console, the store option, one unit of work per
command, the operator (as the audit chain names it, and as a principal), and failing with
an exit code.

It sits below ``bonafides.cli`` so that the command modules need nothing from the
module that registers them (DESIGN §6 for the exit codes).
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.security.clock import SystemClock, office_day
from bonafides.settings import Settings, get_settings

if TYPE_CHECKING:
    from bonafides.app.due_process.desk import Desk
    from bonafides.security.roles import Principal

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and the documented exit code."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def settings_for(db: str | None) -> Settings:
    """The settings, with ``--db`` in place of ``BONAFIDES_DB`` when it is given."""
    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"db": db})
    return settings


def operator() -> str:
    """Who runs the command, as the audit chain records it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def date_option(value: str | None, name: str) -> dt.date:
    """The date given, or the office's today (``BONAFIDES_TIMEZONE``) by the system clock."""
    if value is None:
        return office_day(SystemClock(), get_settings().timezone)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name} must be a date like 2026-01-31, not {value!r}")


@contextmanager
def unit_of_work(db: str | None) -> Iterator[tuple[Context, UnitOfWork]]:
    """The command's context and its unit of work: the use case commits it, or nothing is
    written (a refusal, an error)."""
    ctx = Context(settings_for(db))
    try:
        with UnitOfWork(ctx.sessions) as unit:
            yield ctx, unit
    finally:
        ctx.close()


def desk(ctx: Context) -> Desk:
    from bonafides.app.due_process.desk import desk_for

    return desk_for(ctx)


def operator_principal() -> Principal:
    """The operator running the command as a principal, named ``cli:<login>`` on the chain."""
    from bonafides.security.roles import ROLE_SCOPES, Principal, Role

    return Principal(
        role=Role.OPERATOR,
        username=operator().removeprefix("cli:"),
        scopes=ROLE_SCOPES[Role.OPERATOR],
        via="cli",
    )
