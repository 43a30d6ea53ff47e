"""The access log: who read a subject's non-public data, for which department and why.

Reads are audit events (tag ``access:subject:read``) rather than rows of a table of their
own, so they are hash-chained like every write and cannot be dropped quietly. A subject
sees every event about its file: reads, screenings, reports and changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.store.tables import AuditEvent

READ_TAG = "access:subject:read"


def log_read(
    session: Session,
    *,
    actor: str,
    role: str,
    department: str | None,
    subject_id: int,
    purpose: str,
    what: str,
    audience: str,
    inquiry_id: int | None = None,
    records: int | None = None,
) -> AuditEvent:
    """Record one read inside the transaction that made it, so no read goes unlogged."""
    detail: dict[str, Any] = {"role": role, "department": department, "what": what}
    detail["audience"] = audience
    if inquiry_id is not None:
        detail["special_inquiry"] = inquiry_id
    if records is not None:
        detail["records"] = records
    return audit.append(
        session,
        actor=actor,
        tag=READ_TAG,
        subject_id=subject_id,
        object_ref=what,
        purpose=purpose,
        detail=detail,
    )


@dataclass(frozen=True)
class AccessEntry:
    id: int
    at: dt.datetime
    actor: str
    department: str | None
    tag: str
    purpose: str | None
    what: str | None


def access_log(
    session: Session,
    subject_id: int,
    *,
    since: dt.datetime | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[AccessEntry]:
    """Events about the subject, newest first, a page at a time (``before_id`` pages on)."""
    query = select(AuditEvent).where(AuditEvent.subject_id == subject_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [
        AccessEntry(
            id=e.id,
            at=e.at,
            actor=e.actor,
            department=e.detail.get("department") if isinstance(e.detail, dict) else None,
            tag=e.tag,
            purpose=e.purpose,
            what=e.object_ref,
        )
        for e in rows
    ]
