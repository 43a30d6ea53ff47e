"""Retention that ends (principle 2): records past their retention date become ``expired``.

The read rule does not wait for this: ``bonafides.disclosure.retained`` already keeps a
record past retention from every audience but its subject, and the rules end list
entries on its last day. This job writes the end down, so that the record's own status
and history say it: a new version per record with who and why, one audit event per run
linked to every subject it touched, and their list entries refreshed in the same
transaction. It is set-based (a few statements per 500 records) and idempotent: a second
run for the same day finds nothing and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Insert, Select, String, and_, cast, insert, literal, select, true, update
from sqlalchemy.orm import Session

from bonafides.records import RecordStatus
from bonafides.security import audit
from bonafides.store import feed
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.subjects import chunks
from bonafides.store.tables import Record, RecordVersion
from bonafides.store.types import utcnow

TAG = "records:retention:expired"
#: A revoked decision never existed and stays revoked; an expired one has ended already.
_FINAL = (RecordStatus.EXPIRED.value, RecordStatus.REVOKED.value)
_CHUNK = 500


@dataclass(frozen=True)
class ExpiryResult:
    as_of: dt.date
    records: int
    subjects: int
    event_id: int | None


def _versions(ids: list[int], actor: str, at: dt.datetime) -> Insert:
    """The new version of each record, copied from its current one in the database."""
    last = RecordVersion.__table__.alias("last")
    reason = literal("retention ended on ", String()) + cast(Record.retention_until, String())
    rows = (
        select(
            Record.id,
            Record.subject_id,
            Record.version + 1,
            literal(RecordStatus.EXPIRED.value, String()),
            Record.severity,
            Record.decision_date,
            Record.legal_basis,
            Record.content,
            last.c.raw,
            Record.content_digest,
            last.c.catalogue_version,
            literal(at, RecordVersion.changed_at.type),
            literal(actor, String()),
            reason,
        )
        .join(last, and_(last.c.record_id == Record.id, last.c.version == Record.version))
        .where(Record.id.in_(ids))
    )
    return insert(RecordVersion).from_select(
        [
            "record_id",
            "subject_id",
            "version",
            "status",
            "severity",
            "decision_date",
            "legal_basis",
            "content",
            "raw",
            "content_digest",
            "catalogue_version",
            "changed_at",
            "changed_by",
            "reason",
        ],
        rows,
    )


def expire_records(
    session: Session,
    *,
    as_of: dt.date,
    actor: str,
    at: dt.datetime | None = None,
    among: Select[tuple[int]] | None = None,
    ended_among: Select[tuple[int]] | None = None,
) -> ExpiryResult:
    """Set every record whose retention ended before ``as_of`` to ``expired``.

    In the caller's transaction (services never commit). ``at`` is the moment the
    versions are stamped with; list entries do not depend on it, since they already end
    on the record's retention date. ``among`` and ``ended_among`` narrow the search for
    expired records and for ended publications to the ids another engine found (the
    whole-table scans, ``spark.retention``); each is checked again here.
    """
    from bonafides.rules.service import refresh_subjects

    at = at or utcnow()
    # Publication ends before retention does: the public's copies are told first.
    feed.end_publications(session, today=as_of, at=at, among=ended_among)
    due = session.execute(
        select(Record.id, Record.subject_id)
        .where(
            Record.retention_until < as_of,
            Record.status.not_in(_FINAL),
            true() if among is None else Record.id.in_(among),
        )
        .order_by(Record.id)
        .with_for_update()
    ).all()
    if not due:
        return ExpiryResult(as_of, 0, 0, None)
    per_subject = Counter(sid for _, sid in due)
    for part in chunks([rid for rid, _ in due], _CHUNK):
        ids = list(part)
        session.execute(_versions(ids, actor, at))
        session.execute(
            update(Record)
            .where(Record.id.in_(ids))
            .values(version=Record.version + 1, status=RecordStatus.EXPIRED.value, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        feed.emit_records(session, feed.Kind.RECORD_EXPIRED, Record.id.in_(ids), at=at)
    session.expire_all()
    refresh_subjects(session, per_subject, actor=actor)
    event = audit.append(
        session,
        actor=actor,
        tag=TAG,
        object_ref=f"retention ended before {as_of.isoformat()}",
        detail={
            "as_of": as_of.isoformat(),
            "records": len(due),
            "subjects": len(per_subject),
            "subjects_digest": subjects_digest(per_subject),
        },
    )
    link_each(
        session,
        event.id,
        {
            sid: f"{n} record{'s' if n > 1 else ''} expired: retention ended"
            for sid, n in per_subject.items()
        },
    )
    return ExpiryResult(as_of, len(due), len(per_subject), event.id)
