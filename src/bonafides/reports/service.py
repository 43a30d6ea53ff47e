"""Issuing and verifying credit reports: what the CLI and the API both call.

Issuing draws the body, stores the row, signs the canonical JSON and appends the audit
event in one transaction, so there is never a signed report the store does not know or
an issued report the audit chain does not show. Verifying checks the signature against
the published keys, that the payload is the one stored under its id, and whether the
same report drawn again today (as of the same day) would say the same.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides import __version__
from bonafides.codes import CodeError, parse_subject_code
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.errors import Forbidden, NotFound
from bonafides.records import canonical_json
from bonafides.reports.build import draw
from bonafides.reports.envelope import SignedReport
from bonafides.reports.model import (
    FORMAT,
    ReportRequest,
    ReportRequestError,
    Scope,
    SubjectNotFoundError,
    View,
    resolve_scope,
)
from bonafides.reports.sources import rules_or_none
from bonafides.security import audit
from bonafides.security.signing import (
    CROCKFORD,
    KeyStore,
    b64,
    file_key_store,
    keys_dir,
    normalise_code,
    sign,
    signature_valid,
    unb64,
)
from bonafides.store.subjects import find
from bonafides.store.tables import IssuedReport, Subject
from bonafides.store.types import utcnow

#: 16 Crockford characters: 80 random bits, so report ids cannot be guessed or walked.
REPORT_ID_LENGTH = 16


class ReportNotFoundError(NotFound):
    """No report with this id in this store."""


class ReportAccessError(Forbidden):
    """The report exists but this caller may not read its content (a full report)."""


#: Called inside the transaction with the report's subject: raises to refuse, else logs.
Authorise = Callable[[Session, Subject], None]
#: The same for a stored report: also given the stored row (view, issuer).
AuthoriseRead = Callable[[Session, IssuedReport, Subject], None]


def key_store(ctx: Context) -> KeyStore:
    return file_key_store(keys_dir(ctx.settings.data_dir).resolve())


def new_report_id() -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(REPORT_ID_LENGTH))


def report_number(as_of: dt.date, row_id: int) -> str:
    return f"BF{as_of:%Y%m%d}-{row_id:06d}"


def verify_url(base: str, report_id: str) -> str:
    return f"{base}?report={report_id}"


def _zone(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.timezone)


def _local(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _subject(session: Session, ctx: Context, code: str) -> Subject:
    try:
        parse_subject_code(code)
    except CodeError as exc:
        raise ReportRequestError(f"invalid code {code!r}: {exc.reason}") from exc
    subject = find(session, ctx.keys, code)
    if subject is None:
        raise SubjectNotFoundError(f"no subject with code {code!r} in this store")
    return subject


def issue_report(
    session: Session,
    ctx: Context,
    request: ReportRequest,
    *,
    actor: str,
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
    authorise: Authorise | None = None,
) -> SignedReport:
    """Draw, store, sign and audit one report; the signed report comes back.

    ``authorise`` runs in the caller's transaction once the subject is known: it refuses
    (by raising) or logs the reader's access, so a full report and the access-log line that
    says who drew it are committed together or not at all (``bonafides.app.reports``).
    """
    keys = keys or key_store(ctx)
    zone = _zone(ctx)
    issued = now or utcnow()
    as_of = issued.astimezone(zone).date()
    scope = resolve_scope(request, known_fields=[f.code for f in ctx.catalogue.fields], as_of=as_of)
    subject = _subject(session, ctx, request.code)
    if authorise is not None:
        authorise(session, subject)
    drawn = draw(session, ctx.catalogue, subject, scope, zone=ctx.settings.timezone)
    valid_until = issued + dt.timedelta(days=ctx.settings.report_validity_days)
    report_id = new_report_id()
    row = IssuedReport(
        report_id=report_id,
        number=report_id,
        subject_id=subject.id,
        view=scope.view.value,
        audience=scope.audience.value,
        period_from=scope.period_from,
        period_to=scope.period_to,
        fields=list(scope.fields),
        as_of=as_of,
        issued_at=issued,
        data_as_of=issued,
        valid_until=valid_until,
        issued_by=actor[:64],
        payload="",
        digest="",
        signature="",
        key_id="",
        verification_code="",
        data_digest=drawn.data_digest,
    )
    session.add(row)
    session.flush()
    number = report_number(as_of, row.id)
    rules = rules_or_none(ctx.catalogue)
    key_id = keys.signing_key()[0]
    document: dict[str, Any] = {
        "format": FORMAT,
        "id": report_id,
        "number": number,
        "view": scope.view.value,
        "audience": scope.audience.value,
        "issued_at": _local(issued, zone),
        "data_as_of": _local(issued, zone),
        "as_of": as_of.isoformat(),
        "valid_until": _local(valid_until, zone),
        "period": {"from": scope.period_from.isoformat(), "to": scope.period_to.isoformat()},
        "fields": list(scope.fields),
        "all_fields": scope.all_fields,
        **drawn.body,
        "data_digest": drawn.data_digest,
        "verify_url": verify_url(ctx.settings.report_verify_url, report_id),
        "key_id": key_id,
        "issuer": {
            "platform": "bonafides",
            "version": __version__,
            "catalogue": ctx.catalogue.version,
            "rules": rules.version if rules else None,
        },
    }
    payload = canonical_json(document)
    signed_by, signature = sign(keys, payload.encode())
    signed = SignedReport.of(payload, signature, signed_by)
    row.number = number
    row.payload = payload
    row.digest = signed.digest
    row.signature = b64(signature)
    row.key_id = signed_by
    row.verification_code = signed.code
    audit.append(
        session,
        actor=actor,
        tag="reports:report:issued",
        subject_id=subject.id,
        object_ref=f"report {report_id}",
        purpose=request.purpose,
        detail={
            "number": number,
            "view": scope.view.value,
            "audience": scope.audience.value,
            "period": [scope.period_from.isoformat(), scope.period_to.isoformat()],
            "digest": signed.digest,
        },
    )
    return signed


def _row(session: Session, report_id: str) -> IssuedReport:
    row = session.scalar(select(IssuedReport).where(IssuedReport.report_id == report_id))
    if row is None:
        raise ReportNotFoundError(f"no report {report_id!r} in this store")
    return row


def _signed(row: IssuedReport) -> SignedReport:
    return SignedReport.of(row.payload, unb64(row.signature), row.key_id)


def load_report(ctx: Context, report_id: str, *, public_only: bool = True) -> SignedReport:
    """A stored report; a full one only for callers allowed to read it."""
    with ctx.sessions() as session:
        row = _row(session, report_id)
    if public_only and row.view != View.PUBLIC.value:
        raise ReportAccessError(
            "this is a full report: only the subject and authorised inquirers may read it"
        )
    return _signed(row)


def read_report(session: Session, report_id: str, *, authorise: AuthoriseRead) -> SignedReport:
    """A stored report of either view; a full one only past ``authorise``, whose log of
    the read commits with it."""
    row = _row(session, report_id)
    if row.view != View.PUBLIC.value:
        subject = session.get(Subject, row.subject_id)
        if subject is None:
            raise ReportNotFoundError(f"no report {report_id!r} in this store")
        authorise(session, row, subject)
    return _signed(row)


@dataclass(frozen=True)
class VerificationStep:
    """One thing verification checked, as the CLI, the API and the page all say it.

    ``required`` steps decide authenticity; "data unchanged since issue" does not: a
    genuine report of data that changed since is still genuine, and says so.
    """

    name: str
    passed: bool
    detail: str
    required: bool = True


@dataclass(frozen=True)
class Verification:
    """What a verifier learns; ``authentic`` is the single answer, ``checks`` say why.

    ``file_checks`` are those of an uploaded file's own bytes (its PDF signature and the
    registry's digest of it); verifying by id has none.
    """

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
    changed_since_issue: bool | None
    code_matches: bool | None
    verification_code: str | None
    problem: str | None
    file_checks: tuple[VerificationStep, ...] = ()

    @property
    def checks(self) -> list[VerificationStep]:
        kind = "certificate" if self.view == "check" else "report"
        steps = [
            *self.file_checks,
            VerificationStep(
                "data_signature",
                self.signature_valid,
                f"Ed25519 signature of the attached data by key {self.key_id}"
                if self.signature_valid
                else f"the signed data does not match its signature under key {self.key_id}, "
                "or the key is not one of this platform's",
            ),
            VerificationStep(
                "issued_here",
                self.known and self.matches_store,
                f"this platform issued {kind} {self.report_id} with exactly this data"
                if self.known and self.matches_store
                else f"this platform issued no {kind} {self.report_id}"
                if not self.known
                else f"the data differs from {kind} {self.report_id} as issued",
            ),
        ]
        if self.code_matches is not None:
            steps.append(
                VerificationStep(
                    "code",
                    self.code_matches,
                    "the verification code given is this document's"
                    if self.code_matches
                    else "the verification code given is not this document's",
                )
            )
        if self.changed_since_issue is not None:
            steps.append(
                VerificationStep(
                    "data_unchanged",
                    not self.changed_since_issue,
                    "drawn again as of its own day, it says the same"
                    if not self.changed_since_issue
                    else "the subject's data has changed since issue: ask for a new one",
                    required=False,
                )
            )
        return steps

    @property
    def authentic(self) -> bool:
        return all(step.passed for step in self.checks if step.required)


def _scope_of(row: IssuedReport, document: dict[str, Any]) -> Scope:
    return Scope(
        view=View(row.view),
        audience=Audience(row.audience),
        period_from=row.period_from,
        period_to=row.period_to,
        fields=tuple(row.fields),
        all_fields=bool(document.get("all_fields")),
        as_of=row.as_of,
    )


def _changed(session: Session, ctx: Context, row: IssuedReport, document: dict[str, Any]) -> bool:
    """Whether the report drawn again, as of its own day, would differ in substance."""
    subject = session.get(Subject, row.subject_id)
    if subject is None:
        return True
    try:
        drawn = draw(
            session, ctx.catalogue, subject, _scope_of(row, document), zone=ctx.settings.timezone
        )
    except SubjectNotFoundError:
        return True
    return drawn.data_digest != row.data_digest


def _verify(
    ctx: Context,
    session: Session,
    signed: SignedReport | None,
    row: IssuedReport | None,
    *,
    keys: KeyStore,
    code: str | None,
    actor: str,
    now: dt.datetime,
) -> Verification:
    problem: str | None = None
    subject_of = signed or (_signed(row) if row is not None else None)
    assert subject_of is not None
    doc = subject_of.document
    valid = signature_valid(keys, subject_of.key_id, subject_of.payload_bytes, subject_of.signature)
    if not valid:
        problem = (
            "the signature does not match the report, or the key is not one of this platform's"
        )
    if row is None and subject_of.report_id is not None:
        row = session.scalar(
            select(IssuedReport).where(IssuedReport.report_id == subject_of.report_id)
        )
    known = row is not None
    matches = row is not None and row.digest == subject_of.digest
    if problem is None and not known:
        problem = "this platform has issued no report with this id"
    elif problem is None and not matches:
        problem = "the report differs from the one issued under this id"
    code_matches = None
    if code is not None:
        code_matches = normalise_code(code) == subject_of.code
        if problem is None and not code_matches:
            problem = "the verification code does not belong to this report"
    changed = None
    expired = None
    valid_until = doc.get("valid_until") if isinstance(doc.get("valid_until"), str) else None
    if valid_until is not None:
        try:
            expired = dt.datetime.fromisoformat(valid_until) < now
        except ValueError:
            expired = None
    if valid and known and matches and row is not None:
        changed = _changed(session, ctx, row, doc)
        if row.view != View.PUBLIC.value:
            audit.append(
                session,
                actor=actor,
                tag="reports:report:verified",
                subject_id=row.subject_id,
                object_ref=f"report {row.report_id}",
                detail={"changed_since_issue": changed},
            )
    subject = doc.get("subject")
    return Verification(
        report_id=subject_of.report_id,
        number=doc.get("number") if isinstance(doc.get("number"), str) else None,
        view=doc.get("view") if isinstance(doc.get("view"), str) else None,
        subject_code=subject.get("code") if isinstance(subject, dict) else None,
        key_id=subject_of.key_id,
        signature_valid=valid,
        known=known,
        matches_store=matches,
        issued_at=doc.get("issued_at") if isinstance(doc.get("issued_at"), str) else None,
        valid_until=valid_until,
        expired=expired,
        changed_since_issue=changed,
        code_matches=code_matches,
        # Echoed only for a copy the caller brought: given an id alone, the code would
        # let anyone print a matching code on a forged paper copy.
        verification_code=subject_of.printed_code if valid and signed is not None else None,
        problem=problem,
    )


def verify_report(
    session: Session,
    ctx: Context,
    *,
    report_id: str | None = None,
    signed: SignedReport | None = None,
    code: str | None = None,
    actor: str = "public",
    keys: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify a report named by id (the stored copy) or carried whole (a PDF's envelope).

    Checking a full report's data again is a read of non-public data on a verifier's
    behalf, so it leaves an audit event; a public report's does not.
    """
    if (report_id is None) == (signed is None):
        raise ValueError("give a report id or a signed report, not both")
    keys = keys or key_store(ctx)
    moment = now or utcnow()
    row = _row(session, report_id) if report_id is not None else None
    return _verify(ctx, session, signed, row, keys=keys, code=code, actor=actor, now=moment)


def verification_json(result: Verification) -> dict[str, Any]:
    fields = asdict(result)
    del fields["file_checks"]
    return {
        "authentic": result.authentic,
        **fields,
        "checks": [asdict(step) for step in result.checks],
    }
