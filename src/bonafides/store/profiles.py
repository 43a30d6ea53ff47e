"""A subject's file as one audience may see it: identity, names and records by field."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bonafides.codes import region_name
from bonafides.disclosure import Audience, is_minor, visible
from bonafides.store.subjects import SubjectKeys, find
from bonafides.store.tables import Record, RecordType, Subject, SubjectName


@dataclass(frozen=True)
class RecordView:
    id: int
    type_code: str
    type_title_zh: str
    type_title_en: str
    field: str
    polarity: str
    disclosure: str
    source: str
    decision_no: str
    decision_date: dt.date
    received_at: dt.datetime
    status: str
    severity: str | None
    legal_basis: str | None
    published_until: dt.date | None
    version: int
    content: dict[str, Any]


@dataclass(frozen=True)
class Profile:
    subject_id: int
    code: str
    kind: str
    name: str
    name_en: str | None
    former_names: list[str]
    region: str | None
    region_name: str | None
    status: str
    minor: bool
    audience: Audience
    as_of: dt.date
    records: list[RecordView] = field(default_factory=list)

    def by_field(self) -> dict[str, list[RecordView]]:
        groups: dict[str, list[RecordView]] = defaultdict(list)
        for record in self.records:
            groups[record.field].append(record)
        return dict(sorted(groups.items()))


def load_profile(
    session: Session, keys: SubjectKeys, code: str, *, audience: Audience, today: dt.date
) -> Profile | None:
    """One query for the subject, one for its names, one for its records."""
    subject = find(session, keys, code)
    if subject is None:
        return None
    return profile_of(session, subject, audience=audience, today=today)


_VIEW_COLUMNS = (
    Record.id,
    Record.type_code,
    RecordType.title_zh.label("type_title_zh"),
    RecordType.title_en.label("type_title_en"),
    RecordType.field,
    RecordType.polarity,
    RecordType.disclosure,
    Record.source,
    Record.decision_no,
    Record.decision_date,
    Record.received_at,
    Record.status,
    Record.severity,
    Record.legal_basis,
    Record.published_until,
    Record.version,
    Record.content,
)


# Built once: on a public profile, building the statements cost about as much as a
# round trip to run them.
_NAMES = (
    select(SubjectName.name, SubjectName.lang, SubjectName.current)
    .where(SubjectName.subject_id == bindparam("subject_id"))
    .order_by(SubjectName.id)
)
_RECORDS = (
    select(*_VIEW_COLUMNS)
    .join(RecordType, RecordType.code == Record.type_code)
    .where(Record.subject_id == bindparam("subject_id"))
    .order_by(Record.decision_date.desc(), Record.id.desc())
)


def profile_of(
    session: Session, subject: Subject, *, audience: Audience, today: dt.date
) -> Profile:
    names = session.execute(_NAMES, {"subject_id": subject.id}).all()
    # Columns, not entities: a Record entity carries columns no view shows, and a
    # RecordType entity its whole definition, decoded from JSON once per record row.
    rows = session.execute(_RECORDS, {"subject_id": subject.id}).all()
    records = [
        RecordView(**row._asdict())
        for row in rows
        if visible(
            audience,
            disclosure=row.disclosure,
            status=row.status,
            published_until=row.published_until,
            adult_from=subject.adult_from,
            today=today,
        )
    ]
    return Profile(
        subject_id=subject.id,
        code=subject.code_display,
        kind=subject.kind,
        name=subject.name,
        name_en=subject.name_en,
        former_names=[n for n, lang, current in names if not current and lang == "zh"],
        region=subject.region,
        region_name=region_name(subject.region) if subject.region else None,
        status=subject.status,
        minor=is_minor(subject.adult_from, today),
        audience=audience,
        as_of=today,
        records=records,
    )
