"""The audit chain: every write and every non-public read, linked by hash.

Each event's hash covers its own fields and the previous event's hash, so altering,
removing or reordering any event breaks every hash after it. Appends go through the
single ``audit_head`` row, whose update serialises writers on both stores.

From ``audit_head.keyed_from`` on, the hash is an HMAC under the audit key, which the
database does not hold, and the head is checkpointed and signed (``anchor``): rewriting
history then needs the key, and cutting it short contradicts the checkpoints others keep.
Events of a store older than the key keep their plain SHA-256 hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import CTE

from bonafides.progress import ProgressFn
from bonafides.records import canonical_json
from bonafides.security.anchor import ChainKey, Checkpoint, anchor_of, signature_ok
from bonafides.store.tables import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    Check,
    CheckLine,
    SubjectAccess,
)
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
    key: ChainKey | None,
) -> str:
    """HMAC-SHA256 under ``key``; plain SHA-256 for events before the chain was keyed."""
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
    if key is None:
        return hashlib.sha256(body.encode()).hexdigest()
    return key.mac(body.encode())


def hash_of(event: AuditEvent, prev_hash: str, key: ChainKey | None) -> str:
    """What ``event``'s hash must be after ``prev_hash``: plain SHA-256 without ``key``."""
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
        key=key,
    )


# Built once: an append sits on every audited request, where building statements and
# flushing ORM objects cost more than the three statements themselves.
_CLAIM = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(last_id=AuditHead.last_id + 1)
    .returning(AuditHead.last_id, AuditHead.last_hash)
)
_START = insert(AuditHead).values(id=1, last_id=1, last_hash=GENESIS, keyed_from=1)
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
    the session; it is the row as written. The session must carry the audit key
    (``anchor.Anchor.info``); a checkpoint of the new head is written when one is due.
    """
    anchor = anchor_of(session)
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
        key=anchor.key,
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
    anchor.after_append(session, event_id, values["hash"], values["at"])
    return AuditEvent(**values)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: int | None
    reason: str | None
    #: The first keyed event (those before it are hashed the old way).
    keyed_from: int = 1
    #: Checkpoints (stored and given) that the chain was proved to extend.
    checkpoints: int = 0
    #: The highest event count among them.
    anchored_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def _events(session: Session, batch: int = 5000) -> Iterator[list[AuditEvent]]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id
        session.expunge_all()


def _screened_links(session: Session) -> bool:
    """Whether batch screenings' check lines are links (migration 0033): verification
    also runs on a store an older release left, whose batches are linked by rows."""
    columns = inspect(session.connection()).get_columns(Check.__tablename__)
    return any(column["name"] == "event_id" for column in columns)


def _links(
    session: Session, first: int, last: int, *, screened: bool = True
) -> dict[int, list[int]]:
    """The subject ids linked to each event of ``first..last``, ascending: its
    ``subject_access`` rows, or for a batch screening the subjects its check lines name
    (each once; the lines are the batch's access record, ``store.access``)."""
    found: dict[int, list[int]] = {}
    rows: list[Sequence[Any]] = list(
        session.execute(
            select(SubjectAccess.event_id, SubjectAccess.subject_id).where(
                SubjectAccess.event_id >= first, SubjectAccess.event_id <= last
            )
        )
    )
    if screened:
        rows += session.execute(
            select(Check.event_id, CheckLine.subject_id)
            .join(CheckLine, CheckLine.check_id == Check.id)
            .where(Check.event_id >= first, Check.event_id <= last)
            .where(CheckLine.subject_id.is_not(None))
            .distinct()
        )
    for event_id, subject_id in rows:
        found.setdefault(event_id, []).append(subject_id)
    for subject_ids in found.values():
        subject_ids.sort()
    return found


def subjects_digest(subject_ids: Iterable[int]) -> str:
    """sha256 over the distinct subject ids in ascending order, as an event's detail pins
    the ``subject_access`` rows linked to it (the access log writes it, the chain checks it)."""
    text = ",".join(map(str, sorted(set(subject_ids))))
    return hashlib.sha256(text.encode()).hexdigest()


def _links_problem(event: AuditEvent, linked: list[int]) -> str | None:
    """Why the ``subject_access`` rows of an event differ from what its detail pins."""
    pinned = event.detail.get("subjects_digest") if isinstance(event.detail, dict) else None
    if pinned is None:
        return "it has subject links its detail does not pin" if linked else None
    if subjects_digest(linked) != pinned:
        return "its subject links do not match its subjects digest"
    count = event.detail.get("subjects")
    if isinstance(count, int) and count != len(linked):
        return "its subject links do not match its subjects count"
    return None


def verify(
    session: Session,
    external: Sequence[Checkpoint] = (),
    *,
    progress: ProgressFn | None = None,
    batch: int = 5000,
) -> ChainReport:
    """Walk the whole chain and name the first event that does not fit.

    ``progress`` hears the events checked after each ``batch`` read, out of the head's count.

    Every checkpoint stored in the platform and every one in ``external`` (kept by someone
    else) must carry a valid signature, and the chain must pass through it: its event
    count reached with its head hash, under the same keyed mark. A chain cut short,
    emptied, or rewritten and re-hashed cannot do that. The subject links of each event
    must match the digest its detail carries.
    """
    anchor = anchor_of(session)
    head = session.get(AuditHead, 1)
    keyed_from = 1 if head is None or head.keyed_from is None else head.keyed_from
    head_state = None if head is None else (head.last_id, head.last_hash)
    stored = [Checkpoint.from_row(row) for row in session.scalars(select(AuditCheckpoint))]
    anchors: dict[int, list[tuple[str, Checkpoint]]] = {}
    for origin, checkpoints in (("stored", stored), ("given", list(external))):
        for checkpoint in checkpoints:
            anchors.setdefault(checkpoint.event_count, []).append((origin, checkpoint))
    keys = anchor.keys() if anchors else None

    def report(checked: int, broken: int | None, reason: str | None) -> ChainReport:
        return ChainReport(checked, broken, reason, keyed_from=keyed_from)

    for count, found in sorted(anchors.items()):
        for origin, checkpoint in found:
            if keys is None or keys.public_key(checkpoint.key_id) is None:
                return report(
                    0,
                    count,
                    f"the {origin} checkpoint at event {count} names key {checkpoint.key_id}, "
                    "which this platform does not publish (is BONAFIDES_DATA_DIR the one "
                    "that holds its keys?)",
                )
            if not signature_ok(keys, checkpoint):
                return report(
                    0,
                    count,
                    f"the {origin} checkpoint at event {count} is not signed by this "
                    "platform's key",
                )
    prev = GENESIS
    expected_id = 1
    checked = 0
    if progress is not None:
        progress(checked, head_state[0] if head_state else None)
    screened = _screened_links(session)
    for rows in _events(session, batch):
        links = _links(session, rows[0].id, rows[-1].id, screened=screened)
        for event in rows:
            if event.id != expected_id:
                return report(checked, expected_id, f"event {expected_id} is missing")
            if event.prev_hash != prev:
                return report(checked, event.id, "does not link to the event before it")
            key = anchor.key if event.id >= keyed_from else None
            if hash_of(event, prev, key) != event.hash:
                return report(checked, event.id, "its content does not match its hash")
            problem = _links_problem(event, links.get(event.id, []))
            if problem is not None:
                return report(checked, event.id, problem)
            for origin, checkpoint in anchors.get(event.id, []):
                if checkpoint.head_hash != event.hash:
                    return report(
                        checked,
                        event.id,
                        f"its hash differs from the {origin} checkpoint of event {event.id}: "
                        "the history before it was rewritten",
                    )
            prev = event.hash
            expected_id += 1
            checked += 1
        if progress is not None:
            progress(checked, max(checked, head_state[0]) if head_state else None)
    beyond = [count for count in anchors if count > checked]
    if beyond:
        origin = anchors[max(beyond)][0][0]
        return report(
            checked,
            checked + 1,
            f"the {origin} checkpoint at event {max(beyond)} is past the end of the chain: "
            "events were removed",
        )
    orphan = session.scalar(
        select(SubjectAccess.event_id).where(SubjectAccess.event_id > checked).limit(1)
    )
    if orphan is None and screened:
        orphan = session.scalar(select(Check.event_id).where(Check.event_id > checked).limit(1))
    if orphan is not None:
        return report(checked, orphan, f"subject links name event {orphan}, which is missing")
    for count, found in sorted(anchors.items()):
        for origin, checkpoint in found:
            if checkpoint.keyed_from != keyed_from:
                return report(
                    checked,
                    min(count, keyed_from, checkpoint.keyed_from),
                    f"the {origin} checkpoint at event {count} says the chain is keyed from "
                    f"event {checkpoint.keyed_from}, the store says {keyed_from}",
                )
    if head_state is None and checked:
        return report(checked, checked + 1, "the chain's head is missing")
    if head_state is not None and head_state != (checked, prev):
        return report(checked, checked + 1, "events after it were removed")
    if progress is not None:
        progress(checked, checked)
    return ChainReport(
        checked,
        None,
        None,
        keyed_from=keyed_from,
        checkpoints=sum(len(found) for found in anchors.values()),
        anchored_at=max(anchors) if anchors else None,
    )
