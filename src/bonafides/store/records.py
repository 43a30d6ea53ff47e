"""Writing decisions: idempotent on (source, decision number), versioned, audited.

Resubmitting an identical decision changes nothing; a changed one becomes a new
version with who and why; no version is ever overwritten or deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from bonafides.records import RecordInput, RecordStatus
from bonafides.security import audit
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.subjects import SubjectKeys, chunks, resolve
from bonafides.store.tables import Record, RecordVersion
from bonafides.store.types import utcnow

Key = tuple[str, str, str]


class Outcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    AMENDED = "amended"


@dataclass
class WriteResult:
    outcomes: list[tuple[Outcome, int]] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o, _ in self.outcomes if o is outcome)


@dataclass
class _Current:
    id: int
    version: int
    digest: str
    status: str


def record_key(keys: SubjectKeys, item: RecordInput) -> Key:
    """What identifies a decision: (source, decision number), and the subject where one
    number names several subjects."""
    party = keys.key(item.subject.code, item.subject.kind) if item.shared_decision_no else ""
    return (item.source, item.decision_no, party)


@dataclass(frozen=True)
class Stored:
    """A stored record as a resubmission meets it."""

    id: int
    subject_id: int
    digest: str
    status: str


def stored_records(session: Session, wanted: Sequence[Key]) -> dict[Key, Stored]:
    found: dict[Key, Stored] = {}
    for chunk in chunks(list(dict.fromkeys(wanted)), 300):
        rows = session.execute(
            select(
                Record.source,
                Record.decision_no,
                Record.party,
                Record.id,
                Record.subject_id,
                Record.content_digest,
                Record.status,
            ).where(tuple_(Record.source, Record.decision_no, Record.party).in_(chunk))
        )
        for src, no, party, rid, sid, dig, status in rows:
            found[(src, no, party)] = Stored(rid, sid, dig, status)
    return found


def _version_row(
    record_id: int,
    subject_id: int,
    version: int,
    item: RecordInput,
    *,
    at: dt.datetime,
    actor: str,
    reason: str,
    catalogue_version: str | None,
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "subject_id": subject_id,
        "version": version,
        "status": item.status.value,
        "severity": item.severity,
        "decision_date": item.decision_date,
        "legal_basis": item.legal_basis,
        "content": item.content,
        "raw": item.raw,
        "content_digest": item.content_digest,
        "catalogue_version": catalogue_version,
        "changed_at": at,
        "changed_by": actor,
        "reason": reason,
    }


def write_records(
    session: Session,
    keys: SubjectKeys,
    items: Sequence[RecordInput],
    *,
    actor: str,
    received_at: dt.datetime | None = None,
    catalogue_version: str | None = None,
    amend_reason: str = "amended by source",
) -> WriteResult:
    """Store a batch inside the caller's transaction and append one audit event for it.

    Items are applied in order, so a decision that appears twice in one batch is
    handled exactly as if it had come in two batches.
    """
    result = WriteResult()
    if not items:
        return result
    at = received_at or utcnow()
    by_source: dict[str | None, list[RecordInput]] = {}
    for item in items:
        by_source.setdefault(item.source, []).append(item)
    subject_ids: dict[str, int] = {}
    for source, group in by_source.items():
        subject_ids.update(resolve(session, keys, [i.subject for i in group], source=source))

    item_keys = [record_key(keys, i) for i in items]
    current: dict[Key, _Current] = {}
    for chunk in chunks(list(dict.fromkeys(item_keys)), 300):
        rows = session.execute(
            select(
                Record.source,
                Record.decision_no,
                Record.party,
                Record.id,
                Record.version,
                Record.content_digest,
                Record.status,
            ).where(tuple_(Record.source, Record.decision_no, Record.party).in_(chunk))
        )
        for src, no, party, rid, ver, dig, status in rows:
            current[(src, no, party)] = _Current(rid, ver, dig, status)

    # Decide every item's outcome in order against the state it will find, so a decision
    # that appears several times in one batch behaves as if submitted one at a time.
    latest = {k: cur.digest for k, cur in current.items()}
    new_rows: list[dict[str, Any]] = []
    new_items: list[tuple[Key, RecordInput]] = []
    changes: list[tuple[Key, RecordInput]] = []
    plan: list[tuple[Outcome, Key]] = []
    for k, item in zip(item_keys, items, strict=True):
        digest_now = item.content_digest
        if k not in latest:
            subject_id = subject_ids[keys.key(item.subject.code, item.subject.kind)]
            new_rows.append(_record_row(item, k[2], subject_id, version=1, at=at))
            new_items.append((k, item))
            plan.append((Outcome.CREATED, k))
        elif latest[k] == digest_now:
            plan.append((Outcome.UNCHANGED, k))
        else:
            changes.append((k, item))
            plan.append((Outcome.AMENDED, k))
        latest[k] = digest_now

    if new_rows:
        created = session.execute(
            insert(Record).returning(Record.id, sort_by_parameter_order=True), new_rows
        ).scalars()
        versions = []
        for rid, row, (k, item) in zip(created, new_rows, new_items, strict=True):
            current[k] = _Current(rid, 1, item.content_digest, item.status.value)
            versions.append(
                _version_row(
                    rid,
                    row["subject_id"],
                    1,
                    item,
                    at=at,
                    actor=actor,
                    reason="submitted",
                    catalogue_version=catalogue_version,
                )
            )
        session.execute(insert(RecordVersion), versions)

    amended_versions: list[dict[str, Any]] = []
    amended_refs: dict[int, list[str]] = {}
    for k, item in changes:
        cur = current[k]
        subject_id = subject_ids[keys.key(item.subject.code, item.subject.kind)]
        cur.version += 1
        amended_refs.setdefault(subject_id, []).append(f"record {cur.id} v{cur.version}")
        cur.digest = item.content_digest
        # An amendment changes the substance, never the state a later decision set.
        kept = replace(item, status=RecordStatus(cur.status))
        row = _record_row(kept, k[2], subject_id, version=cur.version, at=at)
        del row["received_at"]
        session.execute(update(Record).where(Record.id == cur.id).values(**row))
        amended_versions.append(
            _version_row(
                cur.id,
                subject_id,
                cur.version,
                kept,
                at=at,
                actor=actor,
                reason=amend_reason,
                catalogue_version=catalogue_version,
            )
        )
    if amended_versions:
        session.execute(insert(RecordVersion), amended_versions)

    result.outcomes.extend((outcome, current[k].id) for outcome, k in plan)

    versions_now = {cur.id: cur.version for cur in current.values()}
    touched = sorted({rid for o, rid in result.outcomes if o is not Outcome.UNCHANGED})
    _refresh_lists(
        session,
        {
            subject_ids[keys.key(item.subject.code, item.subject.kind)]
            for item, (outcome, _) in zip(items, result.outcomes, strict=True)
            if outcome is not Outcome.UNCHANGED
        },
        actor,
    )
    if touched:
        trail = hashlib.sha256()
        for rid in touched:
            trail.update(f"{rid}:{versions_now[rid]};".encode())
        detail: dict[str, Any] = {
            "created": result.count(Outcome.CREATED),
            "amended": result.count(Outcome.AMENDED),
            "unchanged": result.count(Outcome.UNCHANGED),
            "records": len(touched),
            "versions_digest": trail.hexdigest(),
        }
        if amended_refs:
            # An amendment changes a subject's file: each amended subject's access log
            # shows it (created records are in the file itself).
            sources = {item.source for _, item in changes}
            detail["department"] = sources.pop() if len(sources) == 1 else None
            detail["subjects"] = len(amended_refs)
            detail["subjects_digest"] = subjects_digest(amended_refs)
        event = audit.append(
            session,
            actor=actor,
            tag="ingest:records:stored",
            object_ref=f"records {touched[0]}..{touched[-1]}",
            detail=detail,
        )
        link_each(session, event.id, {sid: access_refs(refs) for sid, refs in amended_refs.items()})
    return result


def access_refs(refs: list[str]) -> str:
    """What an amendment did to one subject, within an access-log line's 200 characters."""
    text = ", ".join(refs)
    return text if len(text) <= 200 else f"{len(refs)} records: {text[:180]}…"


def _refresh_lists(session: Session, subject_ids: set[int], actor: str) -> None:
    """Keep list entries current with the records they come from, in the same transaction."""
    if subject_ids:
        from bonafides.rules.service import refresh_subjects

        refresh_subjects(session, subject_ids, actor=actor)


def _record_row(
    item: RecordInput, party: str, subject_id: int, *, version: int, at: dt.datetime
) -> dict[str, Any]:
    return {
        "subject_id": subject_id,
        "type_code": item.type_code,
        "source": item.source,
        "decision_no": item.decision_no,
        "party": party,
        "decision_date": item.decision_date,
        "received_at": item.received_at or at,
        "status": item.status.value,
        "severity": item.severity,
        "legal_basis": item.legal_basis,
        "published_until": item.published_until,
        "retention_until": item.retention_until,
        "version": version,
        "content": item.content,
        "content_digest": item.content_digest,
        "updated_at": at,
    }


def change_status(
    session: Session,
    *,
    source: str,
    decision_no: str,
    status: RecordStatus,
    actor: str,
    reason: str,
    party: str | None = None,
    at: dt.datetime | None = None,
) -> Record:
    """A new version that only changes the status (revocation, repair, expiry).

    ``party`` (a subject key) picks one subject where the decision names several. ``at``
    is the moment by the caller's clock: a repair's list entries end on the office's day
    of that moment, so a workflow passes the clock its deadlines run on.
    """
    query = select(Record).where(Record.source == source, Record.decision_no == decision_no)
    if party is not None:
        query = query.where(Record.party == party)
    found = session.scalars(query.with_for_update()).all()
    if not found:
        raise LookupError(f"no record {decision_no!r} from {source!r}")
    if len(found) > 1:
        raise LookupError(
            f"decision {decision_no!r} from {source!r} names {len(found)} subjects; say which one"
        )
    record = found[0]
    last = session.scalar(
        select(RecordVersion).where(
            RecordVersion.record_id == record.id, RecordVersion.version == record.version
        )
    )
    assert last is not None
    at = at or utcnow()
    record.version += 1
    record.status = status.value
    record.updated_at = at
    session.add(
        RecordVersion(
            record_id=record.id,
            subject_id=record.subject_id,
            version=record.version,
            status=status.value,
            severity=record.severity,
            decision_date=record.decision_date,
            legal_basis=record.legal_basis,
            content=record.content,
            raw=last.raw,
            content_digest=record.content_digest,
            catalogue_version=last.catalogue_version,
            changed_at=at,
            changed_by=actor,
            reason=reason,
        )
    )
    session.flush()
    _refresh_lists(session, {record.subject_id}, actor)
    audit.append(
        session,
        actor=actor,
        tag=f"records:record:{status.value}",
        subject_id=record.subject_id,
        object_ref=f"record {record.id} v{record.version}",
        detail={"source": source, "decision_no": decision_no, "reason": reason},
    )
    return record
