"""Report and certificate PDFs as files: issued signed and registered, verified by their bytes.

Every PDF the platform hands out (``bonafides report`` and ``certificate``, the API's
``.pdf``) comes from ``issue_pdf``: rendered (or taken from ``rendered``, the document's
render kept from an earlier download), signed over its bytes with a PDF signature,
and its SHA-256 recorded under the document it renders. ``verify_pdf`` is what the CLI,
the API and the /verify page call with an uploaded file: the PDF signature must cover the
whole file, the file's digest must be registered under the id its attachment names, and
then the attached data is checked as before (its signature, the registry's copy, whether
the subject's data changed since). A forged page around a genuine attachment fails the
first two.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.reports.certificates import is_certificate, verify_document
from bonafides.reports.envelope import SignedReport
from bonafides.reports.pades import check_pdf, sign_pdf
from bonafides.reports.render import extract_envelope
from bonafides.reports.rendered import RENDERED
from bonafides.reports.service import Verification, VerificationStep, key_store
from bonafides.security.signing import KeyStore
from bonafides.store.tables import IssuedFile
from bonafides.store.types import utcnow

_REASON = {
    "report": "Credit report issued by this platform",
    "certificate": "Check certificate issued by this platform",
}


def _kind(signed: SignedReport) -> str:
    return "certificate" if is_certificate(signed.document) else "report"


def issue_pdf(
    session: Session,
    ctx: Context,
    signed: SignedReport,
    lang: str,
    *,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The PDF of a signed report or certificate, with a PDF signature, registered in
    ``session`` (the caller commits)."""
    keys = keys or key_store(ctx)
    kind = _kind(signed)
    document_id = signed.report_id
    if document_id is None:
        raise ValueError("a signed document without an id cannot be issued as a file")
    # A document already rendered in this language is signed again without layout.
    pdf = sign_pdf(RENDERED.pdf(signed, lang), keys, reason=_REASON[kind])
    session.add(
        IssuedFile(
            sha256=hashlib.sha256(pdf).hexdigest(),
            document_id=document_id,
            kind=kind,
            lang=lang,
            size=len(pdf),
            key_id=keys.signing_key()[0],
            issued_at=now or utcnow(),
        )
    )
    return pdf


def _registered(session: Session, digest: str, document_id: str | None) -> VerificationStep:
    row = session.scalar(select(IssuedFile).where(IssuedFile.sha256 == digest))
    if row is None:
        return VerificationStep(
            "registry_digest",
            False,
            f"no file with SHA-256 {digest} was issued here: the file is not one this "
            "platform handed out, or it was changed",
        )
    if row.document_id != document_id:
        return VerificationStep(
            "registry_digest", False, f"SHA-256 {digest} was issued for another document"
        )
    return VerificationStep(
        "registry_digest",
        True,
        f"SHA-256 {digest} is registered for {row.kind} {row.document_id} "
        f"({row.lang}, issued {row.issued_at:%Y-%m-%d %H:%M} UTC)",
    )


def verify_pdf(
    session: Session,
    ctx: Context,
    data: bytes,
    *,
    actor: str,
    code: str | None = None,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify an uploaded report or certificate PDF by its exact bytes and its data.

    Raises ``EnvelopeError`` for a file that carries no signed document at all: that is
    unusable input, not a forgery to report on.
    """
    signed = extract_envelope(data)
    keys = keys or key_store(ctx)
    pdf = check_pdf(data, keys)
    file_checks = (
        VerificationStep("pdf_signature", pdf.passed, pdf.detail),
        _registered(session, hashlib.sha256(data).hexdigest(), signed.report_id),
    )
    result = verify_document(session, ctx, signed, actor=actor, code=code, keys=keys, now=now)
    failed = next((step.detail for step in file_checks if not step.passed), None)
    return dataclasses.replace(result, file_checks=file_checks, problem=failed or result.problem)
