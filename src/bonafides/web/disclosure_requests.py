"""Disclosure on application (依申请公开) in the portal: a company's or person's account
asks a department for information; the department's officers answer on the same page.

The pages call the use cases ``/api/v1/disclosure-requests`` calls
(``bonafides.app.due_process.disclosure_requests``), so who may ask, see and decide is
decided in one place.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bonafides.app.due_process import disclosure_requests as steps
from bonafides.context import Context
from bonafides.http.auth import http_error
from bonafides.http.deps import Id, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal
from bonafides.store.tables import DisclosureRequest
from bonafides.web.deps import PortalDep
from bonafides.web.due_process import render_page
from bonafides.web.forms import TokenForm, text
from bonafides.web.i18n import N_
from bonafides.web.pages import NavEntry, Portal
from bonafides.web.session import FORM_FIELD, signed_in
from bonafides.workflows import disclosure_requests as workflow
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    WorkflowError,
)
from bonafides.workflows.disclosure_requests import DisclosureAsk, Outcome, RequestStatus

pages = Routes()


@pages.get("/disclosure-requests", response_class=HTMLResponse)
def request_list(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    try:
        found = steps.list_requests(unit, desk, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return render_page(
        web,
        desk.ctx,
        request,
        "disclosure_requests.html",
        me=principal,
        items=found,
        today=desk.services.deadlines.today(),
    )


def _form_page(
    web: Portal,
    ctx: Context,
    request: Request,
    principal: Principal,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    return render_page(
        web,
        ctx,
        request,
        "disclosure_request_new.html",
        status=status,
        me=principal,
        values=values or {},
        error=error,
        department_list=ctx.catalogue.departments,
        working_days=workflow.WORKING_DAYS,
        legal_basis=workflow.LEGAL_BASIS,
    )


@pages.get("/disclosure-requests/new", response_class=HTMLResponse)
def request_form(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    return _form_page(web, desk.ctx, request, principal)


@pages.post("/disclosure-requests", response_class=HTMLResponse)
def request_submit(
    request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep, form: TokenForm
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    values = {
        "department": text(form.get("department"), 32),
        "asked": text(form.get("asked"), 20_000),
        "purpose": text(form.get("purpose"), 300),
    }
    ask = DisclosureAsk(values["department"], values["asked"], values["purpose"] or None)
    try:
        filed = steps.submit_request(unit, desk, principal, ask)
    except ForbiddenError as exc:
        raise http_error(exc) from exc
    except WorkflowError as exc:
        return _form_page(
            web, desk.ctx, request, principal, status=422, values=values, error=str(exc)
        )
    return RedirectResponse(f"/disclosure-requests/{filed.id}", status_code=303)


def _request_page(
    web: Portal,
    ctx: Context,
    request: Request,
    principal: Principal,
    item: DisclosureRequest,
    handles: bool,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return render_page(
        web,
        ctx,
        request,
        "disclosure_request.html",
        status=status,
        me=principal,
        item=item,
        decides=handles and item.status == RequestStatus.OPEN.value,
        outcomes=list(Outcome),
        error=error,
        values=values or {},
    )


@pages.get("/disclosure-requests/{request_id}", response_class=HTMLResponse)
def request_detail(
    request_id: Id, request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    try:
        item = steps.read_request(unit, desk, principal, request_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    handles = workflow.handles(desk.services, principal, item)
    return _request_page(web, desk.ctx, request, principal, item, handles)


def _outcome(value: str) -> Outcome:
    """The form's outcome; an unknown one is refused as the API's schema refuses it."""
    try:
        return Outcome(value)
    except ValueError:
        raise InvalidError("choose to grant, grant in part or refuse") from None


@pages.post("/disclosure-requests/{request_id}/decision", response_class=HTMLResponse)
def request_decision(
    request_id: Id,
    request: Request,
    web: PortalDep,
    unit: UnitDep,
    desk: DeskDep,
    form: TokenForm,
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    values = {
        "outcome": text(form.get("outcome"), 16),
        "answer": text(form.get("answer"), 20_000),
        "provision": text(form.get("provision"), 300),
    }
    try:
        steps.decide_request(
            unit,
            desk,
            principal,
            request_id,
            outcome=_outcome(values["outcome"]),
            answer=values["answer"],
            provision=values["provision"] or None,
        )
    except (ForbiddenError, NotFoundError, ConflictError) as exc:
        raise http_error(exc) from exc
    except WorkflowError as exc:
        item = steps.read_request(unit, desk, principal, request_id)
        return _request_page(
            web, desk.ctx, request, principal, item, True, status=422, error=str(exc), values=values
        )
    return RedirectResponse(f"/disclosure-requests/{request_id}", status_code=303)


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
    web.nav.append(NavEntry("/disclosure-requests/new", N_("Disclosure on application")))
