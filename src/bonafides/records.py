"""Records as the domain sees them: one decision about one subject, and its states.

The store keeps these; ingest, workflows and rules produce and read them. Nothing here
does I/O, so the same definitions serve the per-subject path and batch jobs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from bonafides.catalogue.models import ORGANISATION_KINDS, SubjectKind

__all__ = [
    "EFFECTIVE_STATUSES",
    "ENTRY_CURRENT",
    "ENTRY_SUPERSEDED",
    "ORGANISATION_KINDS",
    "RecordColumns",
    "RecordInput",
    "RecordStatus",
    "SubjectKind",
    "SubjectRef",
    "canonical_json",
    "digest",
    "kind_of_uscc",
    "stored_json",
]


class RecordStatus(StrEnum):
    ACTIVE = "active"
    UNDER_OBJECTION = "under_objection"
    CORRECTED = "corrected"
    REVOKED = "revoked"
    REPAIRED = "repaired"
    EXPIRED = "expired"


#: A list entry in force, and one that a later evaluation of the rules replaced
#: (``list_entries.status``): the store's queries and the rules engine share them.
ENTRY_CURRENT = "current"
ENTRY_SUPERSEDED = "superseded"

#: States in which a record still counts for lists, measures and publication.
EFFECTIVE_STATUSES = frozenset(
    {RecordStatus.ACTIVE, RecordStatus.UNDER_OBJECTION, RecordStatus.CORRECTED}
)


def kind_of_uscc(authority: str, institution_type: str) -> SubjectKind:
    """What kind of subject a USCC names, from its registration authority and type.

    Market regulation (9) registers enterprises (1), individual businesses (2) and
    farmers' cooperatives (3); the staffing authority (1) registers organs (1) and
    public institutions; everything else is another kind of organisation.
    """
    if authority == "9":
        return {"1": SubjectKind.LEGAL_PERSON, "2": SubjectKind.INDIVIDUAL_BUSINESS}.get(
            institution_type, SubjectKind.OTHER_ORG
        )
    if authority == "1" and institution_type == "1":
        return SubjectKind.GOVERNMENT_BODY
    return SubjectKind.OTHER_ORG


def canonical_json(value: Any) -> str:
    """One spelling per value, so digests and signatures are reproducible."""
    if type(value) is str:
        # What ``json.dumps`` itself returns for a string, without building an encoder.
        return encode_basestring(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def stored_json(value: Any) -> str:
    """A record's content or raw submission as the store keeps it (the ORM's spelling)."""
    if type(value) is str:
        return encode_basestring_ascii(value)
    return json.dumps(value)


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Who a record is about, as the submitting department named them."""

    code: str
    kind: SubjectKind
    name: str
    name_en: str | None = None
    region: str | None = None
    adult_from: dt.date | None = None


@dataclass(frozen=True, slots=True)
class RecordInput:
    """A validated, normalised decision ready to be stored.

    ``raw`` keeps the values exactly as submitted beside the normalised ``content``
    (provenance on every value).
    """

    type_code: str
    source: str
    decision_no: str
    decision_date: dt.date
    subject: SubjectRef
    content: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None
    legal_basis: str | None = None
    status: RecordStatus = RecordStatus.ACTIVE
    published_until: dt.date | None = None
    retention_until: dt.date | None = None
    #: When the platform received it; None means now. Set only when loading a
    #: backlog whose receipt times are known, so timeliness stays measurable.
    received_at: dt.datetime | None = None
    #: The type lets one decision number name several subjects (court cases), so the
    #: subject is part of what identifies this record.
    shared_decision_no: bool = False

    @property
    def content_digest(self) -> str:
        """What decides "unchanged" on resubmission: the substance, not the raw spelling.

        The status is left out: a revocation or repair is a later decision, and
        resubmitting the original file must not undo it.
        """
        return digest(
            {
                "type": self.type_code,
                "subject": self.subject.code,
                "decision_date": self.decision_date.isoformat(),
                "severity": self.severity,
                "legal_basis": self.legal_basis,
                "content": self.content,
            }
        )


@dataclass(slots=True)
class RecordColumns:
    """A batch of validated decisions as columns, each already spelled as stored.

    What a writer needs of a ``RecordInput`` (its key, subject, dates, the content and raw
    submission as stored JSON, the content digest) without a dict and three JSON
    encodings per row: bulk ingest builds these per column (``ingest.columns``); other
    writers pass ``RecordInput`` and ``from_inputs`` spells them here. ``record`` gives a
    row back as a ``RecordInput`` (the JSON decoded) where one row needs handling alone.
    """

    type_code: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    decision_no: list[str] = field(default_factory=list)
    decision_date: list[dt.date] = field(default_factory=list)
    subject: list[SubjectRef] = field(default_factory=list)
    severity: list[str | None] = field(default_factory=list)
    legal_basis: list[str | None] = field(default_factory=list)
    status: list[RecordStatus] = field(default_factory=list)
    published_until: list[dt.date | None] = field(default_factory=list)
    retention_until: list[dt.date | None] = field(default_factory=list)
    received_at: list[dt.datetime | None] = field(default_factory=list)
    shared_decision_no: list[bool] = field(default_factory=list)
    #: ``stored_json`` of the content and of the raw submission.
    content: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    #: ``RecordInput.content_digest`` of each row.
    digest: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.decision_no)

    @classmethod
    def from_inputs(cls, items: Sequence[RecordInput]) -> RecordColumns:
        columns = cls()
        for item in items:
            columns.append_input(item)
        return columns

    def append_input(self, item: RecordInput) -> None:
        self._append(item, stored_json(item.content), stored_json(item.raw), item.content_digest)

    def append_row(self, other: RecordColumns, i: int) -> None:
        """Row ``i`` of ``other`` at the end of this batch."""
        for name in self.__slots__:
            getattr(self, name).append(getattr(other, name)[i])

    def record(self, i: int) -> RecordInput:
        return RecordInput(
            type_code=self.type_code[i],
            source=self.source[i],
            decision_no=self.decision_no[i],
            decision_date=self.decision_date[i],
            subject=self.subject[i],
            content=json.loads(self.content[i]),
            raw=json.loads(self.raw[i]),
            severity=self.severity[i],
            legal_basis=self.legal_basis[i],
            status=self.status[i],
            published_until=self.published_until[i],
            retention_until=self.retention_until[i],
            received_at=self.received_at[i],
            shared_decision_no=self.shared_decision_no[i],
        )

    def _append(self, item: RecordInput, content: str, raw: str, digest: str) -> None:
        self.type_code.append(item.type_code)
        self.source.append(item.source)
        self.decision_no.append(item.decision_no)
        self.decision_date.append(item.decision_date)
        self.subject.append(item.subject)
        self.severity.append(item.severity)
        self.legal_basis.append(item.legal_basis)
        self.status.append(item.status)
        self.published_until.append(item.published_until)
        self.retention_until.append(item.retention_until)
        self.received_at.append(item.received_at)
        self.shared_decision_no.append(item.shared_decision_no)
        self.content.append(content)
        self.raw.append(raw)
        self.digest.append(digest)
