"""Credit reports over HTTP: issue, fetch (JSON, PDF, HTML), verify, and the public keys.

Anyone may issue and read a public report. A full report is drawn by the signed-in
subject for itself, or by an authority with ``files:read`` and a stated purpose
(``bonafides.reports.access``), and read again only by its subject or whoever drew it;
each draw and read is in the subject's access log. Verifying a full report answers only
whether it is authentic, never what it contains.
"""

from __future__ import annotations

from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from bonafides.app import reports
from bonafides.app.reports import ANONYMOUS_ACTOR, MAX_PDF_BYTES, ReportIn
from bonafides.http.auth import PrincipalDep, ReportLimit, clock_of
from bonafides.http.deps import ContextDep
from bonafides.http.middleware import CONTENT_SECURITY_POLICY
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.reports.render import css_hash, page_css, render_html
from bonafides.reports.service import (
    REPORT_ID_LENGTH,
    Verification,
    verification_json,
)
from bonafides.security.clock import office_day
from bonafides.security.signing import ALGORITHM, FileKeyStore, b64, file_key_store, keys_dir

router = Routes(tags=["reports"])


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
    certificate_pem: str | None = Field(
        description="The key's self-signed X.509 certificate, which signs report and "
        "certificate PDFs (PAdES); also at /api/v1/keys/{key_id}/certificate.pem. None for a "
        "key retired before PDFs were signed."
    )


class KeysOut(BaseModel):
    keys: list[KeyOut]


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


class CheckOut(BaseModel):
    name: str = Field(
        description="pdf_signature, registry_digest, data_signature, issued_here, code or "
        "data_unchanged."
    )
    passed: bool
    detail: str = Field(description="What was found, in a sentence.")
    required: bool = Field(description="Whether authenticity depends on it.")


class VerificationOut(BaseModel):
    authentic: bool = Field(
        description="Every required check passed: for a file, its PDF signature covers the "
        "whole file and its SHA-256 is registered; its data is signed by this platform and "
        "is the report or certificate issued under its id."
    )
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
    checks: list[CheckOut] = Field(description="What was checked, in order, and what it found.")


def _links(report_id: str) -> dict[str, str]:
    base = f"/api/v1/reports/{report_id}"
    return {"json_url": base, "pdf_url": f"{base}.pdf", "html_url": f"{base}.html"}


def _verification(result: Verification) -> VerificationOut:
    return VerificationOut(**verification_json(result))


@router.get("/keys", response_model=KeysOut)
def keys(ctx: ContextDep) -> KeysOut:
    """The public keys that sign reports, current first; old ones stay to verify old reports."""
    store = file_key_store(keys_dir(ctx.settings.data_dir).resolve())
    store.signing_certificate()
    return KeysOut(
        keys=[
            KeyOut(
                key_id=k.key_id,
                algorithm=ALGORITHM,
                current=k.current,
                public_key_pem=k.pem,
                public_key_raw_b64=b64(k.raw),
                certificate_pem=_certificate_pem(store, k.key_id),
            )
            for k in store.public_keys()
        ]
    )


def _certificate_pem(store: FileKeyStore, key_id: str) -> str | None:
    cert = store.certificate(key_id)
    return cert.public_bytes(serialization.Encoding.PEM).decode() if cert else None


@router.get(
    "/keys/{key_id}/certificate.pem",
    response_class=Response,
    responses={
        200: {
            "content": {"application/x-pem-file": {}},
            "description": "The X.509 certificate of a report key, PEM.",
        },
        **errors(404, 422),
    },
)
def key_certificate(
    key_id: Annotated[str, Path(pattern="^[0-9a-f]{16}$", description="A key id.")],
    ctx: ContextDep,
) -> Response:
    """The certificate that signs report and certificate PDFs: import it into a PDF reader
    to trust this platform's signatures."""
    store = file_key_store(keys_dir(ctx.settings.data_dir).resolve())
    store.signing_certificate()
    pem = _certificate_pem(store, key_id)
    if pem is None:
        raise HTTPException(404, "no certificate for this key")
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"content-disposition": f'attachment; filename="{key_id}.pem"'},
    )


@router.post(
    "/reports",
    response_model=IssuedOut,
    status_code=201,
    responses=errors(401, 403, 404, 422, 429),
    dependencies=[ReportLimit],
)
def issue(body: ReportIn, request: Request, ctx: ContextDep, principal: PrincipalDep) -> IssuedOut:
    """Issue a signed credit report for a subject, over a period and fields it names.

    A public report for anyone; a full report for the signed-in subject itself, or for an
    authority with ``files:read`` stating its purpose (logged in the subject's access log).
    """
    signed = reports.issue_for(
        ctx, principal, body, today=office_day(clock_of(request), ctx.settings.timezone)
    )
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
        **errors(401, 403, 404, 422, 429),
    },
    dependencies=[ReportLimit],
)
def report_pdf(
    report_id: ReportId, ctx: ContextDep, principal: PrincipalDep, lang: Lang = "zh"
) -> Response:
    """A report as an A4 PDF with its signed data attached and a PDF signature over the file
    (a full one to its readers); each file handed out is registered by its SHA-256."""
    pdf = reports.pdf_for(ctx, principal, report_id, lang)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="report-{report_id}.pdf"'},
    )


@router.get(
    "/reports/{report_id}.html",
    response_class=HTMLResponse,
    responses=errors(401, 403, 404, 422, 429),
    dependencies=[ReportLimit],
)
def report_html(
    report_id: ReportId, ctx: ContextDep, principal: PrincipalDep, lang: Lang = "zh"
) -> HTMLResponse:
    """A report as a standalone HTML page (its style and QR code inline)."""
    signed = reports.read_for(ctx, principal, report_id)
    # The page's own style sheet and inline QR image are allowed by hash and scheme;
    # everything else stays as strict as the rest of the site.
    policy = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src '{css_hash(page_css(signed, lang))}'"
    ).replace("img-src 'self'", "img-src data:")
    return HTMLResponse(render_html(signed, lang), headers={"content-security-policy": policy})


@router.get("/reports/{report_id}", response_model=SignedOut, responses=errors(401, 403, 404, 422))
def report_json(report_id: ReportId, ctx: ContextDep, principal: PrincipalDep) -> SignedOut:
    """A report as signed: the exact payload, its signature and key id."""
    signed = reports.read_for(ctx, principal, report_id)
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
    """Check a report (an uploaded PDF, or an id): for a PDF, its PDF signature over the whole
    file and its registered SHA-256; then the signed data, its issue, and data changed since.

    An uploaded check certificate PDF is checked too; its "changed since issue" says
    whether the same question gets the same answer now.
    """
    if (file is None) == (report_id is None):
        raise HTTPException(422, "give either a report PDF (file) or a report id (id)")
    if file is not None:
        data = file.file.read(MAX_PDF_BYTES + 1)
        return _verification(reports.verify_upload(ctx, data, code=code, actor=ANONYMOUS_ACTOR))
    assert report_id is not None
    return _verification(
        reports.verify_report(ctx, report_id=report_id, code=code, actor=ANONYMOUS_ACTOR)
    )
