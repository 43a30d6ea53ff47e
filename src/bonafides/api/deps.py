"""Dependencies shared by the API routers (the template's ``Annotated`` aliases)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bonafides.context import Context


async def _context(request: Request) -> Context:
    """Async so that FastAPI calls it on the event loop, not through the thread pool."""
    ctx = request.app.state.context
    assert isinstance(ctx, Context)
    return ctx


def _session(ctx: Annotated[Context, Depends(_context)]) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


def _read_session(ctx: Annotated[Context, Depends(_context)]) -> Iterator[Session]:
    with ctx.read_sessions() as session:
        yield session


ContextDep = Annotated[Context, Depends(_context)]
SessionDep = Annotated[Session, Depends(_session)]
#: For public reads that write nothing and need no single snapshot (``Context.read_sessions``).
ReadSessionDep = Annotated[Session, Depends(_read_session)]


def problem(status: int, title: str, detail: str | None = None) -> JSONResponse:
    """RFC 9457 problem details, so clients get one error shape everywhere."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
