"""Credit reports and check certificates as use cases: issue, read, render, verify.

Each use case authorises, calls the report services (which write to the session they
are given and never commit), and commits once through a ``UnitOfWork``, so a full
report and the access-log line that says who drew it are durable together or not at
all. The API, the portal and the CLI call these; refusals are ``bonafides.errors``
kinds, which each adapter answers its own way.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.errors import BonafidesError, Invalid, TooLarge, Unauthenticated
from bonafides.reports import certificates, files
from bonafides.reports import service as reports
from bonafides.reports.access import grant_full_report, reader
from bonafides.reports.certificates import (
    CERTIFICATE_ID,
    CertificateError,
    sign_certificate,
)
from bonafides.reports.envelope import SignedReport
from bonafides.reports.model import ReportRequest, SubjectNotFoundError, View
from bonafides.reports.service import (
    REPORT_ID_LENGTH,
    Authorise,
    ReportAccessError,
    ReportNotFoundError,
    Verification,
    key_store,
)
from bonafides.security.roles import Principal, Role
from bonafides.security.signing import CROCKFORD, KeyStore
from bonafides.workflows.common import WorkflowError

#: A report PDF is tens of kilobytes; a verification upload far beyond that is not one.
MAX_PDF_BYTES = 5 * 1024 * 1024
#: Who an anonymous issue or verification is recorded as, in the audit chain.
ANONYMOUS_ACTOR = "api:anonymous"


class ReportIn(BaseModel):
    """What a caller asks for: the same fields over the API and from the portal."""

    code: str = Field(min_length=1, max_length=80, description="USCC or resident ID number.")
    view: View = Field(
        default=View.PUBLIC,
        description="'full' for the signed-in subject's own report, or an authority's with a "
        "purpose; 'public' for anyone.",
    )
    period_from: dt.date | None = Field(
        default=None, alias="from", description="First day of the period; default 3 years."
    )
    period_to: dt.date | None = Field(
        default=None, alias="to", description="Last day of the period; default today."
    )
    fields: list[str] = Field(
        default_factory=list, max_length=64, description="Credit fields; empty means all."
    )
    purpose: str | None = Field(
        default=None, max_length=300, description="Why; required of an authority, logged."
    )
    inquiry: int | None = Field(
        default=None,
        ge=1,
        description="An approved special inquiry, for an authority's report with restricted "
        "records.",
    )


def _as_seen_by(principal: Principal, exc: BonafidesError) -> BonafidesError:
    """A refusal to the anonymous invites a sign-in; to anyone else it stays as it is."""
    if principal.role is Role.PUBLIC and isinstance(exc, WorkflowError | ReportAccessError):
        return Unauthenticated(str(exc))
    return exc


def issue_report(
    ctx: Context,
    request: ReportRequest,
    *,
    actor: str,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
    authorise: Authorise | None = None,
) -> SignedReport:
    """Draw, store, sign and audit one report, committed with its access-log line."""
    with UnitOfWork(ctx.sessions) as unit:
        signed = reports.issue_report(
            unit.session, ctx, request, actor=actor, keys=keys, now=now, authorise=authorise
        )
        unit.commit()
    return signed


def issue_for(
    ctx: Context, principal: Principal, body: ReportIn, *, today: dt.date
) -> SignedReport:
    """Issue as ``principal`` may: a public report for anyone, a full one for the bound
    subject itself or an authority with a purpose. The API and the portal's "download my
    report" both call this."""
    audience = None
    authorise = None
    if body.view is View.FULL:
        try:
            grant = grant_full_report(
                ctx.catalogue, principal, purpose=body.purpose, inquiry_id=body.inquiry, today=today
            )
        except WorkflowError as exc:
            raise _as_seen_by(principal, exc) from exc
        audience, authorise = grant.audience, grant.authorise
    elif body.inquiry is not None:
        raise Invalid("a special inquiry goes with a full report only")
    request = ReportRequest(
        code=body.code,
        view=body.view,
        audience=audience,
        period_from=body.period_from,
        period_to=body.period_to,
        fields=body.fields,
        purpose=body.purpose,
    )
    actor = ANONYMOUS_ACTOR if principal.role is Role.PUBLIC else principal.actor
    try:
        return issue_report(ctx, request, actor=actor, authorise=authorise)
    except SubjectNotFoundError as exc:
        raise SubjectNotFoundError("no such subject") from exc


def read_for(ctx: Context, principal: Principal, report_id: str) -> SignedReport:
    """A stored report as ``principal`` may read it; reading a full one is logged."""
    with UnitOfWork(ctx.sessions) as unit:
        signed = _read(unit, principal, report_id)
        unit.commit()
    return signed


def _read(unit: UnitOfWork, principal: Principal, report_id: str) -> SignedReport:
    try:
        return reports.read_report(unit.session, report_id, authorise=reader(principal))
    except ReportNotFoundError as exc:
        raise ReportNotFoundError("no such report") from exc
    except ReportAccessError as exc:
        raise _as_seen_by(principal, exc) from exc


def pdf_for(ctx: Context, principal: Principal, report_id: str, lang: str) -> bytes:
    """A stored report as a signed PDF, read as ``principal`` may; the read's log line and
    the file's registration commit together."""
    with UnitOfWork(ctx.sessions) as unit:
        pdf = files.issue_pdf(unit.session, ctx, _read(unit, principal, report_id), lang)
        unit.commit()
    return pdf


def issue_pdf(
    ctx: Context,
    signed: SignedReport,
    lang: str,
    *,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The signed PDF of a report or certificate the caller already holds, registered."""
    with UnitOfWork(ctx.sessions) as unit:
        pdf = files.issue_pdf(unit.session, ctx, signed, lang, keys=keys, now=now)
        unit.commit()
    return pdf


def verify_report(
    ctx: Context,
    *,
    report_id: str | None = None,
    signed: SignedReport | None = None,
    code: str | None = None,
    actor: str = "public",
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify a report by id or carried whole; a full report's check is audited."""
    with UnitOfWork(ctx.sessions) as unit:
        result = reports.verify_report(
            unit.session,
            ctx,
            report_id=report_id,
            signed=signed,
            code=code,
            actor=actor,
            keys=keys,
            now=now,
        )
        unit.commit()
    return result


def verify_pdf(
    ctx: Context,
    data: bytes,
    *,
    actor: str,
    code: str | None = None,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify a report or certificate PDF by its bytes and its data (``EnvelopeError``, an
    ``Invalid``, for a file that carries no signed document)."""
    with UnitOfWork(ctx.sessions) as unit:
        result = files.verify_pdf(
            unit.session, ctx, data, actor=actor, code=code, keys=keys, now=now
        )
        unit.commit()
    return result


def verify_document(
    ctx: Context,
    signed: SignedReport,
    *,
    actor: str,
    code: str | None = None,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify a signed document of either kind, a credit report or a check certificate."""
    with UnitOfWork(ctx.sessions) as unit:
        result = certificates.verify_document(
            unit.session, ctx, signed, actor=actor, code=code, keys=keys, now=now
        )
        unit.commit()
    return result


def verify_upload(ctx: Context, data: bytes, *, actor: str, code: str | None) -> Verification:
    """An uploaded PDF, refused unread when larger than any report (``TooLarge``)."""
    if len(data) > MAX_PDF_BYTES:
        raise TooLarge(f"a report PDF is smaller than {MAX_PDF_BYTES} bytes")
    return verify_pdf(ctx, data, actor=actor, code=code)


def is_report_id(value: str) -> bool:
    return len(value) == REPORT_ID_LENGTH and all(c in CROCKFORD for c in value)


def verify_id(ctx: Context, value: str, code: str | None, *, actor: str) -> Verification | None:
    """A report id or a check certificate id; None when it names nothing issued here."""
    value = value.strip()
    if is_report_id(value.upper()):
        try:
            return verify_report(ctx, report_id=value.upper(), code=code, actor=actor)
        except ReportNotFoundError:
            return None
    if CERTIFICATE_ID.fullmatch(value):
        try:
            signed = sign_certificate(ctx, value, key_store(ctx))
        except CertificateError:
            return None
        return verify_document(ctx, signed, code=code, actor=actor)
    return None
