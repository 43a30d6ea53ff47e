"""The audit chain: every write and every non-public read, linked by hash.

Each event's hash covers its own fields and the previous event's hash, so altering,
removing or reordering any event breaks every hash after it. Appends go through the
single ``audit_head`` row, whose update serialises writers on both stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import CTE

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


# Built once: an append sits on every audited request, where building statements and
# flushing ORM objects cost more than the three statements themselves.
_CLAIM = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(last_id=AuditHead.last_id + 1)
    .returning(AuditHead.last_id, AuditHead.last_hash)
)
_START = insert(AuditHead).values(id=1, last_id=1, last_hash=GENESIS)
_INSERT = insert(AuditEvent)
_LINK = update(AuditHead).where(AuditHead.id == 1).values(last_hash=bindparam("hash"))
# PostgreSQL writes the event and links the head in one round trip, which is most of
# what an append costs there.
_EVENT_COLUMNS = AuditEvent.__table__.columns
_INSERT_AND_LINK = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(last_hash=bindparam("v_hash", type_=_EVENT_COLUMNS["hash"].type))
    .add_cte(
        insert(AuditEvent)
        .values({c.name: bindparam(f"v_{c.name}", type_=c.type) for c in _EVENT_COLUMNS})
        .cte("event")
    )
)


def prefixed_insert(table: Table, prefix: str = "w_") -> Insert:
    """An insert of every column but generated keys, bound as ``{prefix}{column}``: the
    form a write needs to travel with an append (bound names may not equal column names
    inside a statement's WITH clause)."""
    return insert(table).values(
        {
            c.name: bindparam(f"{prefix}{c.name}", type_=c.type)
            for c in table.columns
            if not (c.primary_key and c.autoincrement in (True, "auto"))
        }
    )


def claim_cte() -> CTE:
    """The claim on the head as a WITH clause (PostgreSQL), for a caller that reads what
    it needs in the same statement; its ``last_id`` and ``last_hash`` go to ``append`` as
    ``claimed``. It holds the head until commit, so claim only just before writing."""
    return _CLAIM.cte("claim")


def append(
    session: Session,
    *,
    actor: str,
    tag: str,
    subject_id: int | None = None,
    object_ref: str | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
    along: tuple[Insert, Mapping[str, Any]] | None = None,
    claimed: tuple[int, str] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction, so it commits with the change.

    The head row is updated first: that takes the write lock on both stores before
    anything is read, so two appends never read the same head. ``along`` is the write
    the event records (from ``prefixed_insert``, with its parameters); PostgreSQL sends it
    in a round trip the append makes anyway. ``claimed`` is a head already claimed by
    ``claim_cte`` in the caller's own statement. The event returned is not attached to
    the session; it is the row as written.
    """
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    if along is not None and not postgres:
        conn.execute(*along)
        along = None
    if claimed is not None:
        head: Any = claimed
    elif along is not None:
        head = conn.execute(_CLAIM.add_cte(along[0].cte("write")), along[1]).one_or_none()
        along = None
    else:
        head = conn.execute(_CLAIM).one_or_none()
    if head is None:
        conn.execute(_START)
        event_id, prev = 1, GENESIS
    else:
        event_id, prev = head
    values: dict[str, Any] = {
        "id": event_id,
        "at": utcnow(),
        "actor": actor,
        "tag": tag,
        "subject_id": subject_id,
        "object_ref": object_ref,
        "purpose": purpose,
        "detail": detail or {},
        "prev_hash": prev,
    }
    values["hash"] = event_hash(
        event_id=event_id,
        at=values["at"],
        actor=actor,
        tag=tag,
        subject_id=subject_id,
        object_ref=object_ref,
        purpose=purpose,
        detail=values["detail"],
        prev_hash=prev,
    )
    if postgres:
        params = {f"v_{name}": value for name, value in values.items()}
        if along is None:
            conn.execute(_INSERT_AND_LINK, params)
        else:
            conn.execute(_INSERT_AND_LINK.add_cte(along[0].cte("write")), {**params, **along[1]})
    else:
        conn.execute(_INSERT, values)
        conn.execute(_LINK, {"hash": values["hash"]})
    return AuditEvent(**values)


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
