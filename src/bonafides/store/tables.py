"""The relational schema. Alembic migrations under ``migrations/`` create it.

Tables that grow with subjects carry ``subject_id`` so a sharded PostgreSQL (Citus)
can distribute them on it; nothing is updated in place without a version row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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

    subject: Mapped[Subject] = relationship()
    versions: Mapped[list[RecordVersion]] = relationship(
        back_populates="record", order_by="RecordVersion.version"
    )

    __table_args__ = (
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

    __table_args__ = (UniqueConstraint("record_id", "version"),)


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


class AuditHead(Base):
    """A single row naming the last event: updating it serialises appends on every store."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))


class IngestBatch(Base):
    """One submitted file or API batch, with the position reached so a killed run resumes.

    A run commits whole chunks together with ``next_row``; rerunning the same file
    (same department, type and content hash) continues from there.
    """

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(ForeignKey("departments.code"))
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

    __table_args__ = (UniqueConstraint("source", "type_code", "decision_no"),)
