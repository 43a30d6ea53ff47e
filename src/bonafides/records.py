"""Records as the domain sees them: one decision about one subject, and its states.

The store keeps these; ingest, workflows and rules produce and read them. Nothing here
does I/O, so the same definitions serve the per-subject path and batch jobs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bonafides.catalogue.models import ORGANISATION_KINDS, SubjectKind

__all__ = [
    "EFFECTIVE_STATUSES",
    "ENTRY_CURRENT",
    "ENTRY_SUPERSEDED",
    "ORGANISATION_KINDS",
    "RecordInput",
    "RecordStatus",
    "SubjectKind",
    "SubjectRef",
    "canonical_json",
    "digest",
    "kind_of_uscc",
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
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


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
