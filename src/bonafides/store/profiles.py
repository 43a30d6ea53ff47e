"""A subject's file as one audience may see it: identity, names and records by field."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
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


def profile_of(
    session: Session, subject: Subject, *, audience: Audience, today: dt.date
) -> Profile:
    names = session.execute(
        select(SubjectName.name, SubjectName.lang, SubjectName.current)
        .where(SubjectName.subject_id == subject.id)
        .order_by(SubjectName.id)
    ).all()
    rows = session.execute(
        select(Record, RecordType)
        .join(RecordType, RecordType.code == Record.type_code)
        .where(Record.subject_id == subject.id)
        .order_by(Record.decision_date.desc(), Record.id.desc())
    ).all()
    records = [
        RecordView(
            id=r.id,
            type_code=r.type_code,
            type_title_zh=t.title_zh,
            type_title_en=t.title_en,
            field=t.field,
            polarity=t.polarity,
            disclosure=t.disclosure,
            source=r.source,
            decision_no=r.decision_no,
            decision_date=r.decision_date,
            received_at=r.received_at,
            status=r.status,
            severity=r.severity,
            legal_basis=r.legal_basis,
            published_until=r.published_until,
            version=r.version,
            content=r.content,
        )
        for r, t in rows
        if visible(
            audience,
            disclosure=t.disclosure,
            status=r.status,
            published_until=r.published_until,
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
