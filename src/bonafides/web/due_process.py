"""A subject's own file, its objections and credit repair, and the departments' answers.

The pages call the use cases ``/api/v1/me/*``, ``/api/v1/objections`` and
``/api/v1/repairs`` call (``bonafides.app.due_process``): the services decide who may see
and do what, each step commits once and mails after its commit, and every read of a
subject's case by staff is logged for the subject. The objection and repair desks are one
``CaseDesk`` each: a list, a case page and a decision, alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bonafides.app import accounts
from bonafides.app.due_process import objections as objection_steps
from bonafides.app.due_process import repairs as repair_steps
from bonafides.app.due_process.desk import Desk
from bonafides.app.reports import ReportIn, issue_for
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import ContentField
from bonafides.context import Context
from bonafides.disclosure import publication_ended
from bonafides.http.auth import client_address, clock_of, hit, http_error, report_limit
from bonafides.http.deps import ContextDep, Id, SessionDep, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.routes import Routes
from bonafides.reports.model import View
from bonafides.reports.sources import memberships
from bonafides.security.clock import office_day
from bonafides.security.files import own_subject
from bonafides.security.ratelimit import Rate
from bonafides.security.roles import Principal, Role
from bonafides.store.access import access_log
from bonafides.store.tables import Account, Objection, Record, RepairApplication, Subject
from bonafides.web.deps import PortalDep
from bonafides.web.forms import TokenForm, form_reader, number, text, uploads
from bonafides.web.pages import Portal
from bonafides.web.session import FORM_FIELD, signed_in, unread
from bonafides.workflows import attachments, notify, objections, repair
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TooEarlyError,
    WorkflowError,
)
from bonafides.workflows.objections import ObjectionOutcome

#: What a subject signs with a repair application unless it words its own.
COMMITMENT = (
    "本单位（本人）承诺：已履行相关法定义务，纠正失信行为，今后严格遵守法律法规，"
    "诚信经营，如有违反，愿意承担相应责任。"
)

pages = Routes()

ObjectionForm = Annotated[
    FormData, Depends(form_reader(max_files=attachments.MAX_FILES, max_fields=6))
]
RepairForm = Annotated[
    FormData, Depends(form_reader(max_files=attachments.MAX_FILES, max_fields=8))
]
ObjectionDecisionForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=8))]
RepairDecisionForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=6))]


def render_page(
    web: Portal, ctx: Context, request: Request, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A due-process page: departments are named in the page's language, and the account
    bar counts the unread notifications."""
    departments = {d.code: d for d in ctx.catalogue.departments}
    return web.render(
        request, template, status=status, departments=departments, unread=unread(request), **context
    )


def _record_of(session: Session, principal: Principal, record_id: int | None) -> Record:
    """A record of the signed-in subject's own file, or 404."""
    if principal.bound_subject is None:
        raise HTTPException(403, "the account is not yet bound to its subject by an operator")
    record = session.get(Record, record_id) if record_id else None
    subject = session.get(Subject, record.subject_id) if record else None
    if record is None or subject is None or subject.key != principal.bound_subject:
        raise HTTPException(404, "no such record in your file")
    return record


# ---------------------------------------------------------------------- the case desks

Case = TypeVar("Case", Objection, RepairApplication)


@dataclass(frozen=True)
class CaseDesk(Generic[Case]):
    """What differs between the objection desk and the repair desk; the pages are one."""

    path: str
    list_template: str
    template: str
    #: The status in which the source department answers the case.
    open_status: str
    escalated_filter: bool
    listed: Callable[[Session, Desk, Principal], list[Case]]
    read: Callable[[UnitOfWork, Desk, Principal, int], Case]
    #: More of the case page's context: the record, its fields, the outcomes.
    context_of: Callable[[Context, Session, Case], dict[str, Any]]
    files_kind: str


def _objection_context(ctx: Context, session: Session, item: Objection) -> dict[str, Any]:
    record = session.get(Record, item.record_id)
    fields: list[ContentField] = []
    if record is not None and ctx.catalogue.has_type(record.type_code):
        fields = list(ctx.catalogue.type(record.type_code).fields)
    return {"record": record, "fields": fields, "outcomes": [o.value for o in ObjectionOutcome]}


def _repair_context(ctx: Context, session: Session, item: RepairApplication) -> dict[str, Any]:
    return {"record": session.get(Record, item.record_id)}


OBJECTIONS: CaseDesk[Objection] = CaseDesk(
    path="/objections",
    list_template="objections.html",
    template="objection.html",
    open_status=objections.ObjectionStatus.OPEN.value,
    escalated_filter=True,
    listed=objection_steps.list_objections,
    read=objection_steps.read_objection,
    context_of=_objection_context,
    files_kind=objections.KIND,
)
REPAIRS: CaseDesk[RepairApplication] = CaseDesk(
    path="/repairs",
    list_template="repairs.html",
    template="repair.html",
    open_status=repair.RepairStatus.SUBMITTED.value,
    escalated_filter=False,
    listed=repair_steps.list_repairs,
    read=repair_steps.read_repair,
    context_of=_repair_context,
    files_kind=repair.KIND,
)


def case_list(
    spec: CaseDesk[Case], web: Portal, request: Request, unit: UnitOfWork, desk: Desk
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    escalated_only = spec.escalated_filter and request.query_params.get("escalated") == "1"
    try:
        found = spec.listed(unit.session, desk, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    if escalated_only:
        found = [c for c in found if c.escalated_at is not None]
    return render_page(
        web,
        desk.ctx,
        request,
        spec.list_template,
        me=principal,
        items=found,
        escalated_only=escalated_only,
        today=desk.services.deadlines.today(),
    )


def case_page(
    spec: CaseDesk[Case],
    web: Portal,
    request: Request,
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    case_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    decided: bool = False,
) -> HTMLResponse:
    """The case as the principal may see it (404 otherwise, as the API answers), its read
    by staff logged for the subject. ``decided``: a decision was sent for a case decided
    in the meantime, and the page says so above the decision on file."""
    try:
        item = spec.read(unit, desk, principal, case_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    is_open = item.status == spec.open_status
    if decided and is_open:
        status, decided = 409, False
    return render_page(
        web,
        desk.ctx,
        request,
        spec.template,
        status=status,
        me=principal,
        item=item,
        files=attachments.of(unit.session, spec.files_kind, item.id),
        answers=principal.role is Role.OFFICER and is_open,
        decided=decided,
        error=error,
        **spec.context_of(desk.ctx, unit.session, item),
    )


def case_decision(
    spec: CaseDesk[Case],
    web: Portal,
    request: Request,
    unit: UnitOfWork,
    desk: Desk,
    principal: Principal,
    case_id: int,
    decide: Callable[[], object],
) -> Response:
    """Take the decision and go back to the case. Who may not see or answer it gets the
    API's status; a decision taken first by someone else is shown, not an error page; a
    decision that says too little gets the form again with why."""
    try:
        decide()
    except (ForbiddenError, NotFoundError) as exc:
        raise http_error(exc) from exc
    except ConflictError as exc:
        return case_page(
            spec, web, request, unit, desk, principal, case_id, error=str(exc), decided=True
        )
    except (WorkflowError, ValueError) as exc:
        return case_page(
            spec, web, request, unit, desk, principal, case_id, status=422, error=str(exc)
        )
    return RedirectResponse(f"{spec.path}/{case_id}", status_code=303)


# ---------------------------------------------------------------------- my file


@pages.get("/me", response_class=HTMLResponse)
def my_file(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    session = unit.session
    principal = signed_in(request, session)
    account = session.get(Account, principal.account_id)
    assert account is not None
    assert principal.account_id is not None
    context: dict[str, Any] = {
        "me": principal,
        "account": account,
        "file": None,
        "ended": set(),
        "lists": [],
        "log": [],
        "objections": [],
        "repairs": [],
    }
    ctx = desk.ctx
    if principal.bound_subject is not None:
        today = desk.services.deadlines.today()
        own = accounts.read_own_file(unit, ctx.catalogue, principal, today=today)
        if own is not None:
            context["file"] = own.read.profile
            context["ended"] = {
                r.id
                for r in own.read.profile.records
                if publication_ended(
                    disclosure=r.disclosure,
                    status=r.status,
                    published_until=r.published_until,
                    today=today,
                )
            }
            context["lists"] = memberships(
                session,
                ctx.catalogue,
                own.subject.id,
                period_from=today,
                period_to=today,
                fields=frozenset(f.code for f in ctx.catalogue.fields),
            )
            context["log"] = access_log(session, own.subject.id, limit=100)
            context["objections"] = objection_steps.list_objections(session, desk, principal)
            context["repairs"] = repair_steps.list_repairs(session, desk, principal)
    context["notes"] = notify.for_account(session, principal.account_id, limit=50)
    return render_page(web, ctx, request, "my_file.html", **context)


@pages.post("/me/report")
def my_report(request: Request, ctx: ContextDep, session: SessionDep, form: TokenForm) -> Response:
    """Draw the subject's own full report and hand over its PDF."""
    principal = signed_in(request, session, form=form.get(FORM_FIELD))
    hit(request, None, f"reports:ip:{client_address(request)}", Rate(report_limit(ctx.settings)))
    lang = "en" if form.get("lang") == "en" else "zh"
    row = own_subject(session, principal) if principal.bound_subject else None
    if row is None:
        raise HTTPException(404, "no decision concerns your subject yet")
    code = ctx.keys.vault.decrypt(row.code_cipher) if row.code_cipher else row.key
    body = ReportIn.model_validate({"code": code, "view": View.FULL.value})
    today = office_day(clock_of(request), ctx.settings.timezone)
    signed = issue_for(ctx, principal, body, today=today)
    return RedirectResponse(f"/api/v1/reports/{signed.report_id}.pdf?lang={lang}", status_code=303)


@pages.post("/me/notifications/{notification_id}/read")
def my_notification_read(
    notification_id: Id, request: Request, unit: UnitDep, form: TokenForm
) -> Response:
    """Marks one of the account's own notifications read, as the API does; anyone else's
    is 404, as the API answers."""
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    if not accounts.read_notification(unit, clock_of(request), principal, notification_id):
        raise HTTPException(404, "no such notification")
    return RedirectResponse("/me#notifications", status_code=303)


# ---------------------------------------------------------------------- objections


@pages.get("/objections", response_class=HTMLResponse)
def objection_list(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    return case_list(OBJECTIONS, web, request, unit, desk)


def _objection_form(
    web: Portal,
    request: Request,
    ctx: Context,
    principal: Principal,
    record: Record,
    *,
    status: int = 200,
    error: str | None = None,
    grounds: str = "",
) -> HTMLResponse:
    return render_page(
        web,
        ctx,
        request,
        "objection_new.html",
        status=status,
        me=principal,
        record=record,
        error=error,
        grounds=grounds,
        max_bytes=ctx.settings.attachment_max_bytes,
    )


@pages.get("/objections/new", response_class=HTMLResponse)
def objection_form(
    request: Request, web: PortalDep, ctx: ContextDep, session: SessionDep, record: int = 0
) -> HTMLResponse:
    principal = signed_in(request, session)
    return _objection_form(web, request, ctx, principal, _record_of(session, principal, record))


@pages.post("/objections", response_class=HTMLResponse)
def objection_open(
    request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep, form: ObjectionForm
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    found = _record_of(unit.session, principal, number(form.get("record")))
    grounds = text(form.get("grounds"), 20_000)
    files = uploads(form, desk.services.attachment_max_bytes)
    try:
        opened = objection_steps.open_objection(
            unit, desk, principal, record_id=found.id, grounds=grounds, uploads=files
        )
    except WorkflowError as exc:
        return _objection_form(
            web, request, desk.ctx, principal, found, status=422, error=str(exc), grounds=grounds
        )
    return RedirectResponse(f"/objections/{opened.id}", status_code=303)


@pages.get("/objections/{objection_id}", response_class=HTMLResponse)
def objection_detail(
    objection_id: Id, request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    return case_page(OBJECTIONS, web, request, unit, desk, principal, objection_id)


@pages.post("/objections/{objection_id}/decision", response_class=HTMLResponse)
def objection_decide(
    objection_id: Id,
    request: Request,
    web: PortalDep,
    unit: UnitDep,
    desk: DeskDep,
    form: ObjectionDecisionForm,
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    outcome = text(form.get("outcome"), 16)
    reasons = text(form.get("reasons"), 20_000)
    corrected: dict[str, str | int | float | bool] = {}
    for line in text(form.get("corrected"), 20_000).splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            corrected[name.strip()] = value.strip()

    def decide() -> object:
        return objection_steps.decide_objection(
            unit,
            desk,
            principal,
            objection_id,
            outcome=ObjectionOutcome(outcome),
            reasons=reasons,
            corrected=corrected or None,
        )

    return case_decision(OBJECTIONS, web, request, unit, desk, principal, objection_id, decide)


# ---------------------------------------------------------------------- credit repair


@pages.get("/repairs", response_class=HTMLResponse)
def repair_list(request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep) -> HTMLResponse:
    return case_list(REPAIRS, web, request, unit, desk)


def _repair_form(
    web: Portal,
    request: Request,
    desk: Desk,
    principal: Principal,
    record: Record,
    *,
    status: int = 200,
    error: str | None = None,
    possible_from: dt.date | None = None,
    evidence: str = "",
    commitment: str = COMMITMENT,
) -> HTMLResponse:
    verdict = repair_steps.record_eligibility(desk, record)
    return render_page(
        web,
        desk.ctx,
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
        max_bytes=desk.ctx.settings.attachment_max_bytes,
    )


@pages.get("/repairs/new", response_class=HTMLResponse)
def repair_new(
    request: Request, web: PortalDep, session: SessionDep, desk: DeskDep, record: int = 0
) -> HTMLResponse:
    principal = signed_in(request, session)
    return _repair_form(web, request, desk, principal, _record_of(session, principal, record))


@pages.post("/repairs", response_class=HTMLResponse)
def repair_apply(
    request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep, form: RepairForm
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    found = _record_of(unit.session, principal, number(form.get("record")))
    evidence = text(form.get("evidence"), 20_000)
    commitment = text(form.get("commitment"), 5000)
    files = uploads(form, desk.services.attachment_max_bytes)

    def refused(error: str, possible_from: dt.date | None = None) -> HTMLResponse:
        """The form again, as filled in, with why it was refused."""
        return _repair_form(
            web,
            request,
            desk,
            principal,
            found,
            status=422,
            error=error,
            possible_from=possible_from,
            evidence=evidence,
            commitment=commitment,
        )

    if form.get("sign") != "yes":
        return refused("unsigned")
    try:
        applied = repair_steps.apply_repair(
            unit,
            desk,
            principal,
            record_id=found.id,
            evidence=evidence,
            commitment=commitment,
            uploads=files,
        )
    except TooEarlyError as exc:
        return refused(str(exc), exc.possible_from)
    except WorkflowError as exc:
        return refused(str(exc))
    return RedirectResponse(f"/repairs/{applied.id}", status_code=303)


@pages.get("/repairs/{application_id}", response_class=HTMLResponse)
def repair_detail(
    application_id: Id, request: Request, web: PortalDep, unit: UnitDep, desk: DeskDep
) -> HTMLResponse:
    principal = signed_in(request, unit.session)
    return case_page(REPAIRS, web, request, unit, desk, principal, application_id)


@pages.post("/repairs/{application_id}/decision", response_class=HTMLResponse)
def repair_decide(
    application_id: Id,
    request: Request,
    web: PortalDep,
    unit: UnitDep,
    desk: DeskDep,
    form: RepairDecisionForm,
) -> Response:
    principal = signed_in(request, unit.session, form=form.get(FORM_FIELD))
    decision = text(form.get("decision"), 10)
    reasons = text(form.get("reasons"), 20_000)
    if decision not in ("approve", "refuse"):
        # "decision": the template's own message, to choose to approve or to refuse
        page = partial(case_page, REPAIRS, web, request, unit, desk, principal)
        return page(application_id, status=422, error="decision")

    def decide() -> object:
        return repair_steps.decide_repair(
            unit, desk, principal, application_id, approve=decision == "approve", reasons=reasons
        )

    return case_decision(REPAIRS, web, request, unit, desk, principal, application_id, decide)


def register(web: Portal) -> None:
    web.router.operations.extend(pages.operations)
