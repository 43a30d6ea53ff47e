"""Screening check certificates as signed documents: the same treatment as reports.

``bonafides.screening`` stores each check's answer and its digest under a certificate id;
this module turns a stored single check into a document, signs its canonical JSON with
the report key, renders it, and verifies it. The document is built from the stored row
only and Ed25519 signatures are deterministic, so the same certificate always yields the
same signed bytes: nothing needs storing beside the check itself.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bonafides.context import Context
from bonafides.records import canonical_json, digest
from bonafides.reports.envelope import SignedReport
from bonafides.reports.render import CERTIFICATE_FORMAT
from bonafides.reports.service import Verification, key_store, verify_report
from bonafides.reports.signing import KeyStore, normalise_code, sign, signature_valid
from bonafides.reports.sources import rules_or_none
from bonafides.screening.service import UnknownCertificateError
from bonafides.screening.service import verify as screening_verify
from bonafides.store.tables import Check

#: Screening's certificate ids: ``secrets.token_urlsafe(18)``.
CERTIFICATE_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


class CertificateError(LookupError):
    """No single check with this certificate id, or one that cannot be certified alone."""


def is_certificate(document: dict[str, Any]) -> bool:
    return document.get("format") == CERTIFICATE_FORMAT


def certificate_url(base: str, cert_id: str) -> str:
    return f"{base}?certificate={cert_id}"


def _stored(ctx: Context, cert_id: str) -> Check:
    if not CERTIFICATE_ID.fullmatch(cert_id):
        raise CertificateError(f"no check certificate {cert_id!r}")
    with ctx.sessions() as session:
        row = session.scalar(select(Check).where(Check.cert_id == cert_id))
    if row is None:
        raise CertificateError(f"no check certificate {cert_id!r}")
    if row.kind != "single":
        raise CertificateError(
            f"certificate {cert_id} answers a batch: its lines are checked one by one "
            "with `bonafides verify ID.LINE`"
        )
    return row


def certificate_document(ctx: Context, row: Check, key_id: str) -> dict[str, Any]:
    """Everything the certificate states, in both languages where the rules give both."""
    zone = ZoneInfo(ctx.settings.timezone)
    rules = rules_or_none(ctx.catalogue)
    action = rules.actions.get(row.action) if rules else None
    department: dict[str, str | None] | None = None
    if row.department:
        try:
            dept = ctx.catalogue.department(row.department)
            department = {"code": dept.code, "name_zh": dept.name_zh, "name_en": dept.name_en}
        except KeyError:
            department = {"code": row.department, "name_zh": row.department, "name_en": None}
    return {
        "format": CERTIFICATE_FORMAT,
        "id": row.cert_id,
        "issued_at": row.created_at.astimezone(zone).isoformat(timespec="seconds"),
        "inquirer": row.inquirer,
        "department": department,
        "purpose": row.purpose,
        "action": row.action,
        "action_zh": action.title_zh if action else row.action,
        "action_en": action.title_en if action else row.action,
        "as_of": row.as_of.isoformat(),
        "answer": row.answer,
        "digest": row.digest,
        "evaluator": row.evaluator,
        "rules_version": row.rules_version,
        "verify_url": certificate_url(ctx.settings.report_verify_url, row.cert_id),
        "key_id": key_id,
    }


def sign_certificate(ctx: Context, cert_id: str, keys: KeyStore) -> SignedReport:
    row = _stored(ctx, cert_id)
    key_id = keys.signing_key()[0]
    payload = canonical_json(certificate_document(ctx, row, key_id))
    signed_by, signature = sign(keys, payload.encode())
    return SignedReport.of(payload, signature, signed_by)


def verify_certificate(
    ctx: Context,
    signed: SignedReport,
    *,
    keys: KeyStore,
    code: str | None = None,
    actor: str,
) -> Verification:
    """The same answers as a report's verification, for a signed check certificate.

    "Changed since issue" is screening's own judgement: whether the same question, asked
    again as of the same day, gets the same answer now.
    """
    doc = signed.document
    cert_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    valid = signature_valid(keys, signed.key_id, signed.payload_bytes, signed.signature)
    problem = (
        None
        if valid
        else (
            "the signature does not match the certificate, or the key is not one of this platform's"
        )
    )
    row = None
    if cert_id is not None and CERTIFICATE_ID.fullmatch(cert_id):
        with ctx.sessions() as session:
            row = session.scalar(select(Check).where(Check.cert_id == cert_id))
    known = row is not None
    answer = doc.get("answer")
    matches = (
        row is not None
        and doc.get("digest") == row.digest
        and isinstance(answer, dict)
        and digest(answer) == row.digest
    )
    if problem is None and not known:
        problem = "this platform has issued no check certificate with this id"
    elif problem is None and not matches:
        problem = "the certificate differs from the check answered under this id"
    code_matches = None
    if code is not None:
        code_matches = normalise_code(code) == signed.code
        if problem is None and not code_matches:
            problem = "the verification code does not belong to this certificate"
    changed = None
    if valid and matches and cert_id is not None:
        try:
            changed = not screening_verify(ctx, cert_id, actor=actor).same_now
        except UnknownCertificateError:
            changed = None
    return Verification(
        report_id=cert_id,
        number=None,
        view="check",
        subject_code=answer.get("code") if isinstance(answer, dict) else None,
        key_id=signed.key_id,
        signature_valid=valid,
        known=known,
        matches_store=matches,
        issued_at=doc.get("issued_at") if isinstance(doc.get("issued_at"), str) else None,
        valid_until=None,
        expired=None,
        changed_since_issue=changed,
        code_matches=code_matches,
        verification_code=signed.printed_code if valid else None,
        problem=problem,
    )


def verify_document(
    ctx: Context,
    signed: SignedReport,
    *,
    actor: str,
    code: str | None = None,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify a signed file of either kind: a credit report or a check certificate."""
    if is_certificate(signed.document):
        return verify_certificate(ctx, signed, keys=keys or key_store(ctx), code=code, actor=actor)
    return verify_report(ctx, signed=signed, code=code, actor=actor, keys=keys, now=now)
