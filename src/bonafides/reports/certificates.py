"""Screening check certificates as signed documents: the same treatment as reports.

``bonafides.screening`` stores each check's answer and its digest under a certificate id;
this module turns a stored single check, or one line of a batch (``ID.LINE``), into a
document, signs its canonical JSON with the report key, renders it, and verifies it. The
document is built from the stored rows only and Ed25519 signatures are deterministic, so
the same certificate always yields the same signed bytes: nothing needs storing beside the
check itself.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.errors import NotFound
from bonafides.records import canonical_json, digest
from bonafides.reports.envelope import SignedReport
from bonafides.reports.render import CERTIFICATE_FORMAT
from bonafides.reports.service import Verification, key_store, verify_report
from bonafides.reports.sources import rules_or_none
from bonafides.screening.answer import INVALID
from bonafides.screening.common import UnknownCertificateError
from bonafides.screening.service import line_answer
from bonafides.screening.service import verify as screening_verify
from bonafides.security.signing import KeyStore, normalise_code, sign, signature_valid
from bonafides.store.tables import Check, CheckLine

#: Screening's certificate ids: ``secrets.token_urlsafe(18)``, and ``ID.LINE`` for one
#: line of a batch.
CERTIFICATE_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}(?:\.[0-9]{1,9})?$")


class CertificateError(NotFound):
    """No single check with this certificate id, or one that cannot be certified alone."""


def is_certificate(document: dict[str, Any]) -> bool:
    return document.get("format") == CERTIFICATE_FORMAT


def certificate_url(base: str, cert_id: str) -> str:
    return f"{base}?certificate={cert_id}"


def _lookup(session: Session, cert_id: str) -> tuple[Check, CheckLine | None] | None:
    """The check under ``cert_id`` and, for ``ID.LINE``, that line of its batch."""
    if not CERTIFICATE_ID.fullmatch(cert_id):
        return None
    base, _, line = cert_id.partition(".")
    row = session.scalar(select(Check).where(Check.cert_id == base))
    if row is None or not line:
        return None if row is None else (row, None)
    found = session.scalar(
        select(CheckLine).where(CheckLine.check_id == row.id, CheckLine.line == int(line))
    )
    if found is None:
        raise CertificateError(f"certificate {base} has no line {line}")
    return row, found


def _stored(session: Session, cert_id: str) -> tuple[Check, CheckLine | None]:
    found = _lookup(session, cert_id)
    if found is None:
        raise CertificateError(f"no check certificate {cert_id!r}")
    row, line = found
    if line is None and row.kind != "single":
        raise CertificateError(
            f"certificate {cert_id} answers a batch: each line is certified on its own, as ID.LINE"
        )
    if line is not None and line.status == INVALID:
        raise CertificateError(f"line {line.line} of {row.cert_id} holds no valid code to certify")
    return row, line


#: A certificate's id, answer and digest.
Stated = tuple[str, dict[str, Any], str]


def _answer(session: Session, row: Check, line: CheckLine | None) -> Stated:
    """The certificate id, answer and digest: the check's own, or one line's of a batch."""
    if line is None:
        return row.cert_id, row.answer, row.digest
    return f"{row.cert_id}.{line.line}", line_answer(session, line), line.digest


def certificate_document(ctx: Context, row: Check, key_id: str, stated: Stated) -> dict[str, Any]:
    """Everything the certificate states, in both languages where the rules give both.

    A batch line's certificate states the batch's question and that line's answer.
    """
    cert_id, answer, answer_digest = stated
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
        "id": cert_id,
        "issued_at": row.created_at.astimezone(zone).isoformat(timespec="seconds"),
        "inquirer": row.inquirer,
        "department": department,
        "purpose": row.purpose,
        "action": row.action,
        "action_zh": action.title_zh if action else row.action,
        "action_en": action.title_en if action else row.action,
        "as_of": row.as_of.isoformat(),
        "answer": answer,
        "digest": answer_digest,
        "evaluator": row.evaluator,
        "rules_version": row.rules_version,
        "verify_url": certificate_url(ctx.settings.report_verify_url, cert_id),
        "key_id": key_id,
    }


def sign_certificate(ctx: Context, cert_id: str, keys: KeyStore) -> SignedReport:
    with ctx.sessions() as session:
        row, line = _stored(session, cert_id)
        stated = _answer(session, row, line)
    key_id = keys.signing_key()[0]
    payload = canonical_json(certificate_document(ctx, row, key_id, stated))
    signed_by, signature = sign(keys, payload.encode())
    return SignedReport.of(payload, signature, signed_by)


def verify_certificate(
    session: Session,
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
    stored_digest = None
    if cert_id is not None:
        try:
            found = _lookup(session, cert_id)
        except CertificateError:
            found = None
        if found is not None and (found[1] is not None or found[0].kind == "single"):
            stored_digest = _answer(session, *found)[2]
    known = stored_digest is not None
    answer = doc.get("answer")
    matches = (
        known
        and doc.get("digest") == stored_digest
        and isinstance(answer, dict)
        and digest(answer) == stored_digest
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
            changed = not screening_verify(session, ctx, cert_id, actor=actor).same_now
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
    session: Session,
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
        return verify_certificate(
            session, ctx, signed, keys=keys or key_store(ctx), code=code, actor=actor
        )
    return verify_report(session, ctx, signed=signed, code=code, actor=actor, keys=keys, now=now)
