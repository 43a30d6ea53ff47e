"""Signing in and out, self-registration, and the operator's pending registrations.

The pages call the use cases the API calls (``bonafides.app.accounts``): the same password
check, the same rate-limit buckets as ``POST /api/v1/login`` (so switching between the
page and the API buys no extra guesses), the same session cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bonafides.app import accounts as steps
from bonafides.http.auth import (
    attempt_of,
    clear_session_cookie,
    clock_of,
    set_session_cookie,
    too_many,
)
from bonafides.http.deps import ContextDep, SessionDep, UnitDep
from bonafides.http.routes import Routes
from bonafides.security import accounts
from bonafides.security.passwords import WeakPasswordError
from bonafides.security.roles import Principal, Role, Scope
from bonafides.security.sessions import COOKIE
from bonafides.web.deps import PortalDep
from bonafides.web.forms import TokenForm, form_reader, text
from bonafides.web.i18n import N_
from bonafides.web.pages import NavEntry, Portal, _local_path
from bonafides.web.session import (
    FORM_FIELD,
    check_form_token,
    form_token,
    keep_form_token,
    signed_in,
    unread,
)

#: Where each role lands after signing in, unless the page it came from asked otherwise.
LANDING = {
    Role.SUBJECT: "/me",
    Role.OFFICER: "/objections",
    Role.OPERATOR: "/registrations",
    Role.INQUIRER: "/me",
}


LoginForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=8))]
RegisterForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=10))]
DecisionForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=8))]


def require_operator(principal: Principal) -> Principal:
    if principal.role is not Role.OPERATOR or not principal.has(Scope.ADMIN):
        raise HTTPException(403, "for the credit office's operators only")
    return principal


pages = Routes()


def form_page(
    web: Portal, request: Request, template: str, *, status: int = 200, **context: object
) -> HTMLResponse:
    """A form posted before there is a session: it carries the double-submit token."""
    token = form_token(request)
    response = web.render(request, template, status=status, form_csrf=token, **context)
    keep_form_token(response, token, web.settings)
    return response


@pages.get("/login", response_class=HTMLResponse)
def login_form(request: Request, web: PortalDep, next: str | None = None) -> HTMLResponse:
    return form_page(web, request, "login.html", next=_local_path(next), error=None, username="")


@pages.post("/login", response_class=HTMLResponse)
def login(
    request: Request, web: PortalDep, ctx: ContextDep, unit: UnitDep, form: LoginForm
) -> Response:
    username = text(form.get("username"), 64)
    password = text(form.get("password"), 256)
    target = _local_path(text(form.get("next"), 500) or None)
    check_form_token(request, form.get(FORM_FIELD))
    try:
        done = steps.log_in(
            unit, ctx.settings, attempt_of(request), username=username, password=password
        )
    except steps.TooManyAttemptsError as exc:
        page = form_page(
            web, request, "login.html", status=429, next=target, error="rate", username=username
        )
        page.headers.update(exc.headers)
        return page
    if done.signed is None:
        page = form_page(
            web, request, "login.html", status=401, next=target, error="wrong", username=username
        )
        page.headers.update(done.headers)
        return page
    account, started = done.signed
    if target == "/":
        target = LANDING.get(Role(account.role), "/me")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, started, ctx.settings)
    return response


@pages.post("/logout")
def logout(request: Request, ctx: ContextDep, unit: UnitDep, form: TokenForm) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    steps.log_out(unit, clock_of(request), principal, request.cookies.get(COOKIE))
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, ctx.settings)
    return response


@pages.get("/register", response_class=HTMLResponse)
def register_form(request: Request, web: PortalDep) -> HTMLResponse:
    return form_page(web, request, "register.html", error=None, values={}, done=None)


@pages.post("/register", response_class=HTMLResponse)
def register_account(
    request: Request, web: PortalDep, ctx: ContextDep, unit: UnitDep, form: RegisterForm
) -> Response:
    values = {
        "username": text(form.get("username"), 64),
        "display_name": text(form.get("display_name"), 200),
        "email": text(form.get("email"), 254),
        "code": text(form.get("code"), 20),
    }
    password = text(form.get("password"), 256)
    repeated = text(form.get("password2"), 256)
    check_form_token(request, form.get(FORM_FIELD))
    shown = {k: v for k, v in values.items() if k != "code"}
    if password != repeated:
        return form_page(
            web, request, "register.html", status=422, error="mismatch", values=shown, done=None
        )
    try:
        account = steps.register(
            unit,
            ctx,
            attempt_of(request),
            username=values["username"],
            display_name=values["display_name"] or values["username"],
            password=password,
            code=values["code"],
            email=values["email"] or None,
        )
    except steps.TooManyAttemptsError as exc:
        raise too_many(exc) from exc
    except (accounts.AccountError, WeakPasswordError) as exc:
        return form_page(
            web, request, "register.html", status=422, error=str(exc), values=shown, done=None
        )
    return form_page(web, request, "register.html", error=None, values={}, done=account)


def registrations_page(
    web: Portal,
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    message: str | None = None,
) -> HTMLResponse:
    return web.render(
        request,
        "registrations.html",
        status=status,
        me=principal,
        unread=unread(request),
        pending=accounts.pending_registrations(session),
        error=error,
        message=message,
    )


@pages.get("/registrations", response_class=HTMLResponse)
def registrations(request: Request, web: PortalDep, session: SessionDep) -> HTMLResponse:
    principal = require_operator(signed_in(request, session))
    return registrations_page(web, request, session, principal)


@pages.post("/registrations/{username}", response_class=HTMLResponse)
def decide_registration(
    username: str,
    request: Request,
    web: PortalDep,
    ctx: ContextDep,
    unit: UnitDep,
    form: DecisionForm,
) -> HTMLResponse:
    session = unit.session
    principal = require_operator(signed_in(request, session, form=form.get(FORM_FIELD)))
    action = text(form.get("action"), 10)
    code = text(form.get("code"), 20).strip().upper()
    note = text(form.get("note"), 300)
    try:
        if action == "bind":
            steps.bind_subject(
                unit,
                ctx,
                clock_of(request),
                principal,
                username=username[:64],
                code=code,
                evidence=note,
            )
        elif action == "refuse":
            steps.refuse_registration(unit, principal, username=username[:64], reason=note)
        else:
            raise accounts.AccountError("choose to verify or to refuse the claim")
    except accounts.UnknownAccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    except accounts.AccountError as exc:
        return registrations_page(web, request, session, principal, status=422, error=str(exc))
    return registrations_page(web, request, session, principal, message=f"{action}:{username}")


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
    web.nav.append(NavEntry("/me", N_("My file")))
