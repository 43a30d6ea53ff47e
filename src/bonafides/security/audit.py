"""The audit chain: every write and every non-public read, linked by hash.

Each event's hash covers its own fields and the previous event's hash, so altering,
removing or reordering any event breaks every hash after it. Appends go through the
single ``audit_head`` row, whose update serialises writers on both stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bonafides.records import canonical_json
from bonafides.store.tables import AuditEvent, AuditHead
from bonafides.store.types import utcnow

GENESIS = "0" * 64


def event_hash(
    *,
    event_id: int,
    at: dt.datetime,
    actor: str,
    tag: str,
    subject_id: int | None,
    object_ref: str | None,
    purpose: str | None,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "id": event_id,
            "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "tag": tag,
            "subject_id": subject_id,
            "object": object_ref,
            "purpose": purpose,
            "detail": detail,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _hash_of(event: AuditEvent, prev_hash: str) -> str:
    return event_hash(
        event_id=event.id,
        at=event.at,
        actor=event.actor,
        tag=event.tag,
        subject_id=event.subject_id,
        object_ref=event.object_ref,
        purpose=event.purpose,
        detail=event.detail,
        prev_hash=prev_hash,
    )


def append(
    session: Session,
    *,
    actor: str,
    tag: str,
    subject_id: int | None = None,
    object_ref: str | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction, so it commits with the change."""
    head = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_id=AuditHead.last_id + 1)
        .returning(AuditHead.last_id, AuditHead.last_hash)
    ).one_or_none()
    if head is None:
        session.add(AuditHead(id=1, last_id=1, last_hash=GENESIS))
        session.flush()
        event_id, prev = 1, GENESIS
    else:
        event_id, prev = head
    at = utcnow()
    event = AuditEvent(
        id=event_id,
        at=at,
        actor=actor,
        tag=tag,
        subject_id=subject_id,
        object_ref=object_ref,
        purpose=purpose,
        detail=detail or {},
        prev_hash=prev,
        hash="",
    )
    event.hash = _hash_of(event, prev)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=event.hash))
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def _events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> ChainReport:
    """Walk the whole chain and name the first event that does not fit."""
    prev = GENESIS
    expected_id = 1
    checked = 0
    for event in _events(session):
        if event.id != expected_id:
            return ChainReport(checked, expected_id, f"event {expected_id} is missing")
        if event.prev_hash != prev:
            return ChainReport(checked, event.id, "does not link to the event before it")
        if _hash_of(event, prev) != event.hash:
            return ChainReport(checked, event.id, "its content does not match its hash")
        prev = event.hash
        expected_id += 1
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id != checked or head.last_hash != prev):
        return ChainReport(checked, checked + 1, "events after it were removed")
    return ChainReport(checked, None, None)
