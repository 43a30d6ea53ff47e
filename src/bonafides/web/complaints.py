"""Complaints and reports of violations: filing one, following one's own, and the
competent department's answer.

The pages call the services ``/api/v1/complaints`` calls (``bonafides.workflows.complaints``),
so who sees what is decided in one place: the informant is unsealed only for officers of
the department the complaint was routed to, and a report never creates a record. Anyone
may file, as through the API: a visitor without an account posts with the pre-session
double-submit token and counts against the API's own rate-limit bucket, so the page buys
no extra filings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bonafides.app.due_process import complaints as steps
from bonafides.app.due_process.desk import Desk
from bonafides.app.public import PublicSubject, office_today, public_subject
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.errors import InvalidCodeError
from bonafides.http.auth import client_address, hit, http_error, search_limit
from bonafides.http.deps import ContextDep, Id, SessionDep, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.routes import Routes
from bonafides.security.ratelimit import Rate
from bonafides.security.roles import Principal, Role
from bonafides.store.tables import Complaint
from bonafides.web.deps import PortalDep
from bonafides.web.due_process import render_page
from bonafides.web.forms import TokenForm, form_reader, text, uploads
from bonafides.web.i18n import N_
from bonafides.web.pages import NavEntry, Portal
from bonafides.web.session import (
    FORM_FIELD,
    check_form_token,
    form_token,
    keep_form_token,
    signed_in,
    viewer,
)
from bonafides.workflows import attachments
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    WorkflowError,
)
from bonafides.workflows.complaints import ComplaintKind, ComplaintRequest, ComplaintStatus

#: The form's text fields and their limits, as ``ComplaintIn`` of the API has them.
FIELDS = {
    "kind": 12,
    "code": 18,
    "subject": 80,
    "type": 64,
    "department": 32,
    "about": 300,
    "text": 20_000,
    "informant_name": 200,
    "informant_contact": 200,
}


def _request_of(values: dict[str, str]) -> ComplaintRequest:
    """The service's request; an unknown kind is refused as the API's schema refuses it."""
    try:
        kind = ComplaintKind(values["kind"])
    except ValueError:
        raise InvalidError("choose a complaint or a report of a violation") from None
    return ComplaintRequest(
        kind=kind,
        text=values["text"],
        about=values["about"],
        code=values["code"].strip().upper() or values["subject"].strip() or None,
        type_code=values["type"] or None,
        department=values["department"] or None,
        informant_name=values["informant_name"] or None,
        informant_contact=values["informant_contact"] or None,
    )


def _about(ctx: Context, session: Session, ref: str) -> PublicSubject | None:
    """The public subject a form's ``subject`` ref names, or None (no ref, nothing public)."""
    if not ref:
        return None
    try:
        return public_subject(session, ctx, ref, today=office_today(ctx))
    except InvalidCodeError:
        return None


ComplaintForm = Annotated[
    FormData, Depends(form_reader(max_files=attachments.MAX_FILES, max_fields=12))
]


def _rate_limited(request: Request, ctx: ContextDep) -> None:
    """Before the form is read: a flood of complaints is refused before its files are."""
    bucket = f"{steps.BUCKET}:ip:{client_address(request)}"
    hit(request, None, bucket, Rate(search_limit(ctx.settings)))


pages = Routes()


def _opened(unit: UnitOfWork, desk: Desk, principal: Principal, complaint_id: int) -> steps.Opened:
    """The complaint if the principal may see it (404 otherwise, as the API answers)."""
    try:
        return steps.read_complaint(unit, desk, principal, complaint_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc


@pages.get("/complaints", response_class=HTMLResponse)
def complaint_list(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    escalated_only = request.query_params.get("escalated") == "1"
    try:
        found = [seen.complaint for seen in steps.list_complaints(unit, desk, principal)]
    except WorkflowError as exc:
        raise http_error(exc) from exc
    if escalated_only:
        found = [c for c in found if c.escalated_at is not None]
    return render_page(
        web,
        desk.ctx,
        request,
        "complaints.html",
        me=principal,
        items=found,
        escalated_only=escalated_only,
        today=desk.services.deadlines.today(),
    )


def _form_page(
    web: Portal,
    ctx: Context,
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    error: str | None = None,
    done: Complaint | None = None,
) -> HTMLResponse:
    """The form; a visitor without a session also gets the double-submit cookie."""
    cat = ctx.catalogue
    token = form_token(request) if principal.role is Role.PUBLIC else ""
    values = values or {}
    response = render_page(
        web,
        ctx,
        request,
        "complaint_new.html",
        status=status,
        me=principal,
        form_csrf=token,
        values=values,
        about_subject=_about(ctx, session, values.get("subject", "")),
        error=error,
        done=done,
        department_list=cat.departments,
        type_groups=[(f, cat.types_in_field(f.code)) for f in cat.fields],
        max_bytes=ctx.settings.attachment_max_bytes,
        max_files=attachments.MAX_FILES,
    )
    if token:
        keep_form_token(response, token, web.settings)
    return response


@pages.get("/complaints/new", response_class=HTMLResponse)
def complaint_form(
    request: Request,
    web: PortalDep,
    ctx: ContextDep,
    session: SessionDep,
    code: str = "",
    subject: str = "",
) -> HTMLResponse:
    """``subject`` is the ref a subject page links with (a person's keyed hash, never
    their number); ``code`` is kept for old links, which the page does not repeat."""
    principal = viewer(request, session)
    values = {"code": code[:18], "subject": subject[:80], "kind": "report"}
    about = _about(ctx, session, values["subject"])
    if about is not None:
        values["about"] = about.name
    return _form_page(web, ctx, request, session, principal, values=values)


@pages.post("/complaints", response_class=HTMLResponse)
def complaint_file(
    request: Request,
    web: PortalDep,
    unit: UnitDep,
    desk: DeskDep,
    _limited: Annotated[None, Depends(_rate_limited)],
    form: ComplaintForm,
) -> Response:
    given = form.get(FORM_FIELD)
    principal = viewer(request, unit.session, form=given)
    if principal.role is Role.PUBLIC:
        check_form_token(request, given)
    values = {name: text(form.get(name), limit) for name, limit in FIELDS.items()}
    files = uploads(form, desk.services.attachment_max_bytes)
    try:
        filed = steps.file_complaint(unit, desk, principal, _request_of(values), uploads=files)
    except WorkflowError as exc:
        return _form_page(
            web,
            desk.ctx,
            request,
            unit.session,
            principal,
            status=422,
            values=values,
            error=str(exc),
        )
    if principal.role is Role.PUBLIC:
        return _form_page(web, desk.ctx, request, unit.session, principal, done=filed)
    return RedirectResponse(f"/complaints/{filed.id}", status_code=303)


def _complaint_page(
    web: Portal,
    ctx: Context,
    request: Request,
    principal: Principal,
    opened: steps.Opened,
    *,
    status: int = 200,
    error: str | None = None,
    answer: str = "",
) -> HTMLResponse:
    item = opened.complaint
    return render_page(
        web,
        ctx,
        request,
        "complaint.html",
        status=status,
        me=principal,
        item=item,
        informant=opened.informant,
        files=opened.files,
        handles=opened.handles,
        answers=opened.handles and item.status == ComplaintStatus.OPEN.value,
        error=error,
        answer=answer,
    )


@pages.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_detail(
    complaint_id: Id, request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    opened = _opened(unit, desk, principal, complaint_id)
    return _complaint_page(web, desk.ctx, request, principal, opened)


@pages.post("/complaints/{complaint_id}/answer", response_class=HTMLResponse)
def complaint_answer(
    complaint_id: Id,
    request: Request,
    web: PortalDep,
    unit: UnitDep,
    desk: DeskDep,
    form: TokenForm,
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    answer = text(form.get("answer"), 20_000)
    try:
        steps.answer_complaint(unit, desk, principal, complaint_id, answer)
    except (ForbiddenError, NotFoundError, ConflictError) as exc:
        raise http_error(exc) from exc
    except WorkflowError as exc:
        opened = _opened(unit, desk, principal, complaint_id)
        return _complaint_page(
            web, desk.ctx, request, principal, opened, status=422, error=str(exc), answer=answer
        )
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
    web.nav.append(NavEntry("/complaints/new", N_("Complaints and reports")))
