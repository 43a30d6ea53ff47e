"""Who a portal page is for, and the CSRF tokens its forms carry.

A signed-in form posts the session's own CSRF token (``principal_for`` checks it, as the
API checks ``X-CSRF-Token``). A form posted before there is a session (sign in,
register) uses a double-submit token instead: a random value in a SameSite=Strict,
HttpOnly cookie and the same value in the form, which another site can neither read nor
make the browser send.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import HTTPException, Request, Response
from sqlalchemy.orm import Session

from bonafides.http.auth import principal_for
from bonafides.security.roles import Principal, Role
from bonafides.security.sessions import csrf_ok
from bonafides.settings import Settings
from bonafides.workflows import notify

FORM_COOKIE = "bonafides_form"
FORM_FIELD = "csrf"


def form_token(request: Request) -> str:
    """The pre-session token to put in a form: the cookie's, or a new one to set."""
    current = request.cookies.get(FORM_COOKIE)
    if current and 20 <= len(current) <= 64:
        return current
    return secrets.token_urlsafe(32)


def keep_form_token(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=not settings.demo,
    )


def check_form_token(request: Request, given: object) -> None:
    """Refuses a pre-session form whose token is not the cookie's (a forged cross-site post)."""
    if not isinstance(given, str) or not csrf_ok(request.cookies.get(FORM_COOKIE), given):
        raise HTTPException(403, "the form has expired or was not sent from this site; reload it")


def viewer(request: Request, session: Session, *, form: object = None) -> Principal:
    """The principal of a page request; a posted form passes its CSRF field as ``form``."""
    return principal_for(request, session, csrf_token=form if isinstance(form, str) else "")


def signed_in(request: Request, session: Session, *, form: object = None) -> Principal:
    """Like ``viewer``, but a visitor who is not signed in is sent to the sign-in page."""
    principal = viewer(request, session, form=form)
    if principal.role is Role.PUBLIC:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"/login?next={quote(target, safe='/')}"
        raise HTTPException(303, "sign in first", headers={"Location": location})
    if principal.account_id is not None:
        request.state.unread = notify.unread_count(session, principal.account_id)
    return principal


def unread(request: Request) -> int:
    """Unread notifications for the account bar. ``signed_in`` counts them because every
    page that shows the bar passes through it with its database session; 0 when it did
    not (the bar then shows no count rather than a wrong one)."""
    return int(getattr(request.state, "unread", 0))
