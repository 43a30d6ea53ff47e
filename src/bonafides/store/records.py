"""Writing decisions: idempotent on (source, decision number), versioned, audited.

Resubmitting an identical decision changes nothing; a changed one becomes a new
version with who and why; no version is ever overwritten or deleted.

These write the records only: the list entries that follow from them are the rules
engine's, and ``bonafides.rules.records`` writes both in one transaction. Call that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import String, TextClause, bindparam, column, select, table, text
from sqlalchemy.orm import Session

from bonafides.records import RecordColumns, RecordInput, RecordStatus, SubjectRef
from bonafides.security import audit
from bonafides.store import feed, staging
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.subjects import SubjectKeys, chunks, in_size, one_of, resolve_sourced
from bonafides.store.tables import Record, RecordVersion
from bonafides.store.types import UTCDateTime, utcnow

Key = tuple[str, str, str]


class Outcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    AMENDED = "amended"


@dataclass
class WriteResult:
    outcomes: list[tuple[Outcome, int]] = field(default_factory=list)
    #: Subjects with a record created or amended: their list entries need evaluating.
    changed_subjects: set[int] = field(default_factory=set)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o, _ in self.outcomes if o is outcome)


def record_key(keys: SubjectKeys, item: RecordInput) -> Key:
    """What identifies a decision: (source, decision number), and the subject where one
    number names several subjects."""
    party = keys.key(item.subject.code, item.subject.kind) if item.shared_decision_no else ""
    return (item.source, item.decision_no, party)


def batch_keys(keys: SubjectKeys, batch: RecordColumns) -> list[Key]:
    """``record_key`` of every row of a batch."""
    return [
        (source, number, keys.key(subject.code, subject.kind) if shared else "")
        for source, number, subject, shared in zip(
            batch.source, batch.decision_no, batch.subject, batch.shared_decision_no, strict=True
        )
    ]


@dataclass(frozen=True)
class Stored:
    """A stored record as a resubmission meets it."""

    id: int
    subject_id: int
    digest: str
    status: str


def stored_records(session: Session, wanted: Sequence[Key]) -> dict[Key, Stored]:
    """The stored records some keys name, looked up by decision number per department.

    One list of numbers per query, not of (source, number, party) triples: a triple list
    binds three parameters a key and costs more to compile than the lookup itself. On
    PostgreSQL the list is one array parameter (``one_of``).
    """
    numbers: dict[str, set[str]] = {}
    for source, number, _ in wanted:
        numbers.setdefault(source, set()).add(number)
    keys = set(wanted)
    found: dict[Key, Stored] = {}
    for source, group in numbers.items():
        for chunk in chunks(sorted(group), in_size(session)):
            rows = session.execute(
                select(
                    Record.decision_no,
                    Record.party,
                    Record.id,
                    Record.subject_id,
                    Record.content_digest,
                    Record.status,
                ).where(Record.source == source, one_of(session, Record.decision_no, chunk))
            )
            for no, party, rid, sid, dig, status in rows:
                if (source, no, party) in keys:
                    found[(source, no, party)] = Stored(rid, sid, dig, status)
    return found


def write_records(
    session: Session,
    keys: SubjectKeys,
    items: Sequence[RecordInput] | RecordColumns,
    *,
    actor: str,
    received_at: dt.datetime | None = None,
    catalogue_version: str | None = None,
    amend_reason: str = "amended by source",
    stored: Mapping[Key, Stored] | None = None,
) -> WriteResult:
    """Store a batch inside the caller's transaction and append one audit event for it.

    Items are applied in order, so a decision that appears twice in one batch is
    handled exactly as if it had come in two batches: the batch is merged in rounds,
    the n-th occurrence of each decision in round n, each round set-based (see
    ``staging``).

    ``stored``, the stored records of the items' keys as the caller read them in this
    transaction (``stored_records``), lets a decision named once in the batch and stored
    with the same digest be counted unchanged without being staged: a resubmitted file
    is mostly such rows.

    ``items`` may come as columns (bulk ingest builds them so, spelled as stored); the
    decisions are written the same either way.
    """
    result = WriteResult()
    batch = items if isinstance(items, RecordColumns) else RecordColumns.from_inputs(items)
    if not len(batch):
        return result
    session.flush()
    at = received_at or utcnow()
    item_keys = batch_keys(keys, batch)
    digests = batch.digest
    outcomes: list[tuple[Outcome, int, int]] = [(Outcome.UNCHANGED, 0, 0)] * len(batch)
    item_subjects = [0] * len(batch)
    staged: list[int] = []
    named = Counter(item_keys) if stored else Counter()
    for pos, k in enumerate(item_keys):
        if stored:
            found = stored.get(k)
            if found is not None and named[k] == 1 and found.digest == digests[pos]:
                outcomes[pos] = (Outcome.UNCHANGED, found.id, 0)
                item_subjects[pos] = found.subject_id
                continue
        staged.append(pos)
    # Subjects of the staged rows only: an unchanged row's subject and names were
    # resolved when it was first stored.
    # Grouped by department as they first appear: which department's name a new subject
    # carries does not depend on how its departments' rows interleave.
    by_source: dict[str | None, list[SubjectRef]] = {}
    for pos in staged:
        by_source.setdefault(batch.source[pos], []).append(batch.subject[pos])
    subject_ids = resolve_sourced(
        session,
        keys,
        [(subject, source) for source, group in by_source.items() for subject in group],
    )
    for pos in staged:
        subject = batch.subject[pos]
        item_subjects[pos] = subject_ids[keys.key(subject.code, subject.kind)]
    rounds: list[list[int]] = []
    seen: Counter[Key] = Counter()
    for pos in staged:
        k = item_keys[pos]
        if seen[k] == len(rounds):
            rounds.append([])
        rounds[seen[k]].append(pos)
        seen[k] += 1

    conn = session.connection()
    params = {
        "at": at,
        "actor": actor,
        "reason": amend_reason,
        "catalogue_version": catalogue_version,
    }
    for positions in rounds:
        staging.load(
            conn,
            [
                _stage_row(batch, pos, item_keys[pos][2], item_subjects[pos], at)
                for pos in positions
            ],
        )
        for statement in _MERGE[conn.dialect.name == "postgresql"]:
            conn.execute(statement, params)
        feed.emit_records(session, feed.Kind.RECORD_PUBLISHED, _STAGED_NEW, at=at)
        feed.emit_records(session, feed.Kind.RECORD_AMENDED, _STAGED_CHANGED, at=at)
        for pos, record_id, cur_version, cur_digest in conn.execute(_MERGED):
            if cur_digest is None:
                outcomes[pos] = (Outcome.CREATED, record_id, 1)
            elif cur_digest == digests[pos]:
                outcomes[pos] = (Outcome.UNCHANGED, record_id, cur_version)
            else:
                outcomes[pos] = (Outcome.AMENDED, record_id, cur_version + 1)
    result.outcomes.extend((outcome, rid) for outcome, rid, _ in outcomes)

    amended_ids = {rid for outcome, rid, _ in outcomes if outcome is Outcome.AMENDED}
    # Records the caller holds as objects were changed behind the ORM's back.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Record) and obj.id in amended_ids:
            session.expire(obj)

    versions_now: dict[int, int] = {}
    amended_refs: dict[int, list[str]] = {}
    changed_subjects: set[int] = set()
    for (outcome, rid, version), subject_id in zip(outcomes, item_subjects, strict=True):
        versions_now[rid] = max(version, versions_now.get(rid, 0))
        if outcome is Outcome.UNCHANGED:
            continue
        changed_subjects.add(subject_id)
        if outcome is Outcome.AMENDED:
            amended_refs.setdefault(subject_id, []).append(f"record {rid} v{version}")
    touched = sorted({rid for o, rid in result.outcomes if o is not Outcome.UNCHANGED})
    result.changed_subjects = changed_subjects
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
            sources = {
                source
                for source, (outcome, _, _) in zip(batch.source, outcomes, strict=True)
                if outcome is Outcome.AMENDED
            }
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


def _stage_row(
    batch: RecordColumns, pos: int, party: str, subject_id: int, at: dt.datetime
) -> tuple[Any, ...]:
    """One decision as ``staging.COLUMNS`` lists them; JSON already spelled as stored."""
    return (
        pos,
        batch.source[pos],
        batch.decision_no[pos],
        party,
        subject_id,
        batch.type_code[pos],
        batch.decision_date[pos],
        batch.received_at[pos] or at,
        batch.status[pos].value,
        batch.severity[pos],
        batch.legal_basis[pos],
        batch.published_until[pos],
        batch.retention_until[pos],
        batch.content[pos],
        batch.raw[pos],
        batch.digest[pos],
    )


def _meets(postgres: bool, columns: str) -> str:
    """The staged rows (``s``) joined to the stored record each meets (``r``, its
    ``columns``), by the record's key.

    PostgreSQL is made to probe the key's index row by row (a ``LATERAL`` subquery it
    cannot flatten): as a plain join it hashed the stage and read the whole of
    ``records`` once per statement, twice a chunk, a cost that grew with the store.
    """
    key = "r.source = s.source AND r.decision_no = s.decision_no AND r.party = s.party"
    if postgres:
        return (
            f"ingest_stage AS s CROSS JOIN LATERAL (SELECT {columns} FROM records AS r "  # noqa: S608
            f"WHERE {key} OFFSET 0) AS r"
        )
    return f"ingest_stage AS s JOIN records AS r ON {key}"


def _matched(postgres: bool, where: str) -> str:
    """The staged rows (``s``) with what they met (``m``) where ``where`` holds, in the
    stage's order; on PostgreSQL probed row by row from the stage's key, so that the
    order costs no sort of the wide rows (a hash join did, spilling to disk)."""
    if postgres:
        return (
            "ingest_stage AS s CROSS JOIN LATERAL (SELECT * FROM ingest_match AS m "  # noqa: S608
            f"WHERE m.pos = s.pos AND ({where}) OFFSET 0) AS m"
        )
    return f"ingest_stage AS s JOIN ingest_match AS m ON m.pos = s.pos WHERE {where}"


def _merge(postgres: bool) -> tuple[TextClause, ...]:
    """The set-based merge of one round; every staged row meets at most one stored
    record. What a row meets goes to the narrow ``ingest_match``, never back into the
    wide stage."""
    at = bindparam("at", type_=UTCDateTime())
    return (
        # The stored record each row meets, as it stands before this round.
        text(
            "INSERT INTO ingest_match (pos, record_id, cur_version, cur_digest, cur_status, "  # noqa: S608
            "digest) SELECT s.pos, r.id, r.version, r.content_digest, r.status, s.digest "
            f"FROM {_meets(postgres, 'r.id, r.version, r.content_digest, r.status')}"
        ),
        # New decisions: the record, in the batch's order.
        text(
            "INSERT INTO records (subject_id, type_code, source, decision_no, party, "
            "decision_date, received_at, status, severity, legal_basis, published_until, "
            "retention_until, version, content, content_digest, updated_at) "
            "SELECT subject_id, type_code, source, decision_no, party, decision_date, "
            "received_at, status, severity, legal_basis, published_until, retention_until, "
            "1, content, digest, :at FROM ingest_stage AS s WHERE NOT EXISTS "
            "(SELECT 1 FROM ingest_match AS m WHERE m.pos = s.pos) ORDER BY pos"
        ).bindparams(at),
        text(
            "INSERT INTO ingest_match (pos, record_id, cur_version, digest) "  # noqa: S608
            f"SELECT s.pos, r.id, 0, s.digest FROM {_meets(postgres, 'r.id')} "
            "WHERE NOT EXISTS (SELECT 1 FROM ingest_match AS m WHERE m.pos = s.pos)"
        ),
        # Changed decisions: the substance, never the state a later decision set.
        text(
            "UPDATE records SET subject_id = s.subject_id, type_code = s.type_code, "
            "decision_date = s.decision_date, severity = s.severity, "
            "legal_basis = s.legal_basis, published_until = s.published_until, "
            "retention_until = s.retention_until, version = m.cur_version + 1, "
            "content = s.content, content_digest = s.digest, updated_at = :at "
            "FROM ingest_match AS m JOIN ingest_stage AS s ON s.pos = m.pos "
            "WHERE records.id = m.record_id AND m.cur_digest IS NOT NULL "
            "AND m.cur_digest <> m.digest"
        ).bindparams(at),
        # A version with who and why for every new and changed decision.
        text(
            "INSERT INTO record_versions (record_id, subject_id, version, status, severity, "  # noqa: S608
            "decision_date, legal_basis, content, raw, content_digest, catalogue_version, "
            "changed_at, changed_by, reason) "
            "SELECT m.record_id, s.subject_id, m.cur_version + 1, "
            "COALESCE(m.cur_status, s.status), s.severity, s.decision_date, s.legal_basis, "
            "s.content, s.raw, s.digest, :catalogue_version, :at, :actor, "
            "CASE WHEN m.cur_digest IS NULL THEN 'submitted' ELSE :reason END "
            f"FROM {_matched(postgres, 'm.cur_digest IS NULL OR m.cur_digest <> m.digest')} "
            "ORDER BY s.pos"
        ).bindparams(
            at,
            bindparam("catalogue_version", type_=String()),
            bindparam("actor", type_=String()),
            bindparam("reason", type_=String()),
        ),
    )


_MERGE = {True: _merge(True), False: _merge(False)}
_MATCH = table("ingest_match", column("record_id"), column("cur_digest"), column("digest"))
#: The records a round created, and those it changed: one feed event each.
_STAGED_NEW = Record.id.in_(select(_MATCH.c.record_id).where(_MATCH.c.cur_digest.is_(None)))
_STAGED_CHANGED = Record.id.in_(
    select(_MATCH.c.record_id).where(
        _MATCH.c.cur_digest.is_not(None), _MATCH.c.cur_digest != _MATCH.c.digest
    )
)
_MERGED = text("SELECT pos, record_id, cur_version, cur_digest FROM ingest_match ORDER BY pos")


def access_refs(refs: list[str]) -> str:
    """What an amendment did to one subject, within an access-log line's 200 characters."""
    text = ", ".join(refs)
    return text if len(text) <= 200 else f"{len(refs)} records: {text[:180]}…"


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
    feed.emit_records(session, feed.kind_of_status(status), Record.id == record.id, at=at)
    audit.append(
        session,
        actor=actor,
        tag=f"records:record:{status.value}",
        subject_id=record.subject_id,
        object_ref=f"record {record.id} v{record.version}",
        detail={"source": source, "decision_no": decision_no, "reason": reason},
    )
    return record
