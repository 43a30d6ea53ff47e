"""A subject's own file, its objections and credit repair, and the departments' answers.

The pages call the same services as ``/api/v1/me/*``, ``/api/v1/objections`` and
``/api/v1/repairs``: the services decide who may see and do what, so a page cannot show
or allow more than the API. Every read of a subject's non-public data by staff is logged
for the subject, as the API logs it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bonafides.api.workflows import Id, log_staff_read
from bonafides.app.reports import ReportIn, issue_for
from bonafides.catalogue import ContentField
from bonafides.context import Context
from bonafides.http.auth import client_address, clock_of, hit, http_error, report_limit
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.reports.model import View
from bonafides.reports.sources import memberships
from bonafides.security.files import own_subject, read_subject
from bonafides.security.ratelimit import Rate
from bonafides.security.roles import Principal, Role
from bonafides.store.access import access_log
from bonafides.store.tables import Account, Objection, Record, RepairApplication, Subject
from bonafides.web.forms import TokenForm, form_reader, number, text, uploads
from bonafides.web.pages import Portal
from bonafides.web.session import FORM_FIELD, signed_in, unread
from bonafides.workflows import attachments, notify, objections, repair
from bonafides.workflows.common import (
    ForbiddenError,
    NotFoundError,
    Services,
    TooEarlyError,
    WorkflowError,
    services_for,
)
from bonafides.workflows.objections import ObjectionOutcome

#: What a subject signs with a repair application unless it words its own.
COMMITMENT = (
    "本单位（本人）承诺：已履行相关法定义务，纠正失信行为，今后严格遵守法律法规，"
    "诚信经营，如有违反，愿意承担相应责任。"
)


def _services(request: Request, ctx: Context) -> Services:
    return services_for(ctx, clock=clock_of(request))


ObjectionForm = Annotated[
    FormData, Depends(form_reader(max_files=attachments.MAX_FILES, max_fields=6))
]
RepairForm = Annotated[
    FormData, Depends(form_reader(max_files=attachments.MAX_FILES, max_fields=8))
]
ObjectionDecisionForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=8))]
RepairDecisionForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=6))]


def _record_of(session: Session, principal: Principal, record_id: int | None) -> Record:
    """A record of the signed-in subject's own file, or 404."""
    if principal.bound_subject is None:
        raise HTTPException(403, "the account is not yet bound to its subject by an operator")
    record = session.get(Record, record_id) if record_id else None
    subject = session.get(Subject, record.subject_id) if record else None
    if record is None or subject is None or subject.key != principal.bound_subject:
        raise HTTPException(404, "no such record in your file")
    return record


def _objection(session: Session, ctx: Context, principal: Principal, number: int) -> Objection:
    """The objection if the principal may see it; 404 otherwise, as the API answers."""
    try:
        return objections.get(session, ctx.catalogue, principal, number)
    except WorkflowError as exc:
        raise http_error(exc) from exc


def _application(
    session: Session, services: Services, principal: Principal, number: int
) -> RepairApplication:
    try:
        return repair.get(session, services, principal, number)
    except WorkflowError as exc:
        raise http_error(exc) from exc


def render_page(
    web: Portal, ctx: Context, request: Request, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A due-process page: departments are named in the page's language, and the account
    bar counts the unread notifications."""
    departments = {d.code: d for d in ctx.catalogue.departments}
    return web.render(
        request, template, status=status, departments=departments, unread=unread(request), **context
    )


def register(web: Portal) -> None:
    router = web.router
    render = partial(render_page, web)

    # ------------------------------------------------------------------ my file

    @router.get("/me", response_class=HTMLResponse)
    def my_file(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
        principal = signed_in(request, session)
        account = session.get(Account, principal.account_id)
        assert account is not None
        context: dict[str, Any] = {
            "me": principal,
            "account": account,
            "file": None,
            "lists": [],
            "log": [],
            "objections": [],
            "repairs": [],
        }
        services = _services(request, ctx)
        if principal.bound_subject is not None:
            row = own_subject(session, principal)
            if row is not None:
                today = services.deadlines.today()
                read = read_subject(
                    session,
                    ctx.catalogue,
                    principal,
                    row,
                    purpose="the subject's own file",
                    today=today,
                )
                context["file"] = read.profile
                context["lists"] = memberships(
                    session,
                    ctx.catalogue,
                    row.id,
                    period_from=today,
                    period_to=today,
                    fields=frozenset(f.code for f in ctx.catalogue.fields),
                )
                context["log"] = access_log(session, row.id, limit=100)
                context["objections"] = objections.visible_to(session, ctx.catalogue, principal)
                context["repairs"] = repair.visible_to(session, services, principal)
                session.commit()
        assert principal.account_id is not None
        context["notes"] = notify.for_account(session, principal.account_id, limit=50)
        return render(ctx, request, "my_file.html", **context)

    @router.post("/me/report")
    def my_report(
        request: Request, ctx: ContextDep, session: SessionDep, form: TokenForm
    ) -> Response:
        """Draw the subject's own full report and hand over its PDF."""
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        hit(
            request, None, f"reports:ip:{client_address(request)}", Rate(report_limit(ctx.settings))
        )
        lang = "en" if form.get("lang") == "en" else "zh"
        row = own_subject(session, principal) if principal.bound_subject else None
        if row is None:
            raise HTTPException(404, "no decision concerns your subject yet")
        code = ctx.keys.vault.decrypt(row.code_cipher) if row.code_cipher else row.key
        body = ReportIn.model_validate({"code": code, "view": View.FULL.value})
        today = _services(request, ctx).deadlines.today()
        signed = issue_for(ctx, principal, body, today=today)
        return RedirectResponse(
            f"/api/v1/reports/{signed.report_id}.pdf?lang={lang}", status_code=303
        )

    @router.post("/me/notifications/{notification_id}/read")
    def my_notification_read(
        notification_id: Id, request: Request, session: SessionDep, form: TokenForm
    ) -> Response:
        """Marks one of the account's own notifications read through the API's service,
        which answers no for anyone else's: 404, as the API answers."""
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        assert principal.account_id is not None
        if not notify.mark_read(session, clock_of(request), principal, notification_id):
            raise HTTPException(404, "no such notification")
        session.commit()
        return RedirectResponse("/me#notifications", status_code=303)

    # ------------------------------------------------------------------ objections

    def objections_page(
        request: Request, ctx: Context, session: Session, principal: Principal
    ) -> HTMLResponse:
        escalated_only = request.query_params.get("escalated") == "1"
        try:
            found = objections.visible_to(session, ctx.catalogue, principal)
        except WorkflowError as exc:
            raise http_error(exc) from exc
        if escalated_only:
            found = [o for o in found if o.escalated_at is not None]
        return render(
            ctx,
            request,
            "objections.html",
            me=principal,
            items=found,
            escalated_only=escalated_only,
            today=_services(request, ctx).deadlines.today(),
        )

    @router.get("/objections", response_class=HTMLResponse)
    def objection_list(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
        return objections_page(request, ctx, session, signed_in(request, session))

    @router.get("/objections/new", response_class=HTMLResponse)
    def objection_form(
        request: Request, ctx: ContextDep, session: SessionDep, record: int = 0
    ) -> HTMLResponse:
        principal = signed_in(request, session)
        found = _record_of(session, principal, record)
        return render(
            ctx,
            request,
            "objection_new.html",
            me=principal,
            record=found,
            error=None,
            grounds="",
            max_bytes=ctx.settings.attachment_max_bytes,
        )

    @router.post("/objections", response_class=HTMLResponse)
    def objection_open(
        request: Request, ctx: ContextDep, session: SessionDep, form: ObjectionForm
    ) -> Response:
        services = _services(request, ctx)
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        found = _record_of(session, principal, number(form.get("record")))
        grounds = text(form.get("grounds"), 20_000)
        files = uploads(form, services.attachment_max_bytes)
        try:
            opened = objections.open_objection(
                session, services, principal, record_id=found.id, grounds=grounds, uploads=files
            )
        except WorkflowError as exc:
            session.rollback()
            return render(
                ctx,
                request,
                "objection_new.html",
                status=422,
                me=principal,
                record=found,
                error=str(exc),
                grounds=grounds,
                max_bytes=ctx.settings.attachment_max_bytes,
            )
        session.commit()
        return RedirectResponse(f"/objections/{opened.id}", status_code=303)

    def objection_page(
        request: Request,
        ctx: Context,
        session: Session,
        principal: Principal,
        objection: Objection,
        *,
        status: int = 200,
        error: str | None = None,
    ) -> HTMLResponse:
        record = session.get(Record, objection.record_id)
        log_staff_read(session, principal, objection.subject_id, f"objection {objection.id}")
        fields: list[ContentField] = []
        if record is not None and ctx.catalogue.has_type(record.type_code):
            fields = list(ctx.catalogue.type(record.type_code).fields)
        return render(
            ctx,
            request,
            "objection.html",
            status=status,
            me=principal,
            item=objection,
            record=record,
            files=attachments.of(session, objections.KIND, objection.id),
            answers=principal.role is Role.OFFICER and objection.status == "open",
            outcomes=[o.value for o in ObjectionOutcome],
            fields=fields,
            error=error,
        )

    @router.get("/objections/{objection_id}", response_class=HTMLResponse)
    def objection_detail(
        objection_id: int, request: Request, ctx: ContextDep, session: SessionDep
    ) -> HTMLResponse:
        principal = signed_in(request, session)
        found = _objection(session, ctx, principal, objection_id)
        return objection_page(request, ctx, session, principal, found)

    @router.post("/objections/{objection_id}/decision", response_class=HTMLResponse)
    def objection_decide(
        objection_id: int,
        request: Request,
        ctx: ContextDep,
        session: SessionDep,
        form: ObjectionDecisionForm,
    ) -> Response:
        services = _services(request, ctx)
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        outcome_text = text(form.get("outcome"), 16)
        reasons = text(form.get("reasons"), 20_000)
        corrections = text(form.get("corrected"), 20_000)
        found = _objection(session, ctx, principal, objection_id)
        corrected: dict[str, str] = {}
        for line in corrections.splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                corrected[name.strip()] = value.strip()
        try:
            outcome = ObjectionOutcome(outcome_text)
            objections.decide(
                session,
                services,
                principal,
                found.id,
                outcome=outcome,
                reasons=reasons,
                corrected=corrected or None,
            )
        except ValueError as exc:
            session.rollback()
            return objection_page(
                request, ctx, session, principal, found, status=422, error=str(exc)
            )
        except WorkflowError as exc:
            session.rollback()
            raise http_error(exc) from exc
        session.commit()
        return RedirectResponse(f"/objections/{found.id}", status_code=303)

    # ------------------------------------------------------------------ credit repair

    @router.get("/repairs", response_class=HTMLResponse)
    def repair_list(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
        principal = signed_in(request, session)
        services = _services(request, ctx)
        try:
            found = repair.visible_to(session, services, principal)
        except WorkflowError as exc:
            raise http_error(exc) from exc
        return render(
            ctx,
            request,
            "repairs.html",
            me=principal,
            items=found,
            today=services.deadlines.today(),
        )

    def repair_form(
        request: Request,
        ctx: Context,
        session: Session,
        principal: Principal,
        record: Record,
        *,
        status: int = 200,
        error: str | None = None,
        possible_from: dt.date | None = None,
        evidence: str = "",
        commitment: str = COMMITMENT,
    ) -> HTMLResponse:
        verdict = repair.record_eligibility(_services(request, ctx), record)
        return render(
            ctx,
            request,
            "repair_new.html",
            status=status,
            me=principal,
            record=record,
            verdict=verdict,
            error=error,
            possible_from=possible_from or verdict.possible_from,
            evidence=evidence,
            commitment=commitment,
            max_bytes=ctx.settings.attachment_max_bytes,
        )

    @router.get("/repairs/new", response_class=HTMLResponse)
    def repair_new(
        request: Request, ctx: ContextDep, session: SessionDep, record: int = 0
    ) -> HTMLResponse:
        principal = signed_in(request, session)
        return repair_form(request, ctx, session, principal, _record_of(session, principal, record))

    @router.post("/repairs", response_class=HTMLResponse)
    def repair_apply(
        request: Request, ctx: ContextDep, session: SessionDep, form: RepairForm
    ) -> Response:
        services = _services(request, ctx)
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        found = _record_of(session, principal, number(form.get("record")))
        evidence = text(form.get("evidence"), 20_000)
        commitment = text(form.get("commitment"), 5000)
        signed = form.get("sign") == "yes"
        files = uploads(form, services.attachment_max_bytes)

        def refused(error: str, possible_from: dt.date | None = None) -> HTMLResponse:
            """The form again, as filled in, with why it was refused."""
            return repair_form(
                request,
                ctx,
                session,
                principal,
                found,
                status=422,
                error=error,
                possible_from=possible_from,
                evidence=evidence,
                commitment=commitment,
            )

        if not signed:
            return refused("unsigned")
        try:
            applied = repair.apply(
                session,
                services,
                principal,
                record_id=found.id,
                evidence=evidence,
                commitment=commitment,
                uploads=files,
            )
        except TooEarlyError as exc:
            session.rollback()
            return refused(str(exc), exc.possible_from)
        except WorkflowError as exc:
            session.rollback()
            return refused(str(exc))
        session.commit()
        return RedirectResponse(f"/repairs/{applied.id}", status_code=303)

    def repair_page(
        request: Request,
        ctx: Context,
        session: Session,
        principal: Principal,
        application: RepairApplication,
        *,
        status: int = 200,
        error: str | None = None,
    ) -> HTMLResponse:
        log_staff_read(
            session, principal, application.subject_id, f"repair application {application.id}"
        )
        return render(
            ctx,
            request,
            "repair.html",
            status=status,
            me=principal,
            item=application,
            record=session.get(Record, application.record_id),
            files=attachments.of(session, repair.KIND, application.id),
            answers=principal.role is Role.OFFICER and application.status == "submitted",
            error=error,
        )

    @router.get("/repairs/{application_id}", response_class=HTMLResponse)
    def repair_detail(
        application_id: int, request: Request, ctx: ContextDep, session: SessionDep
    ) -> HTMLResponse:
        principal = signed_in(request, session)
        found = _application(session, _services(request, ctx), principal, application_id)
        return repair_page(request, ctx, session, principal, found)

    @router.post("/repairs/{application_id}/decision", response_class=HTMLResponse)
    def repair_decide(
        application_id: int,
        request: Request,
        ctx: ContextDep,
        session: SessionDep,
        form: RepairDecisionForm,
    ) -> Response:
        services = _services(request, ctx)
        principal = signed_in(request, session, form=form.get(FORM_FIELD))
        decision = text(form.get("decision"), 10)
        reasons = text(form.get("reasons"), 20_000)
        found = _application(session, services, principal, application_id)
        if decision not in ("approve", "refuse"):
            return repair_page(
                request, ctx, session, principal, found, status=422, error="decision"
            )
        try:
            repair.decide(
                session,
                services,
                principal,
                found.id,
                approve=decision == "approve",
                reasons=reasons,
            )
        except WorkflowError as exc:
            session.rollback()
            if isinstance(exc, (ForbiddenError, NotFoundError)):
                raise http_error(exc) from exc
            return repair_page(request, ctx, session, principal, found, status=422, error=str(exc))
        session.commit()
        return RedirectResponse(f"/repairs/{found.id}", status_code=303)
