"""The access log: who read a subject's non-public data, for which department and why.

Reads are audit events (tag ``access:subject:read``) rather than rows of a table of their
own, so they are hash-chained like every write and cannot be dropped quietly. A subject
sees every event about its file: reads, screenings, reports and changes.

An event about many subjects at once (a department's amendments, a feed read) is one
event linked to each of them by a ``subject_access`` row (``link_subjects``), written
set-based in the event's transaction; the event's detail counts and digests the subjects,
so the links are pinned by the chain too. A batch screening needs no such rows: its stored
check lines name each subject already, and its check names its event (``Check.event_id``),
so its lines are the links (the first line naming a subject is what the log shows). The
log is the union of the three; the chain's verification reads the same links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, cast, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.audit import subjects_digest as subjects_digest
from bonafides.store.tables import AuditEvent, Check, CheckLine, SubjectAccess

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


def link_subjects(session: Session, event_id: int, rows: Select[Any]) -> None:
    """Link an event to many subjects from ``rows``, a select of ``(subject_id, object_ref)``
    naming each subject once, in one INSERT ... SELECT: the rows never pass through Python.
    In key order, which keeps the index writes sequential (half the time on PostgreSQL)."""
    found = rows.subquery("linked")
    subject_id, object_ref = found.c
    statement = insert(SubjectAccess).from_select(
        ["subject_id", "event_id", "object_ref"],
        select(subject_id, literal(event_id), object_ref).order_by(subject_id),
    )
    session.execute(statement)


def link_each(session: Session, event_id: int, refs: Mapping[int, str | None]) -> None:
    """Link an event to subjects given in Python, each with what it did to that subject."""
    if refs:
        session.execute(
            insert(SubjectAccess),
            [
                {"subject_id": sid, "event_id": event_id, "object_ref": ref}
                for sid, ref in sorted(refs.items())
            ],
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
    action: str | None = None


def events_about(subject_id: int) -> Select[Any]:
    """Every audit event about the subject, its own, linked or a batch screening's, as
    (id, at, actor, tag, purpose, detail, what); a linked event says what it did to this
    subject, a batch screening the first of its lines naming the subject."""
    e = AuditEvent
    event = (e.id, e.at, e.actor, e.tag, e.purpose, e.detail)
    own = select(*event, e.object_ref.label("what"))
    linked = select(
        *event, func.coalesce(SubjectAccess.object_ref, e.object_ref).label("what")
    ).join(SubjectAccess, SubjectAccess.event_id == e.id)
    first = (
        select(CheckLine.check_id, func.min(CheckLine.line).label("line"))
        .where(CheckLine.subject_id == subject_id)
        .group_by(CheckLine.check_id)
        .subquery("first")
    )
    screened = (
        select(
            *event,
            literal("certificate ", String)
            .concat(Check.cert_id)
            .concat(".")
            .concat(cast(first.c.line, String))
            .label("what"),
        )
        .select_from(first)
        .join(Check, Check.id == first.c.check_id)
        .join(e, e.id == Check.event_id)
    )
    both = union_all(
        own.where(e.subject_id == subject_id),
        linked.where(SubjectAccess.subject_id == subject_id),
        screened,
    ).subquery("about")
    return select(both)


def access_log(
    session: Session,
    subject_id: int,
    *,
    since: dt.datetime | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[AccessEntry]:
    """Events about the subject, newest first, a page at a time (``before_id`` pages on)."""
    query = events_about(subject_id)
    about = query.selected_columns
    if since is not None:
        query = query.where(about.at >= since)
    if before_id is not None:
        query = query.where(about.id < before_id)
    rows = session.execute(query.order_by(about.id.desc()).limit(limit)).all()
    return [
        AccessEntry(
            id=event_id,
            at=at,
            actor=actor,
            department=_text(detail, "department"),
            tag=tag,
            purpose=purpose,
            what=what,
            action=_text(detail, "action"),
        )
        for event_id, at, actor, tag, purpose, detail, what in rows
    ]


def _text(detail: Any, key: str) -> str | None:
    value = detail.get(key) if isinstance(detail, dict) else None
    return value if isinstance(value, str) else None
