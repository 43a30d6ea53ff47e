"""The due-process desk of a request, for the API's routers and the portal's pages alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request

from bonafides.app.due_process.desk import Desk, desk_for
from bonafides.http.auth import clock_of
from bonafides.http.deps import ContextDep


def _desk(request: Request, ctx: ContextDep, background: BackgroundTasks) -> Desk:
    """The request's clock; mail goes out once the answer is sent, never delaying it."""
    return desk_for(ctx, clock=clock_of(request), defer=background.add_task)


DeskDep = Annotated[Desk, Depends(_desk)]
