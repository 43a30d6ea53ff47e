"""How workflows change records: always through ``store.records``, never in place.

Status changes go through ``change_status`` (a new version, list entries refreshed in the
same transaction). A correction goes through ``write_records`` as an amendment by the
source, so it is versioned, digested and audited exactly like a resubmitted decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from bonafides import normalise
from bonafides.catalogue import Catalogue, ContentField, FieldType
from bonafides.records import RecordInput, RecordStatus, SubjectKind, SubjectRef
from bonafides.rules.records import change_status, write_records
from bonafides.store.records import Outcome
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Record, Subject
from bonafides.workflows.common import InvalidError

#: What identifies a decision and its subject: a correction never changes these.
IDENTITY_FIELDS = frozenset({"subject_name", "decision_no", "decision_date"})


def set_status(
    session: Session,
    record: Record,
    status: RecordStatus,
    *,
    actor: str,
    reason: str,
    at: dt.datetime | None = None,
) -> Record:
    return change_status(
        session,
        source=record.source,
        decision_no=record.decision_no,
        party=record.party,
        status=status,
        actor=actor,
        reason=reason[:200],
        at=at,
    )


def _parse(spec: ContentField, raw: Any) -> Any:
    if not isinstance(raw, str | int | float | bool):
        raise InvalidError(f"{spec.name}: give the value as text")
    text = str(raw)
    try:
        if spec.type in (FieldType.STRING, FieldType.TEXT):
            value = normalise.text(text).value
            if spec.max_length is not None and len(value) > spec.max_length:
                raise InvalidError(f"{spec.name}: at most {spec.max_length} characters")
            return value
        if spec.type is FieldType.DATE:
            return normalise.date(text).value.isoformat()
        if spec.type is FieldType.DECIMAL:
            return str(normalise.decimal(text).value)
        if spec.type is FieldType.INTEGER:
            return normalise.integer(text).value
        if spec.type is FieldType.BOOLEAN:
            return normalise.boolean(text).value
        if spec.type is FieldType.ENUM and not spec.multiple:
            chosen = spec.enum_lookup().get(text.strip())
            if chosen is None:
                raise InvalidError(f"{spec.name}: {text!r} is not one of its values")
            return chosen
    except normalise.BadValueError as exc:
        raise InvalidError(f"{spec.name}: {exc}") from None
    raise InvalidError(f"{spec.name}: this field cannot be corrected here; amend by submission")


def corrected_content(
    catalogue: Catalogue, record: Record, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The record's content with ``changes`` applied, each value checked against its field.

    Identity fields, subject codes and fields stricter than the record (ID numbers) are
    refused: those are sealed at ingest and change only by a new submission.
    """
    if not changes:
        raise InvalidError("a correction names at least one field and its corrected value")
    rtype = catalogue.type(record.type_code)
    content = dict(record.content)
    for name, raw in changes.items():
        try:
            spec = rtype.content_field(name)
        except KeyError:
            raise InvalidError(f"{record.type_code} has no field {name!r}") from None
        if (
            name in IDENTITY_FIELDS
            or name in rtype.subject_code_fields
            or spec.disclosure is not None
            or spec.type in (FieldType.USCC, FieldType.CODE)
        ):
            raise InvalidError(f"{name}: this field cannot be corrected here; amend by submission")
        content[name] = _parse(spec, raw)
    return content


def correct(
    session: Session,
    catalogue: Catalogue,
    keys: SubjectKeys,
    record: Record,
    changes: Mapping[str, Any],
    *,
    actor: str,
    reason: str,
) -> Record:
    """A new version with corrected content, then the status ``corrected``."""
    content = corrected_content(catalogue, record, changes)
    subject = session.get(Subject, record.subject_id)
    assert subject is not None
    person = subject.kind == SubjectKind.NATURAL_PERSON
    if person:
        assert subject.code_cipher is not None
        code = keys.vault.decrypt(subject.code_cipher)
    else:
        code = subject.code_display
    item = RecordInput(
        type_code=record.type_code,
        source=record.source,
        decision_no=record.decision_no,
        decision_date=record.decision_date,
        subject=SubjectRef(
            code=code,
            kind=SubjectKind(subject.kind),
            name=subject.name,
            name_en=subject.name_en,
            region=subject.region,
            adult_from=subject.adult_from,
        ),
        content=content,
        raw={"corrected": {k: str(v) for k, v in changes.items()}, "reason": reason},
        severity=record.severity,
        legal_basis=record.legal_basis,
        status=RecordStatus(record.status),
        published_until=record.published_until,
        retention_until=record.retention_until,
        shared_decision_no=catalogue.type(record.type_code).shared_decision_no,
    )
    result = write_records(session, keys, [item], actor=actor, amend_reason=reason[:200])
    if result.count(Outcome.AMENDED) != 1:
        raise InvalidError("the correction changes nothing in the record")
    session.refresh(record)
    return set_status(session, record, RecordStatus.CORRECTED, actor=actor, reason=reason)
