"""The review desk in the portal: rows that named their subject without a code.

For operators and the officers of the department that sent the row. The pages call the
use cases ``/api/v1/review`` and ``bonafides review`` call (``bonafides.app.review``): a
list, an item page with the candidates and why each was proposed, and one form for the
three judgements.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from bonafides.app import review as steps
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.http.auth import http_error
from bonafides.http.deps import ContextDep, Id, UnitDep
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal
from bonafides.web.deps import PortalDep
from bonafides.web.forms import form_reader, text
from bonafides.web.pages import Portal
from bonafides.web.session import FORM_FIELD, signed_in, unread
from bonafides.workflows.common import ConflictError, ForbiddenError, NotFoundError, WorkflowError

pages = Routes()

JudgementForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=6))]
ACTIONS = ("accept", "reject", "unsure")


def _render(
    web: Portal, ctx: Context, request: Request, template: str, *, status: int = 200, **kw: Any
) -> HTMLResponse:
    departments = {d.code: d for d in ctx.catalogue.departments}
    return web.render(
        request, template, status=status, departments=departments, unread=unread(request), **kw
    )


def _item_page(
    web: Portal,
    ctx: Context,
    request: Request,
    unit: UnitOfWork,
    principal: Principal,
    item_id: int,
    *,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    try:
        view = steps.read_item(unit, ctx, principal, item_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    rtype = (
        ctx.catalogue.type(view.item.type_code)
        if ctx.catalogue.has_type(view.item.type_code)
        else None
    )
    return _render(
        web,
        ctx,
        request,
        "review_item.html",
        status=status,
        me=principal,
        view=view,
        item=view.item,
        rtype=rtype,
        error=error,
    )


@pages.get("/review", response_class=HTMLResponse)
def review_list(request: Request, web: PortalDep, ctx: ContextDep, unit: UnitDep) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    params = request.query_params
    status = params.get("status") or steps.OPEN
    department = params.get("department") or None
    try:
        found = steps.list_queue(
            unit.session,
            ctx.catalogue,
            principal,
            department=department,
            type_code=params.get("type") or None,
            status=None if status == "all" else status,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _render(
        web,
        ctx,
        request,
        "review_queue.html",
        me=principal,
        items=found,
        shown=status,
        statuses=steps.STATUSES,
        department=department or "",
    )


@pages.get("/review/{item_id}", response_class=HTMLResponse)
def review_item(
    item_id: Id, request: Request, web: PortalDep, ctx: ContextDep, unit: UnitDep
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    return _item_page(web, ctx, request, unit, principal, item_id)


@pages.post("/review/{item_id}/judgement", response_class=HTMLResponse)
def review_judge(
    item_id: Id,
    request: Request,
    web: PortalDep,
    ctx: ContextDep,
    unit: UnitDep,
    form: JudgementForm,
) -> Response:
    """Judge and go back to the item; a judgement that says too little, or names no
    candidate, gets the page again with why; one taken first by someone else is a 409."""
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    action = text(form.get("action"), 10)
    code = text(form.get("code"), 18)
    reason = text(form.get("reason"), 2000)
    try:
        if action == "accept":
            steps.accept(unit, ctx, principal, item_id, code=code, reason=reason)
        elif action == "reject":
            steps.reject(unit, ctx, principal, item_id, code=code, reason=reason)
        elif action == "unsure":
            steps.unsure(unit, ctx, principal, item_id, reason=reason)
        else:
            return _item_page(
                web, ctx, request, unit, principal, item_id, status=422, error="action"
            )
    except (ForbiddenError, NotFoundError) as exc:
        raise http_error(exc) from exc
    except ConflictError as exc:
        return _item_page(web, ctx, request, unit, principal, item_id, status=409, error=str(exc))
    except WorkflowError as exc:
        return _item_page(web, ctx, request, unit, principal, item_id, status=422, error=str(exc))
    return RedirectResponse(f"/review/{item_id}", status_code=303)


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
