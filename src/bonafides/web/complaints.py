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

from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bonafides.api.workflows import Id
from bonafides.app.public import PublicSubject, office_today, public_subject
from bonafides.context import Context
from bonafides.errors import InvalidCodeError
from bonafides.http.auth import client_address, hit, http_error, search_limit
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.security.ratelimit import Rate
from bonafides.security.roles import Principal, Role
from bonafides.store.tables import Complaint
from bonafides.web.due_process import _services, render_page
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
from bonafides.workflows import attachments, complaints
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    Services,
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


def _opened(
    session: Session, services: Services, principal: Principal, number: int
) -> complaints.Opened:
    """The complaint if the principal may see it (404 otherwise, as the API answers), its
    reading by staff audited in the same transaction."""
    try:
        opened = complaints.open_complaint(session, services, principal, number)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    return opened


ComplaintForm = Annotated[
    FormData, Depends(form_reader(max_files=attachments.MAX_FILES, max_fields=12))
]


def _rate_limited(request: Request, ctx: ContextDep) -> None:
    """Before the form is read: a flood of complaints is refused before its files are."""
    hit(request, None, f"complaints:ip:{client_address(request)}", Rate(search_limit(ctx.settings)))


def register(web: Portal) -> None:
    router = web.router
    render = partial(render_page, web)

    # ------------------------------------------------------------------ list

    @router.get("/complaints", response_class=HTMLResponse)
    def complaint_list(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
        principal = signed_in(request, session)
        services = _services(request, ctx)
        escalated_only = request.query_params.get("escalated") == "1"
        try:
            found = complaints.visible_to(session, services, principal)
        except WorkflowError as exc:
            raise http_error(exc) from exc
        if escalated_only:
            found = [c for c in found if c.escalated_at is not None]
        return render(
            ctx,
            request,
            "complaints.html",
            me=principal,
            items=found,
            escalated_only=escalated_only,
            today=services.deadlines.today(),
        )

    # ------------------------------------------------------------------ filing

    def form_page(
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
        response = render(
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

    @router.get("/complaints/new", response_class=HTMLResponse)
    def complaint_form(
        request: Request, ctx: ContextDep, session: SessionDep, code: str = "", subject: str = ""
    ) -> HTMLResponse:
        """``subject`` is the ref a subject page links with (a person's keyed hash, never
        their number); ``code`` is kept for old links, which the page does not repeat."""
        principal = viewer(request, session)
        values = {"code": code[:18], "subject": subject[:80], "kind": "report"}
        about = _about(ctx, session, values["subject"])
        if about is not None:
            values["about"] = about.name
        return form_page(ctx, request, session, principal, values=values)

    @router.post("/complaints", response_class=HTMLResponse)
    def complaint_file(
        request: Request,
        ctx: ContextDep,
        session: SessionDep,
        _limited: Annotated[None, Depends(_rate_limited)],
        form: ComplaintForm,
    ) -> Response:
        services = _services(request, ctx)
        given = form.get(FORM_FIELD)
        principal = viewer(request, session, form=given)
        if principal.role is Role.PUBLIC:
            check_form_token(request, given)
        values = {name: text(form.get(name), limit) for name, limit in FIELDS.items()}
        files = uploads(form, services.attachment_max_bytes)
        try:
            filed = complaints.file(
                session, services, principal, _request_of(values), uploads=files
            )
        except WorkflowError as exc:
            session.rollback()
            return form_page(
                ctx, request, session, principal, status=422, values=values, error=str(exc)
            )
        session.commit()
        if principal.role is Role.PUBLIC:
            return form_page(ctx, request, session, principal, done=filed)
        return RedirectResponse(f"/complaints/{filed.id}", status_code=303)

    # ------------------------------------------------------------------ one complaint

    def complaint_page(
        ctx: Context,
        request: Request,
        principal: Principal,
        opened: complaints.Opened,
        *,
        status: int = 200,
        error: str | None = None,
        answer: str = "",
    ) -> HTMLResponse:
        item = opened.complaint
        return render(
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

    @router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
    def complaint_detail(
        complaint_id: Id, request: Request, ctx: ContextDep, session: SessionDep
    ) -> HTMLResponse:
        principal = signed_in(request, session)
        opened = _opened(session, _services(request, ctx), principal, complaint_id)
        return complaint_page(ctx, request, principal, opened)

    @router.post("/complaints/{complaint_id}/answer", response_class=HTMLResponse)
    def complaint_answer(
        complaint_id: Id, request: Request, ctx: ContextDep, session: SessionDep, form: TokenForm
    ) -> Response:
        services = _services(request, ctx)
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        answer = text(form.get("answer"), 20_000)
        try:
            complaints.answer(session, services, principal, complaint_id, answer)
        except (ForbiddenError, NotFoundError, ConflictError) as exc:
            session.rollback()
            raise http_error(exc) from exc
        except WorkflowError as exc:
            session.rollback()
            opened = _opened(session, services, principal, complaint_id)
            return complaint_page(
                ctx, request, principal, opened, status=422, error=str(exc), answer=answer
            )
        session.commit()
        return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)

    web.nav.append(NavEntry("/complaints/new", N_("Complaints and reports")))
