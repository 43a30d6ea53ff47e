"""Dependencies shared by the API routers (the template's ``Annotated`` aliases)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bonafides.context import Context


def _context(request: Request) -> Context:
    ctx = request.app.state.context
    assert isinstance(ctx, Context)
    return ctx


def _session(ctx: Annotated[Context, Depends(_context)]) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


ContextDep = Annotated[Context, Depends(_context)]
SessionDep = Annotated[Session, Depends(_session)]


def problem(status: int, title: str, detail: str | None = None) -> JSONResponse:
    """RFC 9457 problem details, so clients get one error shape everywhere."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
