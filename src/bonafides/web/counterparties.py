"""Counterparty checks in the portal: a company's account uploads a CSV of codes and sees
each one's public status, with the certificate, and may keep the codes as a watchlist.

The page calls the use case ``POST /api/v1/counterparties`` calls
(``bonafides.app.counterparties``) and shares its rate-limit bucket, so it buys no
extra checks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from bonafides.app import counterparties as use
from bonafides.context import Context
from bonafides.http.auth import clock_of, hit, http_error, search_limit
from bonafides.http.deps import ContextDep, UnitDep
from bonafides.http.routes import Routes
from bonafides.rules.loader import rules_for
from bonafides.screening.counterparties import MAX_BYTES, MAX_CODES
from bonafides.security.clock import office_day
from bonafides.security.ratelimit import Rate
from bonafides.security.roles import Principal
from bonafides.web.deps import PortalDep
from bonafides.web.due_process import render_page
from bonafides.web.forms import form_reader, text
from bonafides.web.i18n import N_
from bonafides.web.pages import NavEntry, Portal
from bonafides.web.session import FORM_FIELD, signed_in
from bonafides.workflows.common import ForbiddenError, InvalidError, WorkflowError

UploadForm = Annotated[FormData, Depends(form_reader(max_files=1, max_fields=3))]

pages = Routes()


def _page(
    web: Portal,
    ctx: Context,
    request: Request,
    principal: Principal,
    *,
    status: int = 200,
    done: use.Checked | None = None,
    error: str | None = None,
) -> HTMLResponse:
    return render_page(
        web,
        ctx,
        request,
        "counterparties.html",
        status=status,
        me=principal,
        done=done,
        error=error,
        max_codes=MAX_CODES,
        max_kb=MAX_BYTES // 1024,
        lists=rules_for(ctx.catalogue).lists,
    )


def _company(principal: Principal) -> None:
    try:
        use.require_enterprise(principal)
    except ForbiddenError as exc:
        raise http_error(exc) from exc


@pages.get("/counterparties", response_class=HTMLResponse)
def counterparty_form(
    request: Request, web: PortalDep, ctx: ContextDep, unit: UnitDep
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    _company(principal)
    return _page(web, ctx, request, principal)


@pages.post("/counterparties", response_class=HTMLResponse)
def counterparty_check(
    request: Request, web: PortalDep, ctx: ContextDep, unit: UnitDep, form: UploadForm
) -> HTMLResponse:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    _company(principal)
    hit(
        request,
        None,
        f"{use.BUCKET}:account:{principal.account_id}",
        Rate(search_limit(ctx.settings)),
    )
    upload = form.get("file")
    data = upload.file.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    keep = text(form.get("watchlist"), 100) or None
    day = office_day(clock_of(request), ctx.settings.timezone)
    try:
        if not data:
            raise InvalidError("choose a CSV file of codes")
        done = use.check_counterparties(unit, ctx, principal, data, day=day, keep_as=keep)
    except WorkflowError as exc:
        return _page(web, ctx, request, principal, status=422, error=str(exc))
    return _page(web, ctx, request, principal, done=done)


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
    web.nav.append(NavEntry("/counterparties", N_("Counterparty check")))
