"""Who may draw and read a full credit report, and the access-log line each one leaves.

A full report is the subject's file in signed form, so the rules are the file's rules
(``bonafides.security.files.read_subject``): the bound subject draws its own; an
authority with ``files:read`` draws one with a stated purpose (restricted records only
under an approved special inquiry); the operator as the credit office. A stored full
report is read again only by its subject or by whoever issued it, and every read is a
line in the subject's access log, committed with the report it concerns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.disclosure import Audience
from bonafides.reports.service import Authorise, AuthoriseRead, ReportAccessError
from bonafides.security.files import read_subject
from bonafides.security.roles import Principal, Role, Scope, audience_for
from bonafides.store.access import log_read
from bonafides.store.tables import AuditEvent, IssuedReport, Subject
from bonafides.workflows.common import ForbiddenError

ISSUED_TAG = "reports:report:issued"
OWN_PURPOSE = "the subject's own credit report"


@dataclass(frozen=True)
class FullReportGrant:
    """The audience a principal's full report is drawn for, and the check that runs once
    the subject is known."""

    audience: Audience
    authorise: Authorise


def grant_full_report(
    catalogue: Catalogue,
    principal: Principal,
    *,
    purpose: str | None,
    inquiry_id: int | None,
    today: dt.date,
) -> FullReportGrant:
    """Refuses at once whoever can never draw a full report; the rest is decided per subject."""
    if principal.role is Role.PUBLIC:
        raise ForbiddenError("sign in to draw a full report")
    if principal.role is Role.SUBJECT:
        if principal.bound_subject is None or not principal.has(Scope.OWN_FILE):
            raise ForbiddenError("the account is not yet bound to its subject by an operator")
        if inquiry_id is not None:
            raise ForbiddenError("a subject needs no special inquiry for its own report")
    elif not principal.has(Scope.FILES_READ):
        raise ForbiddenError("a full report needs the scope 'files:read'")
    audience = audience_for(
        principal,
        subject_key=principal.bound_subject or "",
        special_inquiry=inquiry_id is not None,
    )

    def authorise(session: Session, subject: Subject) -> None:
        read = read_subject(
            session,
            catalogue,
            principal,
            subject,
            purpose=purpose or "",
            today=today,
            inquiry_id=inquiry_id,
            what="full credit report",
        )
        if read.audience is not audience:
            raise ForbiddenError("the report's audience does not match the reader's")

    return FullReportGrant(audience, authorise)


def _issue_purpose(session: Session, report_id: str) -> str | None:
    return session.scalar(
        select(AuditEvent.purpose)
        .where(AuditEvent.tag == ISSUED_TAG, AuditEvent.object_ref == f"report {report_id}")
        .limit(1)
    )


def reader(principal: Principal) -> AuthoriseRead:
    """The check for reading a stored full report: its subject, or the account that drew it."""

    def authorise(session: Session, row: IssuedReport, subject: Subject) -> None:
        own = principal.role is Role.SUBJECT and principal.bound_subject == subject.key
        # Actors are "user:NAME", "key:ID:NAME" or "cli:NAME" and names hold no colon: the
        # account that drew the report reads it however it signs in now.
        issuer = (
            principal.username is not None
            and row.issued_by.rsplit(":", 1)[-1] == principal.username
            and (principal.role is Role.SUBJECT or principal.has(Scope.FILES_READ))
        )
        if not own and not issuer:
            raise ReportAccessError(
                "this is a full report: only its subject and whoever drew it may read it"
            )
        purpose = OWN_PURPOSE if own else (_issue_purpose(session, row.report_id) or "")
        log_read(
            session,
            actor=principal.actor,
            role=principal.role.value,
            department=principal.department,
            subject_id=subject.id,
            purpose=purpose,
            what=f"report {row.report_id}",
            audience=row.audience,
        )

    return authorise
