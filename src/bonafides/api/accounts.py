"""Signing in and out, the signed-in account's own pages, files for authorities, and the
operator's management of accounts and API keys.

Routes parse, authorise (``require``) and call the use cases in ``bonafides.app.accounts``,
which commit what they wrote and the audit events of what they read.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from bonafides.app import accounts as steps
from bonafides.http.auth import (
    PrincipalDep,
    attempt_of,
    clear_session_cookie,
    clock_of,
    http_error,
    require,
    set_session_cookie,
    too_many,
)
from bonafides.http.deps import ContextDep, SessionDep, UnitDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security import accounts, apikeys
from bonafides.security.clock import office_day
from bonafides.security.files import own_subject
from bonafides.security.passwords import WeakPasswordError
from bonafides.security.roles import Principal, Role, Scope
from bonafides.security.sessions import COOKIE
from bonafides.store.access import access_log
from bonafides.store.profiles import Profile
from bonafides.store.tables import Account, ApiKey
from bonafides.workflows import notify
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["accounts"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]
Subject = Annotated[Principal, Depends(require(Role.SUBJECT, scope=Scope.OWN_FILE))]
Reader = Annotated[
    Principal,
    Depends(require(Role.OPERATOR, Role.OFFICER, Role.INQUIRER, scope=Scope.FILES_READ)),
]
Username = Annotated[str, Path(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")]
Code = Annotated[
    str,
    Path(
        min_length=15,
        max_length=66,
        pattern=r"^(?:[0-9A-Za-z]{15,18}|p:[0-9a-f]{64})$",
        description="USCC, or a person's ref from search (keeps the ID number out of logs), "
        "or a resident ID number.",
    ),
]


# --------------------------------------------------------------------------- models


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class MeOut(BaseModel):
    username: str | None
    role: str
    department: str | None
    subject: str | None = Field(description="The bound subject's code (persons masked).")
    bound: bool
    scopes: list[str]
    via: str
    csrf_token: str | None = Field(
        description="Send as X-CSRF-Token with every unsafe request made with the cookie."
    )


class LoginOut(MeOut):
    expires_at: dt.datetime


class FileRecord(BaseModel):
    id: int
    type: str
    title_zh: str
    title_en: str
    field: str
    disclosure: str
    source: str
    decision_no: str
    decision_date: dt.date
    status: str
    severity: str | None
    legal_basis: str | None
    published_until: dt.date | None
    version: int
    content: dict[str, Any]


class FileOut(BaseModel):
    code: str = Field(description="USCC, or a resident ID masked.")
    kind: str
    name: str
    region: str | None
    minor: bool
    audience: str = Field(description="The audience the file was read as.")
    special_inquiry: int | None
    as_of: dt.date
    records: list[FileRecord]


class AccessOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    department: str | None
    tag: str
    purpose: str | None
    what: str | None
    action: str | None = Field(
        default=None, description="The action a screening asked about, e.g. procurement.bid."
    )


class AccessLogOut(BaseModel):
    subject: str
    events: list[AccessOut]


class NotificationOut(BaseModel):
    id: int
    topic: str
    title: str
    body: str
    object_ref: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class AccountIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    role: Role
    display_name: str = Field(min_length=1, max_length=200)
    department: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    password: str | None = Field(
        default=None, min_length=1, max_length=256, description="None: a key-only account."
    )
    subject_code: str | None = Field(
        default=None, max_length=18, description="A subject account's claimed code."
    )


class AccountOut(BaseModel):
    username: str
    display_name: str
    role: str
    department: str | None
    subject: str | None
    bound: bool
    active: bool
    created_at: dt.datetime


class BindIn(BaseModel):
    code: str = Field(min_length=15, max_length=18)
    evidence: str = Field(min_length=1, max_length=300, description="How identity was verified.")


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=10)
    days: int | None = Field(default=None, ge=1, le=3650)


class KeyOut(BaseModel):
    key_id: str
    account: str
    name: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class KeyIssuedOut(KeyOut):
    token: str = Field(description="The key itself: shown this once, never again.")


# --------------------------------------------------------------------------- helpers


def _me(principal: Principal, account: Account | None) -> dict[str, Any]:
    return {
        "username": principal.username,
        "role": principal.role.value,
        "department": principal.department,
        "subject": account.subject_display if account else None,
        "bound": bool(account and account.bound_at is not None),
        "scopes": sorted(s.value for s in principal.scopes),
        "via": principal.via,
        "csrf_token": principal.csrf_token,
    }


def file_out(profile: Profile, special_inquiry: int | None) -> FileOut:
    return FileOut(
        code=profile.code,
        kind=profile.kind,
        name=profile.name,
        region=profile.region,
        minor=profile.minor,
        audience=profile.audience.value,
        special_inquiry=special_inquiry,
        as_of=profile.as_of,
        records=[
            FileRecord(
                id=r.id,
                type=r.type_code,
                title_zh=r.type_title_zh,
                title_en=r.type_title_en,
                field=r.field,
                disclosure=r.disclosure,
                source=r.source,
                decision_no=r.decision_no,
                decision_date=r.decision_date,
                status=r.status,
                severity=r.severity,
                legal_basis=r.legal_basis,
                published_until=r.published_until,
                version=r.version,
                content=r.content,
            )
            for r in profile.records
        ],
    )


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        department=account.department,
        subject=account.subject_display,
        bound=account.bound_at is not None,
        active=account.active,
        created_at=account.created_at,
    )


def _key_out(key: ApiKey, username: str) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "account": username,
        "name": key.name,
        "scopes": list(key.scopes),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


# --------------------------------------------------------------------------- sign in


@router.post("/login", response_model=LoginOut, responses=errors(401, 422, 429))
def login(
    body: LoginIn, request: Request, response: Response, ctx: ContextDep, unit: UnitDep
) -> LoginOut:
    """Sign in with a user name and password: sets the session cookie, returns the CSRF token.

    Limited per client address and, for failures, per account from all addresses
    (``bonafides.security.login_limits``): one address cannot guess quickly, many
    addresses only slow each other down, and neither locks the owner out.
    """
    try:
        done = steps.log_in(
            unit, ctx.settings, attempt_of(request), username=body.username, password=body.password
        )
    except steps.TooManyAttemptsError as exc:
        raise too_many(exc) from exc
    response.headers.update(done.headers)
    if done.signed is None:
        raise HTTPException(401, "wrong user name or password", headers=done.headers)
    account, started = done.signed
    set_session_cookie(response, started, ctx.settings)
    principal = accounts.principal_of(account, via="session", csrf_token=started.csrf_token)
    return LoginOut(**_me(principal, account), expires_at=started.expires_at)


@router.post("/logout", status_code=204, responses=errors(401, 403))
def logout(
    request: Request, response: Response, ctx: ContextDep, unit: UnitDep, me: PrincipalDep
) -> Response:
    """End the session (CSRF token required) and clear the cookie."""
    steps.log_out(unit, clock_of(request), me, request.cookies.get(COOKIE))
    answer = Response(status_code=204)
    clear_session_cookie(answer, ctx.settings)
    return answer


@router.get("/me", response_model=MeOut, responses=errors(401))
def me(session: SessionDep, principal: Annotated[Principal, Depends(require())]) -> MeOut:
    """Who the request is signed in as: role, department, bound subject, scopes."""
    account = session.get(Account, principal.account_id)
    return MeOut(**_me(principal, account))


# --------------------------------------------------------------------------- subject's own


@router.get("/me/file", response_model=FileOut, responses=errors(401, 403, 404))
def my_file(request: Request, ctx: ContextDep, unit: UnitDep, subject: Subject) -> FileOut:
    """The bound subject's whole file, every disclosure class (the read is logged too)."""
    today = office_day(clock_of(request), ctx.settings.timezone)
    try:
        own = steps.read_own_file(unit, ctx.catalogue, subject, today=today)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    if own is None:
        raise HTTPException(404, "no decision concerns your subject yet")
    return file_out(own.read.profile, own.read.inquiry_id)


@router.get("/me/access-log", response_model=AccessLogOut, responses=errors(401, 403, 404))
def my_access_log(
    session: SessionDep,
    subject: Subject,
    before: Annotated[int | None, Query(ge=1, description="Events older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AccessLogOut:
    """Who read or changed the subject's file, from which department, why and when."""
    try:
        row = own_subject(session, subject)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    if row is None:
        raise HTTPException(404, "no decision concerns your subject yet")
    events = access_log(session, row.id, limit=limit, before_id=before)
    return AccessLogOut(
        subject=row.code_display,
        events=[AccessOut(**e.__dict__) for e in events],
    )


@router.get("/me/notifications", response_model=list[NotificationOut], responses=errors(401))
def my_notifications(
    session: SessionDep, principal: Annotated[Principal, Depends(require())]
) -> list[NotificationOut]:
    """Notifications to the signed-in account, newest first."""
    assert principal.account_id is not None
    return [
        NotificationOut(
            id=n.id,
            topic=n.topic,
            title=n.title,
            body=n.body,
            object_ref=n.object_ref,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in notify.for_account(session, principal.account_id)
    ]


@router.post(
    "/me/notifications/{notification_id}/read", status_code=204, responses=errors(401, 403, 404)
)
def read_notification(
    notification_id: Annotated[int, Path(ge=1)],
    request: Request,
    unit: UnitDep,
    principal: Annotated[Principal, Depends(require())],
) -> Response:
    """Mark a notification read."""
    if not steps.read_notification(unit, clock_of(request), principal, notification_id):
        raise HTTPException(404, "no such notification")
    return Response(status_code=204)


# --------------------------------------------------------------------------- authorities


@router.get("/files/{code}", response_model=FileOut, responses=errors(401, 403, 404, 422))
def subject_file(
    code: Code,
    request: Request,
    ctx: ContextDep,
    unit: UnitDep,
    reader: Reader,
    purpose: Annotated[
        str, Query(min_length=1, max_length=300, description="Why the file is read; logged.")
    ],
    inquiry: Annotated[
        int | None, Query(ge=1, description="An approved special inquiry, for restricted records.")
    ] = None,
) -> FileOut:
    """A subject's file as an authority may read it, with the purpose logged for the subject.

    Departments read public and shared records, and the records they decided themselves;
    restricted records need an approved special inquiry naming this subject.
    """
    try:
        read = steps.read_file(
            unit,
            ctx,
            reader,
            code,
            purpose=purpose,
            today=office_day(clock_of(request), ctx.settings.timezone),
            inquiry_id=inquiry,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return file_out(read.profile, read.inquiry_id)


# --------------------------------------------------------------------------- operator


@router.post(
    "/accounts", response_model=AccountOut, status_code=201, responses=errors(401, 403, 422)
)
def create_account(
    body: AccountIn, request: Request, ctx: ContextDep, unit: UnitDep, operator: Operator
) -> AccountOut:
    """Create an account (operator only). A subject account is bound after verification."""
    try:
        account = steps.create_account(
            unit,
            ctx,
            clock_of(request),
            operator,
            username=body.username,
            role=body.role,
            display_name=body.display_name,
            password=body.password,
            department=body.department,
            email=body.email,
            subject_code=body.subject_code,
        )
    except (accounts.AccountError, WeakPasswordError) as exc:
        raise HTTPException(422, str(exc)) from exc
    return account_out(account)


@router.get("/accounts", response_model=list[AccountOut], responses=errors(401, 403))
def list_accounts(
    session: SessionDep,
    operator: Operator,
    role: Annotated[Role | None, Query()] = None,
) -> list[AccountOut]:
    """Every account, or those of one role (operator only)."""
    query = select(Account).order_by(Account.username)
    if role is not None:
        query = query.where(Account.role == role.value)
    return [account_out(a) for a in session.scalars(query.limit(1000))]


@router.post(
    "/accounts/{username}/bind", response_model=AccountOut, responses=errors(401, 403, 404, 422)
)
def bind_account(
    username: Username,
    body: BindIn,
    request: Request,
    ctx: ContextDep,
    unit: UnitDep,
    operator: Operator,
) -> AccountOut:
    """Bind a subject account to its code, after the claimant's identity was verified."""
    try:
        account = steps.bind_subject(
            unit,
            ctx,
            clock_of(request),
            operator,
            username=username,
            code=body.code,
            evidence=body.evidence,
        )
    except accounts.UnknownAccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    except accounts.AccountError as exc:
        raise HTTPException(422, str(exc)) from exc
    return account_out(account)


@router.post(
    "/accounts/{username}/keys",
    response_model=KeyIssuedOut,
    status_code=201,
    responses=errors(401, 403, 404, 422),
)
def issue_key(
    username: Username,
    body: KeyIn,
    request: Request,
    unit: UnitDep,
    operator: Operator,
) -> KeyIssuedOut:
    """Issue an API key for an account, with scopes within its role; the key is shown once."""
    try:
        account, issued = steps.issue_key(
            unit,
            clock_of(request),
            operator,
            username=username,
            name=body.name,
            scopes=body.scopes,
            days=body.days,
        )
    except accounts.UnknownAccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    except apikeys.ApiKeyError as exc:
        raise HTTPException(422, str(exc)) from exc
    return KeyIssuedOut(**_key_out(issued.key, account.username), token=issued.token)


@router.get("/api-keys", response_model=list[KeyOut], responses=errors(401, 403))
def list_keys(session: SessionDep, operator: Operator) -> list[KeyOut]:
    """Every API key (never the key itself), newest first (operator only)."""
    rows = session.execute(
        select(ApiKey, Account.username)
        .join(Account, Account.id == ApiKey.account_id)
        .order_by(ApiKey.id.desc())
        .limit(1000)
    ).all()
    return [KeyOut(**_key_out(key, name)) for key, name in rows]


@router.delete("/api-keys/{key_id}", status_code=204, responses=errors(401, 403, 404, 422))
def revoke_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
    request: Request,
    unit: UnitDep,
    operator: Operator,
) -> Response:
    """Revoke an API key at once; requests with it are refused from now on."""
    try:
        steps.revoke_key(unit, clock_of(request), operator, key_id)
    except apikeys.ApiKeyError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)
