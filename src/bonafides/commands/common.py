"""What the operator's commands share: the store option, one unit of work per command, the
operator as a principal, and the one-line refusal (exit code 2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context

if TYPE_CHECKING:
    from bonafides.app.due_process.desk import Desk
    from bonafides.security.roles import Principal

out = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


@contextmanager
def unit_of_work(db: str | None) -> Iterator[tuple[Context, UnitOfWork]]:
    """The command's context and its unit of work: the use case commits it, or nothing is
    written (a refusal, an error)."""
    from bonafides.cli import _settings

    ctx = Context(_settings(db))
    try:
        with UnitOfWork(ctx.sessions) as unit:
            yield ctx, unit
    finally:
        ctx.close()


def desk(ctx: Context) -> Desk:
    from bonafides.app.due_process.desk import desk_for

    return desk_for(ctx)


def fail(message: str) -> NoReturn:
    from bonafides.cli import fail as cli_fail

    cli_fail(message)


def operator() -> Principal:
    """The operator running the command, named on the audit chain as ``cli:<login>``."""
    from bonafides.cli import _operator
    from bonafides.security.roles import ROLE_SCOPES, Principal, Role

    return Principal(
        role=Role.OPERATOR,
        username=_operator().removeprefix("cli:"),
        scopes=ROLE_SCOPES[Role.OPERATOR],
        via="cli",
    )
