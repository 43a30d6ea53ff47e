"""Due process over HTTP: objections, credit repair, complaints and special inquiries.

Routes parse the request, authorise with ``require`` and call ``bonafides.workflows``;
the service decides what the principal may do to which item, so a route cannot grant
more than the service allows. Each writing route commits once, then mails what the
step queued when SMTP is configured.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import (
    BackgroundTasks,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.http.auth import (
    PrincipalDep,
    clock_of,
    http_error,
    rate_limit,
    require,
    search_limit,
)
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role, Scope
from bonafides.store.access import log_read
from bonafides.store.tables import (
    Attachment,
    Complaint,
    Objection,
    RepairApplication,
    SpecialInquiry,
)
from bonafides.workflows import attachments, complaints, inquiries, notify, objections, repair
from bonafides.workflows.common import (
    NotFoundError,
    Services,
    TooEarlyError,
    WorkflowError,
    services_for,
)

router = Routes(tags=["due process"])

Id = Annotated[int, Path(ge=1, le=2**62)]
OwnWorkflows = Annotated[Principal, Depends(require(Role.SUBJECT, scope=Scope.OWN_WORKFLOWS))]
Answerer = Annotated[Principal, Depends(require(Role.OFFICER, scope=Scope.WORKFLOWS_ANSWER))]
SignedIn = Annotated[Principal, Depends(require())]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]
Applicant = Annotated[
    Principal, Depends(require(Role.OFFICER, Role.INQUIRER, scope=Scope.INQUIRIES_APPLY))
]
Files = Annotated[
    list[UploadFile] | None,
    File(description="PDF, PNG, JPEG or plain text; at most 5 files."),
]


def _services(request: Request, ctx: ContextDep) -> Services:
    return services_for(ctx, clock=clock_of(request))


ServicesDep = Annotated[Services, Depends(_services)]


def _mail_later(background: BackgroundTasks, ctx: Context, services: Services) -> None:
    """After the commit, mail what the step queued; a failure stays queued for a retry."""
    mailer = notify.SmtpMailer.from_settings(ctx.settings)
    if mailer is None:
        return

    def send() -> None:
        with ctx.sessions.begin() as session:
            notify.deliver(session, mailer, services.clock)

    background.add_task(send)


def _uploads(files: list[UploadFile] | None, limit: int) -> list[attachments.Upload]:
    out = []
    for upload in files or []:
        data = upload.file.read(limit + 1)
        out.append(
            attachments.Upload(
                file_name=upload.filename or "attachment",
                content_type=upload.content_type or "",
                data=data,
            )
        )
    return out


# --------------------------------------------------------------------------- models


class AttachmentOut(BaseModel):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str


class ObjectionOut(BaseModel):
    id: int
    record_id: int
    source: str
    grounds: str
    status: str
    opened_at: dt.datetime
    due_on: dt.date
    escalated: bool
    outcome: str | None
    reasons: str | None
    decided_at: dt.datetime | None
    attachments: list[AttachmentOut]


class DecisionIn(BaseModel):
    outcome: objections.ObjectionOutcome
    reasons: str = Field(min_length=1, max_length=20_000)
    corrected: dict[str, str | int | float | bool] | None = Field(
        default=None, description="Field name to corrected value, for the outcome 'corrected'."
    )


class EligibilityOut(BaseModel):
    record_id: int
    eligible: bool
    reason: str | None
    possible_from: dt.date | None = Field(description="The first day repair can be applied for.")


class RepairOut(BaseModel):
    id: int
    record_id: int
    source: str
    status: str
    evidence: str
    commitment_id: int
    submitted_at: dt.datetime
    due_on: dt.date
    decided_at: dt.datetime | None
    reasons: str | None
    attachments: list[AttachmentOut]


class RepairDecisionIn(BaseModel):
    approve: bool
    reasons: str = Field(min_length=1, max_length=20_000)


class ComplaintIn(BaseModel):
    kind: complaints.ComplaintKind
    text: str = Field(min_length=1, max_length=20_000)
    about: str = Field(min_length=1, max_length=300, description="Who or what it concerns.")
    code: str | None = Field(default=None, max_length=18, description="The subject's code.")
    type: str | None = Field(default=None, max_length=64, description="The record type at issue.")
    department: str | None = Field(default=None, max_length=32)
    informant_name: str | None = Field(default=None, max_length=200)
    informant_contact: str | None = Field(default=None, max_length=200)


class InformantOut(BaseModel):
    account: str | None
    name: str | None
    contact: str | None


class ComplaintOut(BaseModel):
    id: int
    kind: str
    department: str
    about: str
    text: str
    status: str
    created_at: dt.datetime
    due_on: dt.date
    answer: str | None
    answered_at: dt.datetime | None
    informant: InformantOut | None = Field(
        description="Who filed it: shown to the department it was routed to, and no one else."
    )


class ComplaintFiledOut(BaseModel):
    id: int
    department: str
    due_on: dt.date


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=20_000)


class InquiryIn(BaseModel):
    purpose: str = Field(min_length=1, max_length=300)
    legal_basis: str = Field(min_length=1, max_length=300)
    codes: list[str] = Field(min_length=1, max_length=inquiries.MAX_SUBJECTS)
    valid_from: dt.date
    valid_until: dt.date


class InquiryOut(BaseModel):
    id: int
    department: str
    purpose: str
    legal_basis: str
    subjects: int
    valid_from: dt.date
    valid_until: dt.date
    status: str
    decision_note: str | None


class InquiryDecisionIn(BaseModel):
    approve: bool
    note: str = Field(min_length=1, max_length=300)


def _attachments(session: Session, kind: str, owner_id: int) -> list[AttachmentOut]:
    return [
        AttachmentOut(
            id=a.id,
            file_name=a.file_name,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
        )
        for a in attachments.of(session, kind, owner_id)
    ]


def _objection_out(session: Session, o: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=o.id,
        record_id=o.record_id,
        source=o.source,
        grounds=o.grounds,
        status=o.status,
        opened_at=o.opened_at,
        due_on=o.due_on,
        escalated=o.escalated_at is not None,
        outcome=o.outcome,
        reasons=o.reasons,
        decided_at=o.decided_at,
        attachments=_attachments(session, objections.KIND, o.id),
    )


def _repair_out(session: Session, a: RepairApplication) -> RepairOut:
    return RepairOut(
        id=a.id,
        record_id=a.record_id,
        source=a.source,
        status=a.status,
        evidence=a.evidence,
        commitment_id=a.commitment_id,
        submitted_at=a.submitted_at,
        due_on=a.due_on,
        decided_at=a.decided_at,
        reasons=a.reasons,
        attachments=_attachments(session, repair.KIND, a.id),
    )


def _complaint_out(services: Services, principal: Principal, c: Complaint) -> ComplaintOut:
    who = complaints.informant(services, principal, c)
    return ComplaintOut(
        id=c.id,
        kind=c.kind,
        department=c.department,
        about=c.about,
        text=c.text,
        status=c.status,
        created_at=c.created_at,
        due_on=c.due_on,
        answer=c.answer,
        answered_at=c.answered_at,
        informant=InformantOut(account=who.account, name=who.name, contact=who.contact)
        if who
        else None,
    )


def _inquiry_out(i: SpecialInquiry) -> InquiryOut:
    return InquiryOut(
        id=i.id,
        department=i.department,
        purpose=i.purpose,
        legal_basis=i.legal_basis,
        subjects=len(i.subject_ids),
        valid_from=i.valid_from,
        valid_until=i.valid_until,
        status=i.status,
        decision_note=i.decision_note,
    )


def log_staff_read(session: Session, principal: Principal, subject_id: int, what: str) -> None:
    """A department or operator reading a subject's objection or evidence is a read of
    non-public data about it: logged for the subject, like a file read."""
    if principal.role is Role.SUBJECT:
        return
    log_read(
        session,
        actor=principal.actor,
        role=principal.role.value,
        department=principal.department,
        subject_id=subject_id,
        purpose="handling the subject's own application",
        what=what,
        audience=principal.role.value,
    )
    session.commit()


# --------------------------------------------------------------------------- objections


@router.post(
    "/objections",
    response_model=ObjectionOut,
    status_code=201,
    responses=errors(401, 403, 404, 409, 413, 422),
)
def open_objection(
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    subject: OwnWorkflows,
    background: BackgroundTasks,
    record_id: Annotated[int, Form(ge=1, le=2**62, description="The record objected to.")],
    grounds: Annotated[str, Form(min_length=1, max_length=20_000)],
    files: Files = None,
) -> ObjectionOut:
    """Object to a record of one's own file; it is marked under objection at once."""
    try:
        objection = objections.open_objection(
            session,
            services,
            subject,
            record_id=record_id,
            grounds=grounds,
            uploads=_uploads(files, services.attachment_max_bytes),
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    _mail_later(background, ctx, services)
    return _objection_out(session, objection)


@router.get("/objections", response_model=list[ObjectionOut], responses=errors(401, 403))
def list_objections(
    session: SessionDep,
    services: ServicesDep,
    principal: SignedIn,
    status: Annotated[objections.ObjectionStatus | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only open ones past their deadline.")] = False,
) -> list[ObjectionOut]:
    """Objections the caller may see: its own, its department's, or all (operators)."""
    try:
        found = objections.visible_to(
            session,
            services.catalogue,
            principal,
            status=status,
            overdue_on=services.deadlines.today() if overdue else None,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return [_objection_out(session, o) for o in found]


@router.get("/objections/{objection_id}", response_model=ObjectionOut, responses=errors(401, 404))
def get_objection(
    objection_id: Id, session: SessionDep, services: ServicesDep, principal: SignedIn
) -> ObjectionOut:
    """One objection, with its deadline, outcome and attachments."""
    try:
        found = objections.get(session, services.catalogue, principal, objection_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    log_staff_read(session, principal, found.subject_id, f"objection {found.id}")
    return _objection_out(session, found)


@router.post(
    "/objections/{objection_id}/decision",
    response_model=ObjectionOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_objection(
    objection_id: Id,
    body: DecisionIn,
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    officer: Answerer,
    background: BackgroundTasks,
) -> ObjectionOut:
    """The source department's answer: corrected (with the values), revoked, or upheld."""
    try:
        found = objections.decide(
            session,
            services,
            officer,
            objection_id,
            outcome=body.outcome,
            reasons=body.reasons,
            corrected=body.corrected,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    _mail_later(background, ctx, services)
    return _objection_out(session, found)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(401, 404)},
)
def get_attachment(
    attachment_id: Id, session: SessionDep, services: ServicesDep, principal: SignedIn
) -> Response:
    """An attachment, to those who may see what it is attached to; always as a download.

    One answer for an unknown id and for a file whose case the principal may not see: the
    answer names the attachment only, never the case it belongs to.
    """
    row = session.get(Attachment, attachment_id)
    missing = NotFoundError("no such attachment")
    try:
        if row is None:
            raise missing
        owner: Objection | RepairApplication | Complaint
        try:
            if row.owner_kind == objections.KIND:
                owner = objections.get(session, services.catalogue, principal, row.owner_id)
            elif row.owner_kind == repair.KIND:
                owner = repair.get(session, services, principal, row.owner_id)
            elif row.owner_kind == complaints.KIND:
                owner = complaints.get(session, services, principal, row.owner_id)
            else:
                raise missing
        except NotFoundError:
            raise missing from None
        data = attachments.read(services.data_dir, row)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    if isinstance(owner, Complaint):
        complaints.log_read(session, principal, owner, f"attachment {row.id}")
        session.commit()
    else:
        log_staff_read(session, principal, owner.subject_id, f"attachment {row.id}")
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "content-disposition": "attachment; filename=attachment; "
            f"filename*=UTF-8''{quote(row.file_name)}"
        },
    )


# --------------------------------------------------------------------------- repair


@router.get(
    "/repairs/eligibility/{record_id}",
    response_model=EligibilityOut,
    responses=errors(401, 403, 404),
)
def repair_eligibility(
    record_id: Id, session: SessionDep, services: ServicesDep, subject: OwnWorkflows
) -> EligibilityOut:
    """Whether a record of one's file can be repaired now, and if not yet, from when."""
    try:
        verdict = repair.check(session, services, subject, record_id)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return EligibilityOut(
        record_id=record_id,
        eligible=verdict.eligible,
        reason=verdict.reason,
        possible_from=verdict.possible_from,
    )


@router.post(
    "/repairs",
    response_model=RepairOut,
    status_code=201,
    responses=errors(401, 403, 404, 409, 413, 422),
)
def apply_repair(
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    subject: OwnWorkflows,
    background: BackgroundTasks,
    record_id: Annotated[int, Form(ge=1, le=2**62)],
    evidence: Annotated[
        str, Form(min_length=1, max_length=20_000, description="How the obligations were met.")
    ],
    commitment: Annotated[
        str,
        Form(min_length=1, max_length=5000, description="The credit commitment, signed by this."),
    ],
    files: Files = None,
) -> RepairOut:
    """Apply for credit repair with evidence and a signed credit commitment.

    Refused with 422 before the minimum publication period is served; the problem's detail
    names the first day an application is possible.
    """
    try:
        application = repair.apply(
            session,
            services,
            subject,
            record_id=record_id,
            evidence=evidence,
            commitment=commitment,
            uploads=_uploads(files, services.attachment_max_bytes),
        )
    except TooEarlyError as exc:
        raise HTTPException(422, str(exc)) from exc
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    _mail_later(background, ctx, services)
    return _repair_out(session, application)


@router.get("/repairs", response_model=list[RepairOut], responses=errors(401, 403))
def list_repairs(
    session: SessionDep, services: ServicesDep, principal: SignedIn
) -> list[RepairOut]:
    """Repair applications the caller may see."""
    try:
        found = repair.visible_to(session, services, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return [_repair_out(session, a) for a in found]


@router.post(
    "/repairs/{application_id}/decision",
    response_model=RepairOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_repair(
    application_id: Id,
    body: RepairDecisionIn,
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    officer: Answerer,
    background: BackgroundTasks,
) -> RepairOut:
    """The source department's decision; approval ends publication and the list entries."""
    try:
        application = repair.decide(
            session,
            services,
            officer,
            application_id,
            approve=body.approve,
            reasons=body.reasons,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    _mail_later(background, ctx, services)
    return _repair_out(session, application)


# --------------------------------------------------------------------------- complaints


@router.post(
    "/complaints",
    response_model=ComplaintFiledOut,
    status_code=201,
    responses=errors(401, 403, 422, 429),
    dependencies=[Depends(rate_limit("complaints", search_limit))],
)
def file_complaint(
    body: ComplaintIn,
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    principal: PrincipalDep,
    background: BackgroundTasks,
) -> ComplaintFiledOut:
    """File a complaint or report a violation, signed in or not; it goes to the competent
    department, which alone learns who filed it. A report never creates a record."""
    request = complaints.ComplaintRequest(
        kind=body.kind,
        text=body.text,
        about=body.about,
        code=body.code,
        type_code=body.type,
        department=body.department,
        informant_name=body.informant_name,
        informant_contact=body.informant_contact,
    )
    try:
        complaint = complaints.file(session, services, principal, request)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    _mail_later(background, ctx, services)
    return ComplaintFiledOut(
        id=complaint.id, department=complaint.department, due_on=complaint.due_on
    )


@router.get("/complaints", response_model=list[ComplaintOut], responses=errors(401, 403))
def list_complaints(
    session: SessionDep, services: ServicesDep, principal: SignedIn
) -> list[ComplaintOut]:
    """The department's complaints (with informants), one's own, or all (operators,
    without informants)."""
    try:
        found = complaints.visible_to(session, services, principal)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    # Staff reading complaints (officers with their informants) is a non-public read.
    for complaint in found:
        complaints.log_read(session, principal, complaint, "list")
    session.commit()
    return [_complaint_out(services, principal, c) for c in found]


@router.post(
    "/complaints/{complaint_id}/answer",
    response_model=ComplaintOut,
    responses=errors(401, 403, 404, 409, 422),
)
def answer_complaint(
    complaint_id: Id,
    body: AnswerIn,
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    officer: Answerer,
    background: BackgroundTasks,
) -> ComplaintOut:
    """The competent department's answer; the informant is notified if signed in."""
    try:
        found = complaints.answer(session, services, officer, complaint_id, body.answer)
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    _mail_later(background, ctx, services)
    return _complaint_out(services, officer, found)


# --------------------------------------------------------------------------- special inquiries


@router.post(
    "/inquiries",
    response_model=InquiryOut,
    status_code=201,
    responses=errors(401, 403, 422),
)
def apply_inquiry(
    body: InquiryIn,
    ctx: ContextDep,
    session: SessionDep,
    services: ServicesDep,
    applicant: Applicant,
) -> InquiryOut:
    """Apply to read restricted records of named subjects, for a purpose and a period."""
    try:
        inquiry = inquiries.apply(
            session,
            ctx.keys,
            services.deadlines,
            applicant,
            inquiries.InquiryRequest(
                purpose=body.purpose,
                legal_basis=body.legal_basis,
                codes=body.codes,
                valid_from=body.valid_from,
                valid_until=body.valid_until,
            ),
            max_days=services.inquiry_max_days,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    return _inquiry_out(inquiry)


@router.get("/inquiries", response_model=list[InquiryOut], responses=errors(401))
def list_inquiries(session: SessionDep, principal: SignedIn) -> list[InquiryOut]:
    """One's own applications, or all of them (operators)."""
    return [_inquiry_out(i) for i in inquiries.visible_to(session, principal)]


@router.post(
    "/inquiries/{inquiry_id}/decision",
    response_model=InquiryOut,
    responses=errors(401, 403, 404, 409, 422),
)
def decide_inquiry(
    inquiry_id: Id,
    body: InquiryDecisionIn,
    session: SessionDep,
    services: ServicesDep,
    operator: Operator,
) -> InquiryOut:
    """Approve or refuse a special inquiry (operators)."""
    try:
        inquiry = inquiries.decide(
            session, services.deadlines, operator, inquiry_id, approve=body.approve, note=body.note
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    session.commit()
    return _inquiry_out(inquiry)
