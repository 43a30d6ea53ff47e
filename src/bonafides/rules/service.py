"""Keeping list entries and grades in the store, with the two evaluators.

- ``refresh_subjects``: after records of some subjects change, re-evaluate those subjects in
  Python and write the difference, inside the caller's transaction (the write path calls
  it, so entries never lag the records they come from).
- ``recompute_lists`` / ``recompute_grades``: the whole store in SQL, for a new rule set or
  a bulk load; the difference is computed in the database.

Entries are never deleted: a changed or vanished entry is marked ``superseded`` with the
time, and the new one is written beside it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select

from bonafides.progress import ProgressFn, Steps
from bonafides.records import ENTRY_CURRENT, ENTRY_SUPERSEDED
from bonafides.rules.compile import ENTRY_COLUMNS, sql_evaluator_for
from bonafides.rules.evaluate import evaluator_for
from bonafides.rules.facts import (
    ENDING_STATUSES,
    Entry,
    GradeResult,
    RecordFacts,
    SubjectFacts,
    VersionFacts,
    ended_on,
)
from bonafides.rules.loader import packaged_rules
from bonafides.rules.model import EVALUATOR, Rules
from bonafides.security import audit
from bonafides.settings import get_settings
from bonafides.store import feed
from bonafides.store.subjects import chunks
from bonafides.store.tables import Grade, ListEntry, Record, RecordVersion, RuleRun, Subject
from bonafides.store.types import utcnow

CURRENT = ENTRY_CURRENT
SUPERSEDED = ENTRY_SUPERSEDED
DEFAULT_ZONE = "Asia/Shanghai"

EntryKey = tuple[str, int, int, int, dt.date, dt.date, str, str, str]


@dataclass(frozen=True)
class SubjectFile:
    """A subject and its records, as the Python evaluator reads them."""

    subject: SubjectFacts
    records: list[RecordFacts]


# Built once: statement construction costs more than a single check's queries.
_SUBJECTS = select(Subject.id, Subject.kind, Subject.adult_from).where(
    Subject.id.in_(bindparam("ids", expanding=True))
)
_RECORDS = select(
    Record.id,
    Record.subject_id,
    Record.type_code,
    Record.source,
    Record.status,
    Record.decision_date,
    Record.content,
    Record.severity,
    Record.retention_until,
).where(Record.subject_id.in_(bindparam("ids", expanding=True)))
_VERSIONS = select(
    RecordVersion.record_id,
    RecordVersion.version,
    RecordVersion.status,
    RecordVersion.changed_at,
).where(RecordVersion.record_id.in_(bindparam("ids", expanding=True)))
_CURRENT_ENTRIES = select(
    ListEntry.id,
    ListEntry.list_code,
    ListEntry.line,
    ListEntry.subject_id,
    ListEntry.trigger_record_id,
    ListEntry.valid_from,
    ListEntry.valid_until,
    ListEntry.until_basis,
    ListEntry.record_ids,
    ListEntry.reason,
).where(ListEntry.subject_id.in_(bindparam("ids", expanding=True)), ListEntry.status == CURRENT)


def load_files(
    session: Session, subject_ids: Iterable[int], zone: str = DEFAULT_ZONE
) -> dict[int, SubjectFile]:
    """Subjects with all their records, and the day each repaired or expired record ended."""
    ids = sorted(set(subject_ids))
    tz = ZoneInfo(zone)
    subjects: dict[int, SubjectFacts] = {}
    records: dict[int, list[RecordFacts]] = defaultdict(list)
    conn = session.connection()
    for part in chunks(ids, 500):
        for sid, kind, adult in conn.execute(_SUBJECTS, {"ids": list(part)}):
            subjects[sid] = SubjectFacts(sid, kind, adult)
        rows = conn.execute(_RECORDS, {"ids": list(part)}).all()
        ending = [row[0] for row in rows if row[4] in ENDING_STATUSES]
        versions: dict[int, list[VersionFacts]] = defaultdict(list)
        for vpart in chunks(ending, 500):
            for rid, version, status, changed in conn.execute(_VERSIONS, {"ids": list(vpart)}):
                versions[rid].append(VersionFacts(version, status, changed))
        for rid, sid, type_code, source, status, decided, content, severity, kept in rows:
            records[sid].append(
                RecordFacts(
                    id=rid,
                    subject_id=sid,
                    type_code=type_code,
                    source=source,
                    status=status,
                    decision_date=decided,
                    content=content,
                    severity=severity,
                    ended_on=ended_on(status, versions.get(rid, ()), tz),
                    retained_until=kept,
                )
            )
    return {
        sid: SubjectFile(subject, sorted(records.get(sid, []), key=lambda r: r.id))
        for sid, subject in subjects.items()
    }


_FILE_BY_KEY = (
    select(
        Subject.id,
        Subject.kind,
        Subject.name,
        Subject.adult_from,
        Record.id,
        Record.type_code,
        Record.source,
        Record.status,
        Record.decision_date,
        Record.content,
        Record.severity,
        Record.decision_no,
        Record.retention_until,
    )
    .select_from(Subject)
    .outerjoin(Record, Record.subject_id == Subject.id)
    .where(Subject.key == bindparam("key"))
)


@dataclass(frozen=True)
class KeyedFile:
    """One subject found by its key: its file, name, and each record's decision number."""

    file: SubjectFile
    name: str
    decision_numbers: dict[int, str]


def load_file_by_key(session: Session, key: str, zone: str = DEFAULT_ZONE) -> KeyedFile | None:
    """The single-check path: subject and records in one round trip (versions only when a
    record was repaired or expired), since a check's latency is mostly round trips."""
    conn = session.connection()
    return keyed_file(session, conn.execute(_FILE_BY_KEY, {"key": key}).all(), zone)


def file_by_key_with(prefix: Sequence[ColumnElement[Any]], source: FromClause) -> Select[Any]:
    """``_FILE_BY_KEY`` outer-joined to a one-row ``source`` whose ``prefix`` columns lead
    every row: a caller that must also claim something (the audit head) does it in the
    same round trip. Rows whose file columns are all null mean no such subject."""
    file = _FILE_BY_KEY.subquery("file")
    return select(*prefix, *file.c).select_from(source.outerjoin(file, true()))


def keyed_file(
    session: Session, rows: Sequence[Sequence[Any]], zone: str = DEFAULT_ZONE
) -> KeyedFile | None:
    """The file from ``_FILE_BY_KEY``'s rows (the versions it needs are read here)."""
    if not rows or rows[0][0] is None:
        return None
    conn = session.connection()
    sid, kind, name, adult = rows[0][:4]
    ending = [row[4] for row in rows if row[4] is not None and row[7] in ENDING_STATUSES]
    versions: dict[int, list[VersionFacts]] = defaultdict(list)
    if ending:
        for rid, version, status, changed in conn.execute(_VERSIONS, {"ids": ending}):
            versions[rid].append(VersionFacts(version, status, changed))
    tz = ZoneInfo(zone)
    records = [
        RecordFacts(
            id=rid,
            subject_id=sid,
            type_code=type_code,
            source=source,
            status=status,
            decision_date=decided,
            content=content,
            severity=severity,
            ended_on=ended_on(status, versions.get(rid, ()), tz),
            retained_until=kept,
        )
        for _, _, _, _, rid, type_code, source, status, decided, content, severity, _, kept in rows
        if rid is not None
    ]
    records.sort(key=lambda r: r.id)
    numbers = {row[4]: row[11] for row in rows if row[4] is not None}
    return KeyedFile(SubjectFile(SubjectFacts(sid, kind, adult), records), name, numbers)


def _key(entry: Entry, reason: str) -> EntryKey:
    return (
        entry.list_code,
        entry.line,
        entry.subject_id,
        entry.trigger_record_id,
        entry.valid_from,
        entry.valid_until,
        entry.until_basis,
        entry.record_ids_text,
        reason,
    )


def stored_reason(rules: Rules, entry: Entry) -> str:
    """The rule line behind an entry, as stored; the SQL evaluator writes the same text."""
    rule = rules.lists[entry.list_code]
    return f"{rule.rule_ref(entry.line)}: {rule.entry[entry.line - 1].explain}"


@dataclass(frozen=True)
class RefreshResult:
    subjects: int
    added: int
    superseded: int


def refresh_subjects(
    session: Session,
    subject_ids: Iterable[int],
    *,
    rules: Rules | None = None,
    zone: str | None = None,
    actor: str = "rules",
) -> RefreshResult:
    """Re-evaluate some subjects and write what changed, in the caller's transaction.

    ``zone`` (default: the configured ``BONAFIDES_TIMEZONE``) decides on which local day a
    repair or expiry ended a record, as it does for ``recompute_lists``.
    """
    rules = rules or packaged_rules()
    zone = zone or get_settings().timezone
    ids = sorted(set(subject_ids))
    if not ids:
        return RefreshResult(0, 0, 0)
    evaluator = evaluator_for(rules)
    files = load_files(session, ids, zone)
    wanted: dict[EntryKey, Entry] = {}
    for file in files.values():
        for entry in evaluator.entries(file.subject, file.records):
            wanted[_key(entry, stored_reason(rules, entry))] = entry
    have: dict[EntryKey, int] = {}
    for part in chunks(ids, 500):
        for row in session.connection().execute(_CURRENT_ENTRIES, {"ids": list(part)}):
            have[tuple(row[1:])] = row[0]
    gone = [row_id for key, row_id in have.items() if key not in wanted]
    new = [(key, entry) for key, entry in wanted.items() if key not in have]
    now = utcnow()
    for part in chunks(gone, 500):
        session.execute(
            update(ListEntry)
            .where(ListEntry.id.in_(part))
            .values(status=SUPERSEDED, superseded_at=now)
        )
        feed.emit_entries(session, feed.Kind.ENTRY_ENDED, ListEntry.id.in_(part), at=now)
    if new:
        before = _last_entry(session)
        session.execute(
            insert(ListEntry),
            [
                {
                    "list_code": e.list_code,
                    "line": e.line,
                    "subject_id": e.subject_id,
                    "trigger_record_id": e.trigger_record_id,
                    "valid_from": e.valid_from,
                    "valid_until": e.valid_until,
                    "until_basis": e.until_basis,
                    "record_ids": e.record_ids_text,
                    "reason": key[-1],
                    "status": CURRENT,
                    "evaluator": EVALUATOR,
                    "rules_version": rules.version,
                    "created_at": now,
                }
                for key, e in new
            ],
        )
        feed.emit_entries(
            session,
            feed.Kind.ENTRY_STARTED,
            and_(ListEntry.id > before, ListEntry.subject_id.in_(ids)),
            at=now,
        )
    if gone or new:
        audit.append(
            session,
            actor=actor,
            tag="rules:entries:refreshed",
            object_ref=f"subjects {ids[0]}..{ids[-1]}",
            detail={
                "subjects": len(ids),
                "added": len(new),
                "superseded": len(gone),
                "evaluator": EVALUATOR,
                "rules": rules.digest,
            },
        )
    return RefreshResult(len(ids), len(new), len(gone))


def refresh_subjects_in_sql(
    session: Session,
    subject_ids: Iterable[int],
    *,
    rules: Rules | None = None,
    zone: str | None = None,
    actor: str = "rules",
) -> RefreshResult:
    """``refresh_subjects`` for many subjects at once: the same entries, evaluated by the
    SQL evaluator over the subjects staged in a temporary table, so no subject's file
    passes through Python (loading and evaluating files was a third of an ingest's time).
    The audit event is the one ``refresh_subjects`` appends."""
    rules = rules or packaged_rules()
    zone = zone or get_settings().timezone
    ids = sorted(set(subject_ids))
    if not ids:
        return RefreshResult(0, 0, 0)
    no_jit(session)
    conn = session.connection()
    le = ListEntry.__table__
    assert isinstance(le, Table)
    only = _changed_subjects()
    _create_temporary(conn, only)
    try:
        conn.execute(insert(only), [{"subject_id": sid} for sid in ids])
        conn.execute(text("ANALYZE rule_subjects"))
        gone, new = _write_entries(session, rules, zone, le, only, Steps(None, RECOMPUTE_STEPS))
    finally:
        only.drop(conn)
    if gone or new:
        audit.append(
            session,
            actor=actor,
            tag="rules:entries:refreshed",
            object_ref=f"subjects {ids[0]}..{ids[-1]}",
            detail={
                "subjects": len(ids),
                "added": new,
                "superseded": gone,
                "evaluator": EVALUATOR,
                "rules": rules.digest,
            },
        )
    return RefreshResult(len(ids), new, gone)


def _last_entry(session: Session) -> int:
    """The highest list entry id: entries written after it are this transaction's."""
    return int(session.connection().execute(select(func.max(ListEntry.id))).scalar_one() or 0)


# --------------------------------------------------------------------------- whole store


@dataclass(frozen=True)
class RecomputeResult:
    entries: int
    added: int
    superseded: int
    seconds: float


def no_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT off for this transaction.

    The compiled rules are large expressions that the planner prices as expensive; JIT then
    spends far longer compiling them than running them (33 s against 0.5 s on 100 000
    records), so whole-table rule queries run interpreted.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL jit = off"))


def _staging(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("list_code", String(64)),
        Column("line", Integer),
        Column("subject_id", BigInteger),
        Column("trigger_record_id", BigInteger),
        Column("valid_from", Date),
        Column("valid_until", Date),
        Column("until_basis", String(16)),
        Column("record_ids", Text),
        Column("reason", Text),
        prefixes=["TEMPORARY"],
    )


def _record_run(
    session: Session,
    rules: Rules,
    *,
    kind: str,
    as_of: dt.date | None,
    began: dt.datetime,
    detail: dict[str, Any],
    actor: str,
    tag: str,
    object_ref: str,
) -> None:
    """A whole-table run leaves a RuleRun row (what ``entries_current`` reads) and its
    audit event, both naming the evaluator and rule set that produced it."""
    session.add(
        RuleRun(
            kind=kind,
            as_of=as_of,
            evaluator=EVALUATOR,
            rules_version=rules.version,
            rules_digest=rules.digest,
            started_at=began,
            finished_at=utcnow(),
            detail=detail,
        )
    )
    audit.append(
        session,
        actor=actor,
        tag=tag,
        object_ref=object_ref,
        detail={**detail, "evaluator": EVALUATOR, "rules": rules.digest},
    )


def _last_lists_run(session: Session) -> RuleRun | None:
    return session.scalar(
        select(RuleRun).where(RuleRun.kind == "lists").order_by(RuleRun.id.desc()).limit(1)
    )


def version_mark(session: Session) -> int:
    """The highest record version id: every change to a record (a new decision, an
    amendment, a revocation, a repair, an expiry) adds a version row, and ids only grow,
    so "a version above the mark" is "changed since", whatever clock stamped the change."""
    found = session.connection().execute(select(func.max(RecordVersion.id))).scalar_one()
    return int(found or 0)


def _changed_since(session: Session, run: RuleRun | None, rules: Rules, zone: str) -> int | None:
    """The version mark from which the last run's entries still hold, or None for a full run.

    Entries depend only on the records, the subjects' kind and age (fixed by the code) and
    the rules and time zone; never on today (an entry carries its own dates and the day
    asked picks those in force), so the days passing change no entry. The last run's
    entries therefore still hold for every subject without a record version above its
    mark, when the rules, evaluator and zone are the same.
    """
    if run is None or run.rules_digest != rules.digest or run.evaluator != EVALUATOR:
        return None
    detail = run.detail or {}
    mark = detail.get("version_mark")
    if detail.get("zone") != zone or not isinstance(mark, int):
        return None
    return mark


#: The statements of a list recompute that ``progress`` counts.
RECOMPUTE_STEPS = 4


def recompute_lists(
    session: Session,
    rules: Rules | None = None,
    *,
    zone: str = DEFAULT_ZONE,
    actor: str = "rules",
    full: bool = False,
    progress: ProgressFn | None = None,
    computed: FromClause | None = None,
) -> RecomputeResult:
    """Evaluate every list in SQL and write the difference.

    ``computed`` is a table of entries (ENTRY_COLUMNS) that another engine evaluated for
    every subject (the Spark engine's staging table): it is written instead, as a full
    run, so the difference is still applied in the caller's one transaction.

    ``progress`` hears the run's statements done out of ``RECOMPUTE_STEPS`` (finding the
    subjects, evaluating, superseding, adding): each is one set-based statement over all
    subjects, so there is no count of subjects to report before it ends.

    After a run with the same rules and zone, only the subjects with a record changed since
    (a version above that run's mark) are evaluated again, unless ``full``: writers that
    bypass the write path's own refresh (a bulk load) are caught up, and a store where
    nothing changed costs one index lookup. The run's mark is taken before it reads.
    """
    rules = rules or packaged_rules()
    started = time.perf_counter()
    began = utcnow()
    no_jit(session)
    mark = version_mark(session)
    since = (
        None
        if full or computed is not None
        else _changed_since(session, _last_lists_run(session), rules, zone)
    )
    conn = session.connection()
    le = ListEntry.__table__
    assert isinstance(le, Table)
    only: Table | None = None
    subjects: int | None = None
    if since is not None:
        only = _changed_subjects()
        _create_temporary(conn, only)
        conn.execute(
            insert(only).from_select(
                ["subject_id"],
                select(RecordVersion.subject_id).where(RecordVersion.id > since).distinct(),
            )
        )
        subjects = conn.execute(select(func.count()).select_from(only)).scalar_one()
    steps = Steps(progress, RECOMPUTE_STEPS)
    steps.start()
    steps.step()
    try:
        if subjects == 0:
            superseded = added = 0
        else:
            superseded, added = _write_entries(session, rules, zone, le, only, steps, computed)
    finally:
        if only is not None:
            only.drop(conn)
    total = conn.execute(
        select(func.count()).select_from(le).where(le.c.status == CURRENT)
    ).scalar_one()
    seconds = time.perf_counter() - started
    detail: dict[str, Any] = {
        "entries": total,
        "added": added,
        "superseded": superseded,
        "seconds": round(seconds, 3),
        "zone": zone,
        "version_mark": mark,
        "subjects": "all" if subjects is None else subjects,
    }
    _record_run(
        session,
        rules,
        kind="lists",
        as_of=None,
        began=began,
        detail=detail,
        actor=actor,
        tag="rules:lists:recomputed",
        object_ref=f"rules {rules.version}",
    )
    steps.finish()
    return RecomputeResult(total, added, superseded, seconds)


def _create_temporary(conn: Connection, table: Table) -> None:
    """Create a temporary table, or empty the one a rolled-back run left on this pooled
    connection: on SQLite (pysqlite's transactions begin at the first write) a CREATE
    that opens a connection's work is committed at once, while the DROP that follows is
    rolled back with the run that failed, so the table outlives it, rows and all."""
    table.create(conn, checkfirst=True)
    conn.execute(delete(table))


def _changed_subjects() -> Table:
    return Table(
        "rule_subjects",
        MetaData(),
        Column("subject_id", BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )


def _write_entries(
    session: Session,
    rules: Rules,
    zone: str,
    le: Table,
    only: Table | None,
    steps: Steps,
    computed: FromClause | None = None,
) -> tuple[int, int]:
    """Evaluate into a staging table, then supersede what vanished and add what is new;
    with ``only``, for those subjects alone. Returns (superseded, added)."""
    conn = session.connection()
    staging = _staging("rule_staging")
    _create_temporary(conn, staging)
    try:
        sources = (
            sql_evaluator_for(rules, zone).lines(only=only)
            if computed is None
            else [select(*(computed.c[name] for name in ENTRY_COLUMNS))]
        )
        for source in sources:
            conn.execute(insert(staging).from_select(list(ENTRY_COLUMNS), source))
        Index("ix_rule_staging", staging.c.subject_id, staging.c.list_code).create(
            conn, checkfirst=True
        )
        conn.execute(text("ANALYZE rule_staging"))
        steps.step()
        same = and_(*(staging.c[name] == le.c[name] for name in ENTRY_COLUMNS))
        now = utcnow()
        scope = [] if only is None else [le.c.subject_id.in_(select(only.c.subject_id))]
        superseded = conn.execute(
            update(le)
            .where(le.c.status == CURRENT, *scope, ~exists().where(same))
            .values(status=SUPERSEDED, superseded_at=now)
        ).rowcount
        if superseded:
            feed.emit_entries(
                session,
                feed.Kind.ENTRY_ENDED,
                and_(ListEntry.status == SUPERSEDED, ListEntry.superseded_at == now),
                at=now,
            )
        steps.step()
        # What is already current needs no new row. Dropping it from the staging table
        # first keeps the insert below from reading the table it writes, which PostgreSQL
        # would otherwise scan again, growing, for every row it adds.
        conn.execute(delete(staging).where(exists().where(le.c.status == CURRENT, same)))
        added = conn.execute(select(func.count()).select_from(staging)).scalar_one()
        before = _last_entry(session)
        conn.execute(
            insert(le).from_select(
                [*ENTRY_COLUMNS, "status", "evaluator", "rules_version", "created_at"],
                select(
                    *(staging.c[name] for name in ENTRY_COLUMNS),
                    literal(CURRENT, String()),
                    literal(EVALUATOR, String()),
                    literal(rules.version, String()),
                    literal(now, ListEntry.created_at.type),
                ),
            )
        )
        if added:
            feed.emit_entries(session, feed.Kind.ENTRY_STARTED, ListEntry.id > before, at=now)
    finally:
        staging.drop(conn)
    return superseded, added


def entries_current(session: Session, rules: Rules) -> bool:
    """Whether the stored entries come from these rules (a full run with them happened)."""
    digest = session.scalar(
        select(RuleRun.rules_digest)
        .where(RuleRun.kind == "lists")
        .order_by(RuleRun.id.desc())
        .limit(1)
    )
    return digest == rules.digest


def ensure_current(
    session: Session, rules: Rules, *, zone: str = DEFAULT_ZONE, actor: str = "rules"
) -> RecomputeResult | None:
    """Recompute first if the entries were made by other rules, or never in full."""
    if entries_current(session, rules):
        return None
    return recompute_lists(session, rules, zone=zone, actor=actor)


@dataclass(frozen=True)
class GradesResult:
    as_of: dt.date
    grades: int
    seconds: float


def recompute_grades(
    session: Session,
    rules: Rules | None = None,
    *,
    as_of: dt.date,
    zone: str = DEFAULT_ZONE,
    actor: str = "rules",
    computed: FromClause | None = None,
) -> GradesResult:
    """Every organisation's grades as of a day, in SQL; replaces that day's grades.

    ``computed`` is a table of grades as of that day (GRADE_COLUMNS) that another engine
    evaluated (the Spark engine's staging table), written instead."""
    rules = rules or packaged_rules()
    started = time.perf_counter()
    began = utcnow()
    no_jit(session)
    conn = session.connection()
    conn.execute(delete(Grade).where(Grade.as_of == as_of))
    graded = (
        sql_evaluator_for(rules, zone).grades().subquery("computed")
        if computed is None
        else select(computed).subquery("computed")
    )
    now = utcnow()
    if rules.grades:
        conn.execute(
            insert(Grade).from_select(
                [
                    "subject_id",
                    "scheme",
                    "grade",
                    "as_of",
                    "line",
                    "record_ids",
                    "evaluator",
                    "rules_version",
                    "computed_at",
                ],
                select(
                    graded.c.subject_id,
                    graded.c.scheme,
                    graded.c.grade,
                    literal(as_of, Date()),
                    graded.c.line,
                    graded.c.record_ids,
                    literal(EVALUATOR, String()),
                    literal(rules.version, String()),
                    literal(now, Grade.computed_at.type),
                ),
            ),
            {"as_of": as_of} if computed is None else {},
        )
    count = conn.execute(
        select(func.count()).select_from(Grade).where(Grade.as_of == as_of)
    ).scalar_one()
    seconds = time.perf_counter() - started
    detail = {"grades": count, "seconds": round(seconds, 3)}
    _record_run(
        session,
        rules,
        kind="grades",
        as_of=as_of,
        began=began,
        detail=detail,
        actor=actor,
        tag="rules:grades:computed",
        object_ref=f"grades as of {as_of.isoformat()}",
    )
    return GradesResult(as_of, count, seconds)


def grades_of(
    session: Session,
    subject_id: int,
    as_of: dt.date,
    *,
    rules: Rules | None = None,
    zone: str = DEFAULT_ZONE,
) -> tuple[SubjectFacts | None, list[GradeResult]]:
    """One subject's grades as of a day, in Python (none for a natural person)."""
    rules = rules or packaged_rules()
    file = load_files(session, [subject_id], zone).get(subject_id)
    if file is None:
        return None, []
    return file.subject, evaluator_for(rules).grades(file.subject, file.records, as_of)


def entries_in_force(
    session: Session, list_code: str, as_of: dt.date, *, limit: int | None = None
) -> Sequence[ListEntry]:
    query = (
        select(ListEntry)
        .where(
            ListEntry.list_code == list_code,
            ListEntry.status == CURRENT,
            ListEntry.valid_from <= as_of,
            ListEntry.valid_until >= as_of,
        )
        .order_by(ListEntry.valid_from, ListEntry.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()
