"""The relational schema. Alembic migrations under ``migrations/`` create it.

Tables that grow with subjects carry ``subject_id`` so a sharded PostgreSQL (Citus)
can distribute them on it; nothing is updated in place without a version row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bonafides.store.types import BigId, Json, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CatalogueVersion(Base):
    """Each catalogue loaded into the store, so a record can say what it was checked against."""

    __tablename__ = "catalogue_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    document: Mapped[dict[str, Any]] = mapped_column(Json)


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(6))
    uscc: Mapped[str | None] = mapped_column(String(18))


class RecordType(Base):
    __tablename__ = "record_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), index=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    polarity: Mapped[str] = mapped_column(String(16))
    disclosure: Mapped[str] = mapped_column(String(16))
    catalogue_version: Mapped[str] = mapped_column(String(32))
    definition: Mapped[dict[str, Any]] = mapped_column(Json)


class Subject(Base):
    """A company, organisation or person that at least one decision concerns.

    ``key`` is the lookup key: the USCC for organisations, and for natural persons a
    keyed hash of the ID number (the number itself is only kept encrypted in
    ``code_cipher`` and shown as ``code_display``, masked). ``adult_from`` tells minors
    without keeping the birth date.
    """

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    code_display: Mapped[str] = mapped_column(String(18))
    code_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(6), index=True)
    industry: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    adult_from: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    names: Mapped[list[SubjectName]] = relationship(
        back_populates="subject", order_by="SubjectName.id"
    )


class SubjectName(Base):
    """Current and former names, in Chinese and English: search must find renamed firms."""

    __tablename__ = "subject_names"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    lang: Mapped[str] = mapped_column(String(8))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(32))

    subject: Mapped[Subject] = relationship(back_populates="names")

    __table_args__ = (UniqueConstraint("subject_id", "name", "lang"),)


class SubjectRegister(Base):
    """What the register says about a subject now, one row per registered subject.

    Written by ``bonafides register load`` (issue 15); every change to it is also a
    ``subject_events`` row. ``digest`` covers the normalised register row (former names
    included), so a reload of the same data is recognised without comparing field by
    field. ``reg_no`` and ``org_code`` are the legacy codes a record without a USCC may
    carry; the organisation code defaults to positions 9-17 of the USCC.
    """

    __tablename__ = "subject_register"

    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id"), primary_key=True, autoincrement=False
    )
    status: Mapped[str] = mapped_column(String(16))
    status_raw: Mapped[str | None] = mapped_column(String(100))
    entity_type: Mapped[str | None] = mapped_column(String(100))
    legal_rep: Mapped[str | None] = mapped_column(String(100))
    registered_on: Mapped[dt.date | None] = mapped_column(Date)
    authority: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    reg_no: Mapped[str | None] = mapped_column(String(15), index=True)
    org_code: Mapped[str | None] = mapped_column(String(9), index=True)
    #: The USCC of the subject this one was merged into, as the register gave it.
    merged_into: Mapped[str | None] = mapped_column(String(18))
    source: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SubjectEvent(Base):
    """One change the register reported about a subject: renamed, deregistered, ...

    Never updated: ``version`` counts a subject's events, ``before`` and ``after`` hold
    the fields that changed, and ``event_date`` is the day the change reached the platform (a
    register export says what is, not since when).
    """

    __tablename__ = "subject_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    source: Mapped[str | None] = mapped_column(String(32))
    event_date: Mapped[dt.date] = mapped_column(Date)
    before: Mapped[dict[str, Any]] = mapped_column(Json)
    after: Mapped[dict[str, Any]] = mapped_column(Json)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("subject_id", "version"),)


class Record(Base):
    """The current state of one decision; its history is in ``record_versions``.

    (source, decision_no) is the idempotency key, with the subject added (``party``) for
    types whose decision numbers name several subjects: resubmitting changes nothing.
    """

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    type_code: Mapped[str] = mapped_column(ForeignKey("record_types.code"))
    source: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    decision_no: Mapped[str] = mapped_column(String(128))
    #: Empty, or the subject's key where one decision number names several subjects.
    party: Mapped[str] = mapped_column(String(80), default="")
    decision_date: Mapped[dt.date] = mapped_column(Date)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    published_until: Mapped[dt.date | None] = mapped_column(Date)
    retention_until: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(Json)
    content_digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The instance where the decision was made, for a copy pulled by ``bonafides sync``
    #: (None: made here), and its version there.
    origin: Mapped[str | None] = mapped_column(String(64), default=None)
    origin_version: Mapped[int | None] = mapped_column(Integer, default=None)

    subject: Mapped[Subject] = relationship()
    versions: Mapped[list[RecordVersion]] = relationship(
        back_populates="record", order_by="RecordVersion.version"
    )

    __table_args__ = (
        # The key carries what an answer cites of a record, so a batch's citations are
        # read from the key alone on PostgreSQL (migration 0037, ``store.details``).
        PrimaryKeyConstraint(
            "id", postgresql_include=["type_code", "source", "decision_no", "decision_date"]
        ),
        UniqueConstraint("source", "decision_no", "party"),
        Index("ix_records_subject_id_type_code", "subject_id", "type_code"),
        Index("ix_records_type_code_status", "type_code", "status"),
    )


class RecordVersion(Base):
    """Every state a record has had, with who changed it and why; never updated."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    subject_id: Mapped[int] = mapped_column(BigId)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    decision_date: Mapped[dt.date] = mapped_column(Date)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(Json)
    raw: Mapped[dict[str, Any]] = mapped_column(Json)
    content_digest: Mapped[str] = mapped_column(String(64))
    catalogue_version: Mapped[str | None] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))

    record: Mapped[Record] = relationship(back_populates="versions")

    # On PostgreSQL the key carries what an ended record's history is read for, so that
    # read never visits the heap (migration 0035).
    __table_args__ = (
        UniqueConstraint("record_id", "version", postgresql_include=["status", "changed_at"]),
    )


class AuditEvent(Base):
    """One link of the hash chain: each event's hash covers the previous event's hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(64), index=True)
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True)
    object_ref: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict[str, Any]] = mapped_column(Json)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class SubjectAccess(Base):
    """A subject that one audit event concerns, when the event concerns many at once.

    A batch screening or a department's amendments touch thousands of subjects in one
    write; hashing an event per subject would serialise a million appends on the chain's
    head. The batch instead appends one event and writes a row here per subject, set-based
    in the same transaction; the event's detail pins the rows (count and digest of the
    subject ids). Keyed by subject first: the access log reads one subject's rows, newest
    event first, and SQLite stores the rows in that order (no rowid).
    """

    __tablename__ = "subject_access"
    # By event too: verifying the chain recomputes each batch event's digest from its rows.
    __table_args__ = (
        Index("ix_subject_access_event_id", "event_id"),
        {"sqlite_with_rowid": False},
    )

    subject_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    object_ref: Mapped[str | None] = mapped_column(String(200))


class AuditHead(Base):
    """A single row naming the last event: updating it serialises appends on every store."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))
    #: The first event hashed with the audit key; those before it (a store older than the
    #: key) keep plain SHA-256 hashes. Unset means every event is keyed.
    keyed_from: Mapped[int | None] = mapped_column(BigId, default=1)


class AuditCheckpoint(Base):
    """The head of the chain at one moment, signed with the platform's Ed25519 key.

    Public by design: a count, a hash, a time and a signature say nothing about anyone.
    Whoever keeps a copy can later prove the chain still extends it.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_count: Mapped[int] = mapped_column(BigId, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    keyed_from: Mapped[int] = mapped_column(BigId)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


class IngestBatch(Base):
    """One submitted file or API batch, with the position reached so a killed run resumes.

    A run commits whole chunks together with ``next_row``; rerunning the same file
    (same department, type and content hash) continues from there.
    """

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: None: no ``--source`` was given, each row names its department in the data.
    source: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    type_code: Mapped[str] = mapped_column(ForeignKey("record_types.code"))
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_row: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(Json)
    notes: Mapped[dict[str, Any]] = mapped_column(Json)
    #: The highest record version id when the batch began (or, for a batch begun before
    #: this column, when it resumed): the list entries of every subject with a version
    #: above it are refreshed when the file is done, whichever run finishes it.
    version_mark: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_ingest_batches_lookup", "source", "type_code", "file_sha256"),)


class IngestRejection(Base):
    """A rejected row, kept with its batch so a resumed run still reports it."""

    __tablename__ = "ingest_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(300))


class ReviewItem(Base):
    """A decision naming a subject without a code: kept, not guessed, for entity matching."""

    __tablename__ = "review_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))
    type_code: Mapped[str] = mapped_column(String(64))
    decision_no: Mapped[str | None] = mapped_column(String(128))
    subject_name: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(300))
    raw: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: What name matching proposed: up to five {code, name, score, explanation}, best first.
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    algorithm: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("source", "type_code", "decision_no"),)


class MatchLink(Base):
    """A record whose row named its subject without a code, linked by name matching.

    The algorithm's name and version, its score and the explanation are kept so the link
    can be reproduced, compared with a later version, and judged by a person.
    """

    __tablename__ = "match_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    subject_id: Mapped[int] = mapped_column(BigId, index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"))
    row: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    algorithm: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReviewJudgement(Base):
    """A person's judgement of a name and a candidate: accepted, rejected, or unsure.

    Keyed by the name as the matcher reads it (``bonafides.matching.names.canonical``) and
    the candidate's code, so a rejected pair is never proposed again for any row that
    spells the name so, whichever batch it comes in. ``record_id``: the record an
    acceptance linked.
    """

    __tablename__ = "review_judgements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review_queue.id"), index=True)
    name_key: Mapped[str] = mapped_column(String(300))
    code: Mapped[str | None] = mapped_column(String(18))
    verdict: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    judged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    record_id: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (Index("ix_review_judgements_name_key_code", "name_key", "code"),)


class SubjectMerge(Base):
    """One subject merged into another by an operator: its records moved, undone by a split.

    ``status_before`` is the merged subject's status before, restored by the split; the
    records moved are ``subject_merge_records`` rows, so a split moves back exactly those.
    """

    __tablename__ = "subject_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    into_subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    status_before: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    merged_by: Mapped[str] = mapped_column(String(64))
    merged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    split_by: Mapped[str | None] = mapped_column(String(64))
    split_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    split_reason: Mapped[str | None] = mapped_column(Text)


class SubjectMergeRecord(Base):
    """A record a merger moved, so the split gives back exactly these."""

    __tablename__ = "subject_merge_records"

    merge_id: Mapped[int] = mapped_column(
        ForeignKey("subject_merges.id"), primary_key=True, autoincrement=False
    )
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id"), primary_key=True, autoincrement=False
    )


# --------------------------------------------------------------------------- rules and screening
# List entries, grades and check certificates (issue 4). Owned by ``bonafides.rules`` and
# ``bonafides.screening``; created by migration ``0003_rules``.


class ListEntry(Base):
    """One stretch of time a subject is on a list, with the rule line and records behind it.

    Rows are never deleted: when a record change or a rule change alters an entry, the old
    row becomes ``superseded`` (with when) and a new ``current`` row is written, so what the
    platform believed on any day stays answerable. The subject has no foreign key: the
    rules service derives every row from records that hold one (migration 0036).
    """

    __tablename__ = "list_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_code: Mapped[str] = mapped_column(String(64))
    line: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(BigId)
    trigger_record_id: Mapped[int] = mapped_column(BigId)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    until_basis: Mapped[str] = mapped_column(String(16))
    record_ids: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    evaluator: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_list_entries_subject_id_status", "subject_id", "status"),
        Index("ix_list_entries_list_code_status", "list_code", "status", "valid_from"),
    )


class Grade(Base):
    """A per-field grade of an organisation as of a day, with the rule line that decided it.

    Derived by the rules service like list entries, so without a foreign key (0036)."""

    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(BigId)
    scheme: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[dt.date] = mapped_column(Date)
    line: Mapped[int] = mapped_column(Integer)
    record_ids: Mapped[str] = mapped_column(Text)
    evaluator: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(32))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("subject_id", "scheme", "as_of"),)


class RuleRun(Base):
    """A full recomputation: which rules (by digest) the current entries come from."""

    __tablename__ = "rule_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    evaluator: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(32))
    rules_digest: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(Json)


class Check(Base):
    """A screening answer as given, under an unguessable certificate id.

    ``answer`` is what the inquirer received; ``digest`` is the sha256 of its canonical JSON,
    so a later verification can tell whether the same question would be answered the same.
    A batch is one check whose lines are in ``check_lines``.
    """

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cert_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    inquirer: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True)
    lines: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[dict[str, Any]] = mapped_column(Json)
    digest: Mapped[str] = mapped_column(String(64))
    evaluator: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(32))
    rules_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The chained event of a batch screening: its lines are its access record, each
    #: screened subject's access log reads them (``store.access``). Null for single
    #: checks (their event names the subject) and for batches screened before 0033,
    #: whose subjects are linked by ``subject_access`` rows.
    event_id: Mapped[int | None] = mapped_column(BigId, index=True)


class CheckLine(Base):
    """One line of a batch check: its status and digest; the answer unless it is clear.

    A listed line's answer names the measures' and list lines' texts it shares with every
    other answer by their digest in ``answer_parts`` (``screening.answer.expand``), and is
    kept as JSON text, not parsed (``jsonb``): nothing queries into it, and a batch writes
    hundreds of thousands (migration 0038).

    Keyed by (check, line) with no foreign key: a batch writes a million of these in the
    transaction that writes their check, and the check's audited ``lines_digest`` pins
    them (migration 0009 says what that saved). Indexed by subject: a batch screening's
    lines are the screened subjects' access record (only lines naming a subject, 0034).
    """

    __tablename__ = "check_lines"
    __table_args__ = (
        Index(
            "ix_check_lines_subject_id",
            "subject_id",
            "check_id",
            "line",
            postgresql_where=text("subject_id IS NOT NULL"),
            sqlite_where=text("subject_id IS NOT NULL"),
        ),
    )

    check_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    line: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code_display: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AnswerPart(Base):
    """A part of batch answers that many lines share, under the digest of its canonical
    JSON text (``screening.answer.part_key``). Content-addressed, so never updated: a
    line names the text it was given, whatever the rules say later."""

    __tablename__ = "answer_parts"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


# --------------------------------------------------------------------------- credit reports
# Issued credit reports (issue 7). Owned by ``bonafides.reports``; created by migration
# ``0005_reports``.


class IssuedReport(Base):
    """A credit report as signed: the exact payload, its signature and what it was drawn from.

    ``payload`` is the canonical JSON that was signed, kept as text so the bytes verified
    later are the bytes signed. The request (view, audience, period, fields, ``as_of``) is
    kept beside it so the same report can be drawn again and ``data_digest`` compared: that
    is how a verifier learns whether the subject's data changed since issue.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    view: Mapped[str] = mapped_column(String(8))
    audience: Mapped[str] = mapped_column(String(16))
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    fields: Mapped[list[str]] = mapped_column(Json)
    as_of: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    data_as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(32))
    verification_code: Mapped[str] = mapped_column(String(16))
    data_digest: Mapped[str] = mapped_column(String(64))


class IssuedFile(Base):
    """A report or certificate PDF as handed out: the SHA-256 of its exact bytes.

    The signed data attached to a PDF says nothing about the pages around it; this digest
    does. A file verifies only if its bytes are one of these, registered under the id its
    attachment names. Every rendering is signed afresh (the PDF signature carries its own
    time), so a document handed out twice has two rows.
    """

    __tablename__ = "issued_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# ----------------------------------------------------------------- accounts and due process
# Accounts, sessions, API keys, special inquiries, objections, credit repair, commitments,
# complaints, attachments and notifications (issue 6). Owned by ``bonafides.security`` and
# ``bonafides.workflows``; created by migration ``0006_accounts``. Workflow rows change state
# in place, but every change also appends an audit event, so their history is in the chain.


class Account(Base):
    """Someone who signs in: an operator, a department officer or inquirer, or a subject.

    A subject account names the subject it claims by lookup key (a keyed hash for persons,
    so no ID number is stored here) and sees its file only once ``bound_at`` is set, which
    an operator does after checking the claimant's identity.
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    subject_key: Mapped[str | None] = mapped_column(String(80), index=True)
    subject_display: Mapped[str | None] = mapped_column(String(18))
    bound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    bound_by: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class LoginSession(Base):
    """A server-side login: the cookie holds a random token, the table only its hash."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiKey(Base):
    """A machine client's key: shown once, stored as a keyed hash, scoped and revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class SpecialInquiry(Base):
    """An application to read restricted records of named subjects, for a purpose and a time."""

    __tablename__ = "special_inquiries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    purpose: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(300))
    subject_ids: Mapped[list[int]] = mapped_column(Json)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str | None] = mapped_column(String(300))


class Objection(Base):
    """A subject's objection to one record, the source department's answer and its deadline."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    source: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    grounds: Mapped[str] = mapped_column(Text)
    prior_status: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[dt.date] = mapped_column(Date)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(12))
    reasons: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_objections_status_due_on", "status", "due_on"),)


class Commitment(Base):
    """A credit commitment (信用承诺) a subject signed: the exact text and its digest."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    audit_hash: Mapped[str] = mapped_column(String(64))
    #: Migration ``0022_l``: a commitment signed when applying for a licence names its
    #: template (``catalogue/data/commitments.yaml``), the licensing department, the
    #: application, and the day its term ends; the department records whether it was kept,
    #: and a breach is the record ``record_id``. A repair's commitment has none of these.
    template: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(32), index=True)
    licence_ref: Mapped[str | None] = mapped_column(String(100))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(12))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(BigId)


class RepairApplication(Base):
    """An application to end the publication of a record early, and the department's decision."""

    __tablename__ = "repair_applications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    source: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"))
    evidence: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[dt.date] = mapped_column(Date)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[str | None] = mapped_column(Text)
    #: Migration ``0008_escalation``: set when an overdue application went to the operators.
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_repair_applications_status_due_on", "status", "due_on"),)


class Complaint(Base):
    """A complaint or a report of a violation, routed to one competent department.

    The informant's name and contact are sealed (AES-GCM, like ID numbers) and shown only to
    that department. A report is information for the department to act on: it never
    creates a record by itself.
    """

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))
    department: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True)
    about: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    informant_account_id: Mapped[int | None] = mapped_column(BigId)
    informant_sealed: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[dt.date] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    #: Migration ``0008_escalation``: set when an overdue complaint went to the operators.
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_complaints_status_due_on", "status", "due_on"),)


class DisclosureRequest(Base):
    """An application for disclosure (依申请公开): someone asks a department for information
    the platform holds, and the department grants, partly grants or refuses it, with the
    reason and the provision it relies on, within its deadline."""

    __tablename__ = "disclosure_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    department: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    asked: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text)
    provision: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_disclosure_requests_status_due_on", "status", "due_on"),)


class Attachment(Base):
    """A file attached to an objection, repair application or complaint, kept under data_dir."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_kind: Mapped[str] = mapped_column(String(12))
    owner_id: Mapped[int] = mapped_column(BigId)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_attachments_owner", "owner_kind", "owner_id"),)


class Notification(Base):
    """A message to an account; e-mailed later when SMTP is configured (an outbox)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    object_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    mail_status: Mapped[str] = mapped_column(String(12))
    mailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    mail_error: Mapped[str | None] = mapped_column(String(300))


class ReadingAlert(Base):
    """An account or key that read far more non-public files in a day than it usually does
    (plan §67): one row per reader and office day, so a rescan never alerts twice."""

    __tablename__ = "reading_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    reads: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)
    threshold: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("actor", "day", name="uq_reading_alerts_actor_day"),)


# --------------------------------------------------------------------------- data exchange
# Downstream consumers of the change feed and exports (issue 16); created by migration
# ``0019_consumers``.


class Consumer(Base):
    """A downstream consumer (a republishing site, an agency) and how far it has
    acknowledged the feed's tombstones: what it still holds that was repaired or revoked.

    ``token_hash`` is the SHA-256 of the token the consumer acknowledges with; the token is
    shown once, at registration.
    """

    __tablename__ = "consumers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    contact: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64))
    acked_cursor: Mapped[int] = mapped_column(BigId, default=0)
    acked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(64))


# --------------------------------------------------------------------------- change feed
# Events of the change feed, watchlists and webhook deliveries (issue 16). Owned by
# ``bonafides.store.feed`` and ``bonafides.exchange``; created by migration ``0021_feed``.


class FeedEvent(Base):
    """One change a consumer may see, written in the transaction of the change itself.

    The id is the cursor: ids only grow, so "after N" always means the same events, and a
    reader that stopped at N resumes there. ``public`` is decided when the event is
    written (the public rule on the state it describes; for a removal, whether the public
    was ever shown the thing removed), so a public read is one indexed range scan.
    ``payload`` holds what a copy needs to apply the change; a reader strips from it what
    its audience may not see (``bonafides.exchange.feed``).
    """

    __tablename__ = "feed_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    origin: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True)
    subject_code: Mapped[str | None] = mapped_column(String(18))
    record_id: Mapped[int | None] = mapped_column(BigId, index=True)
    record_version: Mapped[int | None] = mapped_column(Integer)
    list_entry_id: Mapped[int | None] = mapped_column(BigId, index=True)
    source: Mapped[str | None] = mapped_column(String(32))
    disclosure: Mapped[str] = mapped_column(String(16))
    is_public: Mapped[bool] = mapped_column(Boolean)
    tombstone: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    #: The payload as the public reads it, JSON text cut by the store when a public
    #: event is written (``store.feed.fill_public_payloads``): the public feed passes it
    #: on without decoding it. Empty for events the public does not see.
    public_payload: Mapped[str | None] = mapped_column(Text)
    #: The event's head as JSON text, every key after ``cursor`` up to ``"payload":``
    #: (``store.feed.head_text``), written with the event: a read only puts the id
    #: before it and the payload after it. Empty where the reader builds the head itself.
    head_text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_feed_events_is_public_id", "is_public", "id"),)


class SyncSource(Base):
    """A peer instance this one pulls from (``bonafides sync``): how far it got, and the
    peer's signing key, pinned on first use, that every batch must verify under.

    The cursor moves in the transaction that applies the batch, so a sync killed at any
    moment resumes at the first event it had not applied.
    """

    __tablename__ = "sync_sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    origin: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    key_pem: Mapped[str] = mapped_column(Text)
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    applied: Mapped[int] = mapped_column(BigId, default=0)
    skipped: Mapped[int] = mapped_column(BigId, default=0)
    conflicts: Mapped[int] = mapped_column(BigId, default=0)
    synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Watchlist(Base):
    """An enterprise's or bank's counterparties and where to tell it their status changed.

    Every delivery is signed with HMAC-SHA256 under a secret shown once, when the
    watchlist is made; the store keeps only the random ``salt`` the secret is derived from
    with the platform's master secret (``bonafides.exchange.webhooks.secret_of``), so a
    copy of the database alone cannot forge deliveries.
    """

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(500))
    salt: Mapped[str] = mapped_column(String(32))
    #: The last feed event matched against the codes: events after it are still to match.
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WatchedSubject(Base):
    """One code on a watchlist, by the subject's lookup key (a keyed hash for a person)."""

    __tablename__ = "watched_subjects"

    watchlist_id: Mapped[int] = mapped_column(
        ForeignKey("watchlists.id"), primary_key=True, autoincrement=False
    )
    subject_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    code_display: Mapped[str] = mapped_column(String(18))

    __table_args__ = (Index("ix_watched_subjects_subject_key", "subject_key"),)


class WebhookDelivery(Base):
    """One feed event owed to one watchlist's URL: its attempts, the next one, the outcome.

    ``status`` is ``pending`` until delivered or ``dead`` after the last attempt failed;
    the (watchlist, event) pair is unique, so matching an event twice owes it once.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"))
    event_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("watchlist_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_at", "status", "next_at"),
    )


class JobLease(Base):
    """Who runs a scheduled job now, and when it is next due: one row per job name.

    A worker takes the row with one conditional UPDATE (free or expired, and due), so two
    workers never run the job at once; a worker that dies holding it loses it at
    ``expires_at``.
    """

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    run_id: Mapped[int | None] = mapped_column(BigId)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """One run of a scheduled job: its worker, start and end, outcome and what it did."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: ``running``, ``ok`` or ``failed``.
    outcome: Mapped[str] = mapped_column(String(12))
    counts: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_job_runs_name_id", "name", "id"),)


class MatchKey(Base):
    """One blocking key of one name of a registered organisation, for name matching.

    The keys bonafides-names finds candidates by (``bonafides.matching.register``): the
    trade name's core, its sound, each one-character mask, its first two characters, and
    the legacy registration number and organisation code, the core with look-alike
    characters folded. Kept in the store so a process reads only the postings of the keys
    its rows have, never the whole register; the index holds the postings themselves, so
    reading them touches no table page (at a million subjects a row's lookup was otherwise
    a random heap read per posting, or a sequential scan of ten million keys).
    ``variant`` is the name's place among the subject's names (-1 for an identifier).
    Derived data: rebuilt from subjects and names by ``bonafides.matching.keys.sync``.
    """

    __tablename__ = "match_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[int] = mapped_column(SmallInteger)
    key: Mapped[str] = mapped_column(Text)
    subject_id: Mapped[int] = mapped_column(BigId, index=True)
    variant: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (Index("ix_match_keys_postings", "key", "kind", "subject_id", "variant"),)


class MatchEntry(Base):
    """A keyed organisation as the matcher scores it: its code, names, register details
    and every name already parsed (``bonafides.matching.packed``), one JSON text.

    Written by ``bonafides.matching.keys.sync`` with the subject's keys, so a candidate
    the keys find is one primary-key read, not a join of subjects, register rows and
    names followed by parsing every name. Derived data, like ``match_keys``.
    """

    __tablename__ = "match_entries"

    subject_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)


class MatchKeyState(Base):
    """How far ``match_keys`` has read: the newest subject, name and register event keyed.

    A subject created, named or changed by the register after these is keyed by the
    matcher from the subject itself until the next sync.
    """

    __tablename__ = "match_key_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subjects_upto: Mapped[int] = mapped_column(BigInteger)
    names_upto: Mapped[int] = mapped_column(BigInteger)
    events_upto: Mapped[int] = mapped_column(BigInteger)
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
