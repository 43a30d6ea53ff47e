"""Self-registration of subject accounts, and the operator's queue of claims to verify.

Registering is open to anyone (rate-limited like signing in) and proves nothing: the
account claims a code and sees no file until an operator has checked the claimant's
documents and bound it (``POST /accounts/{username}/bind``) or refused the claim here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, Field

from bonafides.api.accounts import AccountOut, Username, account_out
from bonafides.app import accounts as steps
from bonafides.http.auth import attempt_of, require, too_many
from bonafides.http.deps import ContextDep, SessionDep, UnitDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security import accounts
from bonafides.security.passwords import WeakPasswordError
from bonafides.security.roles import Principal, Role, Scope

router = Routes(tags=["accounts"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]


class RegistrationIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=15, max_length=18, description="USCC or resident ID claimed.")
    email: str | None = Field(default=None, max_length=254)


class PendingOut(BaseModel):
    username: str
    display_name: str
    email: str | None
    subject: str | None = Field(description="The claimed code (persons masked).")
    created_at: dt.datetime
    created_by: str


class RefusalIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


@router.post(
    "/registrations",
    response_model=AccountOut,
    status_code=201,
    responses=errors(422, 429),
)
def register(body: RegistrationIn, request: Request, ctx: ContextDep, unit: UnitDep) -> AccountOut:
    """Open a subject account claiming a code; it is bound only after an operator verifies."""
    try:
        account = steps.register(
            unit,
            ctx,
            attempt_of(request),
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            code=body.code,
            email=body.email,
        )
    except steps.TooManyAttemptsError as exc:
        raise too_many(exc) from exc
    except (accounts.AccountError, WeakPasswordError) as exc:
        raise HTTPException(422, str(exc)) from exc
    return account_out(account)


@router.get("/registrations", response_model=list[PendingOut], responses=errors(401, 403))
def pending(session: SessionDep, operator: Operator) -> list[PendingOut]:
    """Subject accounts whose claimed code waits for verification, oldest first."""
    return [
        PendingOut(
            username=a.username,
            display_name=a.display_name,
            email=a.email,
            subject=a.subject_display,
            created_at=a.created_at,
            created_by=a.created_by,
        )
        for a in accounts.pending_registrations(session)
    ]


@router.post(
    "/registrations/{username}/refusal",
    response_model=AccountOut,
    responses=errors(401, 403, 404, 422),
)
def refuse(
    username: Username,
    body: RefusalIn,
    unit: UnitDep,
    operator: Operator,
) -> AccountOut:
    """Refuse a claim that could not be verified: the account is deactivated, with why."""
    try:
        account = steps.refuse_registration(unit, operator, username=username, reason=body.reason)
    except accounts.UnknownAccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    except accounts.AccountError as exc:
        raise HTTPException(422, str(exc)) from exc
    return account_out(account)
