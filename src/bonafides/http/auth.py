"""Who is asking: a session cookie, an API key, or nobody; and what they may do.

Routes declare what they need with ``require(...)``; the dependency answers 401 to the
anonymous and 403 to the wrong role or scope before the route runs. A cookie-borne
session must send its CSRF token with every unsafe request (``X-CSRF-Token``); an API
key need not, since a browser never attaches one by itself.

Rate limits are token buckets named per purpose: per API key when a valid one is given,
else per client address. Every limited answer carries the ``RateLimit-*`` fields.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session

from bonafides.app.accounts import Attempt, TooManyAttemptsError
from bonafides.app.submit import SubmissionKeyError
from bonafides.context import Context
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.security.accounts import principal_of
from bonafides.security.apikeys import looks_like_key, resolve_key
from bonafides.security.clock import Clock
from bonafides.security.ratelimit import Decision, Rate, RateLimiter, TokenBuckets
from bonafides.security.roles import ANONYMOUS, Principal, Role, Scope
from bonafides.security.sessions import (
    COOKIE,
    CSRF_HEADER,
    Started,
    csrf_ok,
    find_session,
)
from bonafides.settings import Settings
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    WorkflowError,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_state_lock = threading.Lock()


def clock_of(request: Request) -> Clock:
    """The app's clock: its context's, unless a test put its own on ``app.state.clock``."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    if clock is not None:
        return clock
    ctx: Context = request.app.state.context
    return ctx.clock


def limiter_of(request: Request) -> RateLimiter:
    """One limiter per application, made on first use."""
    with _state_lock:
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if limiter is None:
            limiter = TokenBuckets()
            request.app.state.rate_limiter = limiter
    return limiter


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy forwarded
    (``http.observability.TrustedProxies``, ``--forwarded-allow-ips``), so a client
    cannot pick its own bucket by a header."""
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def principal_for(
    request: Request, session: Session, *, csrf_token: str | None = None
) -> Principal:
    """The principal of a request, for routes and for the portal alike.

    The portal passes the CSRF token of a posted form as ``csrf_token``; API clients send
    the ``X-CSRF-Token`` header.
    """
    clock = clock_of(request)
    token = bearer_token(request)
    if token is not None:
        found = resolve_key(session, clock, token)
        if found is None:
            raise _unauthorised("the API key is not valid, expired or revoked")
        account, key = found
        known = {scope.value for scope in Scope}
        scopes = frozenset(Scope(s) for s in key.scopes if s in known)
        return principal_of(account, via="key", scopes=scopes, key_id=key.key_id)
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return ANONYMOUS
    live = find_session(session, clock, cookie)
    if live is None:
        return ANONYMOUS
    account, login = live
    given = csrf_token if csrf_token is not None else request.headers.get(CSRF_HEADER)
    if request.method not in SAFE_METHODS and not csrf_ok(login.csrf_token, given):
        raise HTTPException(403, "the CSRF token is missing or wrong")
    return principal_of(account, via="session", csrf_token=login.csrf_token)


def current_principal(request: Request, session: SessionDep) -> Principal:
    return principal_for(request, session)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role, scope: Scope | None = None) -> Callable[..., Principal]:
    """A dependency admitting only ``roles`` (any signed-in role if none) holding ``scope``."""

    def dependency(principal: PrincipalDep) -> Principal:
        if principal.role is Role.PUBLIC:
            raise _unauthorised("sign in, or send an API key")
        if roles and principal.role not in roles:
            raise HTTPException(403, f"not for a {principal.role.value} account")
        if scope is not None and not principal.has(scope):
            raise HTTPException(403, f"needs the scope {scope.value!r}")
        return principal

    return dependency


def hit(request: Request, response: Response | None, bucket: str, rate: Rate) -> Decision:
    """Count one request against ``bucket``; 429 with the headers when it is empty."""
    decision = limiter_of(request).hit(bucket, rate)
    if not decision.allowed:
        raise HTTPException(429, "too many requests; slow down", headers=decision.headers())
    if response is not None:
        response.headers.update(decision.headers())
    return decision


def _key_holder(ctx: Context, clock: Clock, token: str) -> str | None:
    with ctx.sessions() as session:
        found = resolve_key(session, clock, token)
    return None if found is None else found[1].key_id


def rate_limit(name: str, per_minute: Callable[[Settings], int]) -> Callable[..., Awaitable[None]]:
    """A dependency limiting a route per API key, or per address without a valid key.

    Async, and in the database only when a request carries a key: an anonymous search
    should not pay a thread-pool round trip just to be counted.
    """

    async def dependency(request: Request, response: Response, ctx: ContextDep) -> None:
        who = f"ip:{client_address(request)}"
        token = bearer_token(request)
        if token is not None and looks_like_key(token):
            key_id = await to_thread.run_sync(_key_holder, ctx, clock_of(request), token)
            if key_id is not None:
                who = f"key:{key_id}"
        hit(request, response, f"{name}:{who}", Rate(per_minute(ctx.settings)))

    return dependency


def search_limit(settings: Settings) -> int:
    return settings.search_rate_per_minute


def attempt_of(request: Request) -> Attempt:
    """Where a sign-in or registration comes from, for ``bonafides.app.accounts``."""
    return Attempt(
        limiter_of(request),
        clock_of(request),
        client_address(request),
        request.headers.get("user-agent"),
    )


def too_many(exc: TooManyAttemptsError) -> HTTPException:
    return HTTPException(429, str(exc), headers=exc.headers)


def report_limit(settings: Settings) -> int:
    return settings.report_rate_per_minute


#: Public search and file lookups; the subjects router adopts it.
SearchLimit = Depends(rate_limit("search", search_limit))
#: Issuing and rendering credit reports: each PDF costs about a second of CPU.
ReportLimit = Depends(rate_limit("reports", report_limit))


def set_session_cookie(response: Response, started: Started, settings: Settings) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site sends it), and Secure
    (HTTPS only) everywhere except a demo on plain http://127.0.0.1."""
    response.set_cookie(
        COOKIE,
        started.token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=not settings.demo,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=not settings.demo
    )


def http_error(exc: WorkflowError) -> HTTPException:
    """One mapping from service errors to statuses, for every router."""
    if isinstance(exc, NotFoundError):
        return HTTPException(404, str(exc))
    if isinstance(exc, ForbiddenError):
        return HTTPException(403, str(exc))
    if isinstance(exc, ConflictError):
        return HTTPException(409, str(exc))
    return HTTPException(422, str(exc))


def key_department(
    ctx: Context, token: str, *, claimed: str | None, scope: Scope = Scope.RECORDS_SUBMIT
) -> str:
    """The department an officer's API key acts for; only with ``scope`` (by default
    ``records:submit``), and only as the officer's own department."""
    with ctx.sessions() as session:
        found = resolve_key(session, ctx.clock, token)
    if found is None:
        raise SubmissionKeyError("the API key is not valid, expired or revoked")
    account, key = found
    if account.role != Role.OFFICER or scope.value not in key.scopes:
        what = "submit records" if scope is Scope.RECORDS_SUBMIT else f"act with {scope.value}"
        raise SubmissionKeyError(f"this API key may not {what}")
    assert account.department is not None
    if claimed is not None and claimed != account.department:
        raise SubmissionKeyError("the submission key is not valid for this department")
    return account.department
