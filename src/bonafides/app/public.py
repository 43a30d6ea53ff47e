"""What the public may see, shaped once for the JSON API and the portal alike.

Both call these functions, so a record hidden from one is hidden from the other
(principle 5): only public-class records inside their publication period, never a
decision taken while the person was a minor (``bonafides.disclosure``), content fields
stricter than the record's class left out, and a natural person with nothing public is
answered exactly like an unknown code.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from pydantic_core import to_json
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.codes import CodeError, ResidentId, Uscc, parse_subject_code
from bonafides.context import Context
from bonafides.disclosure import Audience, subject_visible
from bonafides.errors import InvalidCodeError
from bonafides.records import RecordStatus, SubjectKind
from bonafides.store.disclosure import record_is_counted, record_is_public
from bonafides.store.profiles import (
    Profile,
    RecordView,
    profile_from_rows,
    profile_of,
    profile_read,
)
from bonafides.store.reads import Reader
from bonafides.store.search import PERSON_REF, find_by_ref, subject_ref
from bonafides.store.statistics import missing_years, publication_delay
from bonafides.store.tables import Record, RecordType, Subject
from bonafides.workdays import load_calendar

T = TypeVar("T")


def office_today(ctx: Context) -> dt.date:
    """Publication periods end on the credit office's calendar day, by the one clock."""
    return ctx.today()


# --------------------------------------------------------------------------- subjects


class PublicRecord(BaseModel):
    id: int
    type: str
    title_zh: str
    title_en: str
    field: str
    field_zh: str
    field_en: str
    polarity: str
    source: str
    source_zh: str
    source_en: str
    decision_no: str
    decision_date: dt.date
    status: str
    under_objection: bool = Field(
        description="An objection to this record is open; it stays published meanwhile."
    )
    severity: str | None
    legal_basis: str | None
    published_until: dt.date | None
    content: dict[str, Any] = Field(description="Content fields whose disclosure is public.")


class PublicSubject(BaseModel):
    ref: str = Field(description="What links to this page: the USCC, or a person's opaque key.")
    code: str = Field(description="USCC, or a resident ID masked (principle 5).")
    kind: str
    name: str
    name_en: str | None
    former_names: list[str]
    region: str | None
    region_name: str | None
    status: str
    as_of: dt.date
    records: list[PublicRecord]


def _public_content(catalogue: Catalogue, record: RecordView) -> dict[str, Any]:
    """Content fields of the record's schema whose own disclosure is not stricter."""
    content = record.content
    return {
        name: content[name] for name in catalogue.public_fields(record.type_code) if name in content
    }


def _public_record(catalogue: Catalogue, record: RecordView) -> dict[str, Any]:
    """A ``PublicRecord`` as plain data: a profile validates its records all at once,
    which pydantic does in one pass many times faster than model by model."""
    try:
        field = catalogue.field(record.field)
        field_zh, field_en = field.title_zh, field.title_en
    except KeyError:
        field_zh = field_en = record.field
    try:
        dept = catalogue.department(record.source)
        source_zh, source_en = dept.name_zh, dept.name_en
    except KeyError:
        source_zh = source_en = record.source
    basis = record.legal_basis
    if not basis and catalogue.has_type(record.type_code):
        basis = "；".join(catalogue.type(record.type_code).legal_basis) or None
    return {
        "id": record.id,
        "type": record.type_code,
        "title_zh": record.type_title_zh,
        "title_en": record.type_title_en,
        "field": record.field,
        "field_zh": field_zh,
        "field_en": field_en,
        "polarity": record.polarity,
        "source": record.source,
        "source_zh": source_zh,
        "source_en": source_en,
        "decision_no": record.decision_no,
        "decision_date": record.decision_date,
        "status": record.status,
        "under_objection": record.status == RecordStatus.UNDER_OBJECTION,
        "severity": record.severity,
        "legal_basis": basis,
        "published_until": record.published_until,
        "content": _public_content(catalogue, record),
    }


def _shown(profile: Profile) -> bool:
    return subject_visible(profile.kind, records_shown=bool(profile.records))


def _parsed(code: str) -> Uscc | ResidentId | None:
    """The code parsed, or None for a person's ref; InvalidCodeError for a bad code."""
    if PERSON_REF.fullmatch(code):
        return None
    try:
        return parse_subject_code(code)
    except CodeError as exc:
        raise InvalidCodeError(exc.reason) from exc


def _public_data(ctx: Context, ref: str, profile: Profile) -> dict[str, Any] | None:
    """A ``PublicSubject`` as plain data, its fields in the model's order."""
    if not _shown(profile):
        return None
    return {
        "ref": ref,
        **profile.identity(),
        "as_of": profile.as_of,
        "records": [_public_record(ctx.catalogue, r) for r in profile.records],
    }


def _public(ctx: Context, ref: str, profile: Profile) -> PublicSubject | None:
    data = _public_data(ctx, ref, profile)
    return None if data is None else PublicSubject.model_validate(data)


def public_subject(
    session: Session, ctx: Context, code: str, *, today: dt.date
) -> PublicSubject | None:
    """The public file of ``code`` (or of a search hit's ``ref``), or None when the public
    may see none."""
    _parsed(code)
    subject = find_by_ref(session, ctx.keys, code)
    if subject is None:
        return None
    profile = profile_of(session, subject, audience=Audience.PUBLIC, today=today)
    return _public(ctx, subject_ref(subject), profile)


async def read_public_subject_json(
    reader: Reader, ctx: Context, code: str, *, today: dt.date
) -> bytes | None:
    """``public_subject`` for the event loop, in one round trip, as the JSON the API sends.

    Serialised from plain data: validating it into the model and FastAPI serialising
    the model again took 57 us for ten records, against 19 for this, on the API's
    busiest request and for data the store has already typed. Tests hold the bytes
    equal to the model's own serialisation.
    """
    parsed = _parsed(code)
    key = code if parsed is None else ctx.keys.key_for_parsed(parsed)
    rows = await reader.fetch(profile_read(key))
    found = profile_from_rows(rows, audience=Audience.PUBLIC, today=today)
    if found is None:
        return None
    subject, profile = found
    if parsed is None and subject.kind != SubjectKind.NATURAL_PERSON:
        return None
    data = _public_data(ctx, subject_ref(subject), profile)
    return None if data is None else to_json(data)


# --------------------------------------------------------------------------- figures


class Headline(BaseModel):
    subjects: int
    public_records: int = Field(description="Records published today.")
    departments: int
    record_types: int


class FieldMonth(BaseModel):
    field: str
    month: str = Field(description="YYYY-MM of the decision date.")
    records: int


class DepartmentDelay(BaseModel):
    source: str
    source_zh: str
    source_en: str
    records: int
    within_limit: int
    share_within: float
    median_days: int
    p90_days: int
    max_days: int
    uncounted: int = Field(
        0,
        description="Records not counted: their delay spans a year the working-day "
        "calendar does not cover yet (see `missing_years`).",
    )


class Statistics(BaseModel):
    as_of: dt.date
    months: list[str]
    fields: dict[str, tuple[str, str]] = Field(description="Field code to (Chinese, English).")
    headline: Headline
    by_field_month: list[FieldMonth] = Field(
        description="Decisions of public record types per credit field and month."
    )
    limit_days: int = Field(description="Working days allowed from decision to publication.")
    publication_delay: list[DepartmentDelay]
    missing_years: list[int] = Field(
        default_factory=list,
        description="Years whose holiday arrangement the calendar lacks; delays into them "
        "are not counted until the operator loads it.",
    )


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    """The first days of the ``months`` months up to ``today``'s, oldest first."""
    index = today.year * 12 + today.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def headline(session: Session, catalogue: Catalogue, *, today: dt.date) -> Headline:
    subjects = session.scalar(select(func.count()).select_from(Subject)) or 0
    published = (
        session.scalar(
            select(func.count())
            .select_from(Record)
            .join(RecordType, RecordType.code == Record.type_code)
            .join(Subject, Subject.id == Record.subject_id)
            .where(record_is_public(today))
        )
        or 0
    )
    return Headline(
        subjects=subjects,
        public_records=published,
        departments=len(catalogue.departments),
        record_types=len(catalogue.types),
    )


def statistics(session: Session, ctx: Context, *, today: dt.date, months: int = 12) -> Statistics:
    """Headline counts, decisions per field and month, and the publicity delay per department.

    Only aggregates: no figure names a subject, and the monthly counts cover the
    decisions ``bonafides.disclosure.COUNTED_RULE`` counts (public types, never a minor's).
    """
    starts = month_starts(today, months)
    since = starts[0]
    if session.get_bind().dialect.name == "sqlite":
        month = func.strftime("%Y-%m", Record.decision_date)
    else:
        month = func.to_char(Record.decision_date, "YYYY-MM")
    rows = session.execute(
        select(RecordType.field, month.label("month"), func.count())
        .join(RecordType, RecordType.code == Record.type_code)
        .join(Subject, Subject.id == Record.subject_id)
        .where(
            record_is_counted(today),
            Record.decision_date >= since,
            Record.decision_date <= today,
        )
        .group_by(RecordType.field, month)
        .order_by(month, RecordType.field)
    ).all()
    catalogue = ctx.catalogue
    dual = [t.code for t in catalogue.types if t.dual_publicity]
    limit_days = ctx.settings.publicity_working_days
    delays = publication_delay(
        session,
        load_calendar(ctx.settings.holidays),
        limit_days=limit_days,
        type_codes=dual,
        since=since,
    )
    departments = {d.code: d for d in catalogue.departments}
    field_names = {f.code: (f.title_zh, f.title_en) for f in catalogue.fields}
    return Statistics(
        as_of=today,
        months=[f"{m.year:04d}-{m.month:02d}" for m in starts],
        fields=field_names,
        headline=headline(session, catalogue, today=today),
        by_field_month=[FieldMonth(field=f, month=str(m), records=n) for f, m, n in rows],
        limit_days=limit_days,
        publication_delay=[
            DepartmentDelay(
                source=d.source,
                source_zh=departments[d.source].name_zh if d.source in departments else d.source,
                source_en=departments[d.source].name_en if d.source in departments else d.source,
                records=d.records,
                within_limit=d.within_limit,
                share_within=round(d.share_within, 4),
                median_days=d.median_days,
                p90_days=d.p90_days,
                max_days=d.max_days,
                uncounted=d.uncounted,
            )
            for d in delays
        ],
        missing_years=list(missing_years(delays)),
    )


@dataclass
class FigureCache:
    """Aggregates over every record are too dear to compute per page view.

    A figure is recomputed at most once per ``ttl`` seconds; the lock keeps two
    workers' threads from computing the same figure at once.
    """

    ttl: float = 300.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self._lock:
            held = self._values.get(key)
            if held is not None and time.monotonic() - held[0] < self.ttl:
                value: T = held[1]
                return value
            fresh = compute()
            self._values[key] = (time.monotonic(), fresh)
            return fresh
