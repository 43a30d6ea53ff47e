"""Dependencies shared by the API routers (the template's ``Annotated`` aliases)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.store.reads import PostgresReader, Reader, ThreadReader


async def _context(request: Request) -> Context:
    """Async so that FastAPI calls it on the event loop, not through the thread pool."""
    ctx = request.app.state.context
    assert isinstance(ctx, Context)
    return ctx


async def _reader(request: Request) -> Reader:
    reader = request.app.state.reader
    assert isinstance(reader, PostgresReader | ThreadReader)
    return reader


def _session(ctx: Annotated[Context, Depends(_context)]) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


def _unit(ctx: Annotated[Context, Depends(_context)]) -> Iterator[UnitOfWork]:
    with UnitOfWork(ctx.sessions) as unit:
        yield unit


def _read_session(ctx: Annotated[Context, Depends(_context)]) -> Iterator[Session]:
    with ctx.read_sessions() as session:
        yield session


ContextDep = Annotated[Context, Depends(_context)]
#: A row id in a path: positive and within a BIGINT, so a wild number is a 422, never a 500.
Id = Annotated[int, Path(ge=1, le=2**62)]
SessionDep = Annotated[Session, Depends(_session)]
#: For a request that writes: the use case commits it once, or it is rolled back.
UnitDep = Annotated[UnitOfWork, Depends(_unit)]
#: For public reads that write nothing and need no single snapshot (``Context.read_sessions``).
ReadSessionDep = Annotated[Session, Depends(_read_session)]
#: For the hottest public reads, on the event loop (``bonafides.store.reads``).
ReaderDep = Annotated[Reader, Depends(_reader)]


def problem(status: int, title: str, detail: str | None = None) -> JSONResponse:
    """RFC 9457 problem details, so clients get one error shape everywhere."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
