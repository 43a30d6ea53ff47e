"""Credit reports over HTTP: issue, fetch (JSON, PDF, HTML), verify, and the public keys.

Anyone may issue and read a public report. Full reports are issued and read only once
accounts exist to say who the subject is; until then the API refuses them, and their
verification answers only whether they are authentic, never what they contain.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from bonafides.api.deps import ContextDep
from bonafides.api.middleware import CONTENT_SECURITY_POLICY
from bonafides.api.problems import errors
from bonafides.reports.certificates import verify_document
from bonafides.reports.envelope import EnvelopeError, SignedReport
from bonafides.reports.model import ReportRequest, ReportRequestError, SubjectNotFoundError, View
from bonafides.reports.render import css_hash, extract_envelope, page_css, render_html, render_pdf
from bonafides.reports.service import (
    REPORT_ID_LENGTH,
    ReportAccessError,
    ReportNotFoundError,
    Verification,
    issue_report,
    load_report,
    verification_json,
    verify_report,
)
from bonafides.reports.signing import ALGORITHM, b64, file_key_store, keys_dir

router = APIRouter(tags=["reports"])

#: A report PDF is tens of kilobytes; a verification upload far beyond that is not one.
MAX_PDF_BYTES = 5 * 1024 * 1024
_ACTOR = "api:anonymous"

ReportId = Annotated[
    str,
    Path(
        pattern=f"^[0-9A-Z]{{{REPORT_ID_LENGTH}}}$",
        description="The report id printed on the report and in its QR code.",
        examples=["7K2M9QX4ZB1D8F3H"],
    ),
]
Lang = Annotated[str, Query(pattern="^(zh|en)$", description="Language of the page.")]


class KeyOut(BaseModel):
    key_id: str = Field(description="First 16 hex digits of the sha256 of the raw public key.")
    algorithm: str
    current: bool = Field(description="Signs new reports; the others verify older ones.")
    public_key_pem: str
    public_key_raw_b64: str = Field(description="The 32-byte Ed25519 public key, base64.")


class KeysOut(BaseModel):
    keys: list[KeyOut]


class ReportIn(BaseModel):
    code: str = Field(min_length=1, max_length=80, description="USCC or resident ID number.")
    view: View = Field(default=View.PUBLIC, description="Only 'public' until accounts exist.")
    period_from: dt.date | None = Field(
        default=None, alias="from", description="First day of the period; default 3 years."
    )
    period_to: dt.date | None = Field(
        default=None, alias="to", description="Last day of the period; default today."
    )
    fields: list[str] = Field(
        default_factory=list, max_length=64, description="Credit fields; empty means all."
    )
    purpose: str | None = Field(default=None, max_length=300)


class IssuedOut(BaseModel):
    id: str
    number: str
    view: str
    issued_at: str
    valid_until: str
    verification_code: str
    verify_url: str
    json_url: str
    pdf_url: str
    html_url: str


class SignedOut(BaseModel):
    """The envelope as signed, and the document it carries, parsed for convenience."""

    format: str
    algorithm: str
    key_id: str
    signature: str = Field(description="Ed25519 signature of ``payload``'s UTF-8 bytes, base64.")
    payload: str = Field(description="The canonical JSON that was signed, byte for byte.")
    verification_code: str
    document: dict[str, Any]


class VerificationOut(BaseModel):
    authentic: bool = Field(description="Signed by this platform, and the report it issued.")
    report_id: str | None
    number: str | None
    view: str | None
    subject_code: str | None
    key_id: str | None
    signature_valid: bool
    known: bool
    matches_store: bool
    issued_at: str | None
    valid_until: str | None
    expired: bool | None
    changed_since_issue: bool | None = Field(
        description="Whether the subject's data behind the report changed since issue."
    )
    code_matches: bool | None
    verification_code: str | None
    problem: str | None


def _links(report_id: str) -> dict[str, str]:
    base = f"/api/v1/reports/{report_id}"
    return {"json_url": base, "pdf_url": f"{base}.pdf", "html_url": f"{base}.html"}


def _public(ctx: ContextDep, report_id: str) -> SignedReport:
    try:
        return load_report(ctx, report_id)
    except ReportNotFoundError as exc:
        raise HTTPException(404, "no such report") from exc
    except ReportAccessError as exc:
        raise HTTPException(403, str(exc)) from exc


def _verification(result: Verification) -> VerificationOut:
    return VerificationOut(**verification_json(result))


@router.get("/keys", response_model=KeysOut)
def keys(ctx: ContextDep) -> KeysOut:
    """The public keys that sign reports, current first; old ones stay to verify old reports."""
    store = file_key_store(keys_dir(ctx.settings.data_dir).resolve())
    return KeysOut(
        keys=[
            KeyOut(
                key_id=k.key_id,
                algorithm=ALGORITHM,
                current=k.current,
                public_key_pem=k.pem,
                public_key_raw_b64=b64(k.raw),
            )
            for k in store.public_keys()
        ]
    )


@router.post("/reports", response_model=IssuedOut, status_code=201, responses=errors(403, 404, 422))
def issue(body: ReportIn, ctx: ContextDep) -> IssuedOut:
    """Issue a signed public credit report for a subject, over a period and fields it names."""
    if body.view is not View.PUBLIC:
        raise HTTPException(403, "full reports need the subject's account; not yet available")
    request = ReportRequest(
        code=body.code,
        view=View.PUBLIC,
        period_from=body.period_from,
        period_to=body.period_to,
        fields=body.fields,
        purpose=body.purpose,
    )
    try:
        signed = issue_report(ctx, request, actor=_ACTOR)
    except ReportRequestError as exc:
        raise HTTPException(422, str(exc)) from exc
    except SubjectNotFoundError as exc:
        raise HTTPException(404, "no such subject") from exc
    doc = signed.document
    return IssuedOut(
        id=doc["id"],
        number=doc["number"],
        view=doc["view"],
        issued_at=doc["issued_at"],
        valid_until=doc["valid_until"],
        verification_code=signed.printed_code,
        verify_url=doc["verify_url"],
        **_links(doc["id"]),
    )


@router.get(
    "/reports/{report_id}.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The report as an A4 PDF."},
        **errors(403, 404, 422),
    },
)
def report_pdf(report_id: ReportId, ctx: ContextDep, lang: Lang = "zh") -> Response:
    """A public report as an A4 PDF with its signed data attached."""
    pdf = render_pdf(_public(ctx, report_id), lang)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="report-{report_id}.pdf"'},
    )


@router.get(
    "/reports/{report_id}.html",
    response_class=HTMLResponse,
    responses=errors(403, 404, 422),
)
def report_html(report_id: ReportId, ctx: ContextDep, lang: Lang = "zh") -> HTMLResponse:
    """A public report as a standalone HTML page (its style and QR code inline)."""
    signed = _public(ctx, report_id)
    # The page's own style sheet and inline QR image are allowed by hash and scheme;
    # everything else stays as strict as the rest of the site.
    policy = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src '{css_hash(page_css(signed, lang))}'"
    ).replace("img-src 'self'", "img-src data:")
    return HTMLResponse(render_html(signed, lang), headers={"content-security-policy": policy})


@router.get("/reports/{report_id}", response_model=SignedOut, responses=errors(403, 404, 422))
def report_json(report_id: ReportId, ctx: ContextDep) -> SignedOut:
    """A public report as signed: the exact payload, its signature and key id."""
    signed = _public(ctx, report_id)
    return SignedOut(
        **signed.envelope(),
        verification_code=signed.printed_code,
        document=signed.document,
    )


@router.post("/reports/verify", response_model=VerificationOut, responses=errors(404, 413, 422))
def verify(
    ctx: ContextDep,
    file: Annotated[UploadFile | None, File(description="A report PDF to check.")] = None,
    report_id: Annotated[
        str | None,
        Form(
            alias="id",
            pattern=f"^[0-9A-Z]{{{REPORT_ID_LENGTH}}}$",
            description="A report id, when no file is given.",
        ),
    ] = None,
    code: Annotated[
        str | None,
        Form(max_length=20, description="The verification code printed on the report."),
    ] = None,
) -> VerificationOut:
    """Check a report (an uploaded PDF, or an id): signature, issue, and data changed since.

    An uploaded check certificate PDF is checked too; its "changed since issue" says
    whether the same question gets the same answer now.
    """
    if (file is None) == (report_id is None):
        raise HTTPException(422, "give either a report PDF (file) or a report id (id)")
    if file is not None:
        data = file.file.read(MAX_PDF_BYTES + 1)
        if len(data) > MAX_PDF_BYTES:
            raise HTTPException(413, f"a report PDF is smaller than {MAX_PDF_BYTES} bytes")
        try:
            signed = extract_envelope(data)
        except EnvelopeError as exc:
            raise HTTPException(422, str(exc)) from exc
        return _verification(verify_document(ctx, signed, code=code, actor=_ACTOR))
    assert report_id is not None
    try:
        result = verify_report(ctx, report_id=report_id, code=code, actor=_ACTOR)
    except ReportNotFoundError as exc:
        raise HTTPException(404, "no such report") from exc
    return _verification(result)
