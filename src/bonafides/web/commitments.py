"""Credit commitments on application in the portal: a company reads and signs its licence
type's commitment; the licensing department records whether it was kept.

The page calls the use cases ``/api/v1/commitments`` calls
(``bonafides.app.due_process.commitments``), so who may sign, see and record is decided
in one place.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bonafides.app.due_process import commitments as steps
from bonafides.app.due_process.desk import Desk
from bonafides.http.auth import http_error
from bonafides.http.deps import Id, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role
from bonafides.web.deps import PortalDep
from bonafides.web.due_process import render_page
from bonafides.web.forms import TokenForm, form_reader, text
from bonafides.web.pages import Portal
from bonafides.web.session import FORM_FIELD, signed_in
from bonafides.workflows.commitments import Breach, Outcome
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    WorkflowError,
)

OutcomeForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=6))]

pages = Routes()


def _page(
    web: Portal,
    desk: Desk,
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    found = steps.list_commitments(session, desk, principal)
    every = steps.templates(desk)
    return render_page(
        web,
        desk.ctx,
        request,
        "commitments.html",
        status=status,
        me=principal,
        items=found,
        templates=every if principal.role is Role.SUBJECT else [],
        licences={t.code: t for t in every},
        records=principal.role is Role.OFFICER,
        outcomes=list(Outcome),
        error=error,
    )


@pages.get("/commitments", response_class=HTMLResponse)
def commitment_list(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    try:
        return _page(web, desk, request, unit.session, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc


@pages.post("/commitments", response_class=HTMLResponse)
def commitment_sign(
    request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep, form: TokenForm
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    try:
        steps.sign_commitment(
            unit,
            desk,
            principal,
            licence_type=text(form.get("licence_type"), 64),
            licence_ref=text(form.get("licence_ref"), 100),
            accept_digest=text(form.get("digest"), 64),
        )
    except ForbiddenError as exc:
        raise http_error(exc) from exc
    except WorkflowError as exc:
        return _page(web, desk, request, unit.session, principal, status=422, error=str(exc))
    return RedirectResponse("/commitments", status_code=303)


def _outcome(value: str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        raise InvalidError("choose kept or breached") from None


@pages.post("/commitments/{commitment_id}/outcome", response_class=HTMLResponse)
def commitment_outcome(
    commitment_id: Id,
    request: Request,
    web: PortalDep,
    unit: UnitDep,
    desk: DeskDep,
    form: OutcomeForm,
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    try:
        outcome = _outcome(text(form.get("outcome"), 12))
        breach = None
        if outcome is Outcome.BREACHED:
            breach = Breach(text(form.get("decision_no"), 100), text(form.get("facts"), 20_000))
        steps.record_outcome(
            unit,
            desk,
            principal,
            commitment_id,
            outcome=outcome,
            note=text(form.get("note"), 2000),
            breach=breach,
        )
    except (ForbiddenError, NotFoundError, ConflictError) as exc:
        raise http_error(exc) from exc
    except WorkflowError as exc:
        return _page(web, desk, request, unit.session, principal, status=422, error=str(exc))
    return RedirectResponse("/commitments", status_code=303)


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
