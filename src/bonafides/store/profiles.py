"""A subject's file as one audience may see it: identity, names and records by field."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import JSON, ColumnElement, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bonafides.codes import region_name
from bonafides.disclosure import Audience, is_minor, visible
from bonafides.store.reads import Read, Row
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
    #: The last day the record is kept as credit information (``disclosure.retained``).
    retention_until: dt.date | None = None


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

    def identity(self) -> dict[str, Any]:
        """Who the subject is, as every rendering of a profile begins."""
        return {
            "code": self.code,
            "kind": self.kind,
            "name": self.name,
            "name_en": self.name_en,
            "former_names": self.former_names,
            "region": self.region,
            "region_name": self.region_name,
            "status": self.status,
        }

    def by_field(self) -> dict[str, list[RecordView]]:
        groups: dict[str, list[RecordView]] = defaultdict(list)
        for record in self.records:
            groups[record.field].append(record)
        return dict(sorted(groups.items()))


class SubjectIdentity(Protocol):
    """Who a subject is, as a search hit or a profile shows it: an ORM ``Subject``, a
    ``SubjectRow``, or a row of a statement that selects these columns."""

    @property
    def id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def code_display(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def name_en(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def adult_from(self) -> dt.date | None: ...


#: ``SubjectIdentity`` as columns, in that order.
IDENTITY_COLUMNS = (
    Subject.id,
    Subject.key,
    Subject.kind,
    Subject.code_display,
    Subject.name,
    Subject.name_en,
    Subject.region,
    Subject.adult_from,
)


class SubjectLike(SubjectIdentity, Protocol):
    """What a profile needs of a subject besides who it is."""

    @property
    def status(self) -> str: ...


def load_profile(
    session: Session, keys: SubjectKeys, code: str, *, audience: Audience, today: dt.date
) -> Profile | None:
    """One query for the subject, one for its names, one for its records."""
    subject = find(session, keys, code)
    if subject is None:
        return None
    return profile_of(session, subject, audience=audience, today=today)


#: In ``RecordView``'s field order: rows become views by position.
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
    Record.retention_until,
)


def _former(
    subject_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> list[ColumnElement[bool]]:
    """A subject's former Chinese names: the only names a profile shows besides its own."""
    return [
        SubjectName.subject_id == subject_id,
        SubjectName.current.is_(False),
        SubjectName.lang == "zh",
    ]


class _JsonArray(FunctionElement[Any]):
    """``value`` as a JSON array ordered by ``order``. SQLite before 3.44 takes no
    ``ORDER BY`` inside an aggregate; there it aggregates a subquery already in order."""

    type = JSON()
    inherit_cache = True
    name = "json_array_of"


@compiles(_JsonArray, "postgresql")
def _json_array_postgresql(element: _JsonArray, compiler: SQLCompiler, **kw: Any) -> str:
    value, order = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_agg({value} ORDER BY {order})"


@compiles(_JsonArray, "sqlite")
def _json_array_sqlite(element: _JsonArray, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(next(iter(element.clauses)), **kw)
    return f"json_group_array({value})"


# Built once: on a public profile, building the statements cost about as much as a
# round trip to run them.
_FORMER_NAMES = (
    select(SubjectName.name).where(*_former(bindparam("subject_id"))).order_by(SubjectName.id)
)
_RECORDS = (
    select(*_VIEW_COLUMNS)
    .join(RecordType, RecordType.code == Record.type_code)
    .where(Record.subject_id == bindparam("subject_id"))
    .order_by(Record.decision_date.desc(), Record.id.desc())
)

# The same by the subject's key, in one statement: one row per record, each with the
# subject and its former names (a JSON array), or one row with no record. Two
# statements, even pipelined, cost the API's busiest request a third more CPU in
# psycopg. The subject is a materialised CTE so that its names are aggregated once,
# not once per record row.
_former_ordered = (
    select(SubjectName.name, SubjectName.id)
    .where(*_former(Subject.id))
    .order_by(SubjectName.id)
    .correlate(Subject)
    .subquery()
)
_SUBJECT = (
    select(
        *IDENTITY_COLUMNS,
        Subject.status,
        select(_JsonArray(_former_ordered.c.name, _former_ordered.c.id))
        .scalar_subquery()
        .label("former_names"),
    )
    .where(Subject.key == bindparam("key"))
    .cte("subject")
    .prefix_with("MATERIALIZED")
)
_PROFILE_BY_KEY = (
    select(_SUBJECT, *_VIEW_COLUMNS)
    .select_from(_SUBJECT)
    .outerjoin(Record, Record.subject_id == _SUBJECT.c.id)
    .outerjoin(RecordType, RecordType.code == Record.type_code)
    .order_by(Record.decision_date.desc(), Record.id.desc())
)


def profile_read(key: str) -> Read:
    """The subject, its former names and its records, for ``profile_from_rows``."""
    return Read(_PROFILE_BY_KEY, {"key": key})


@dataclass(frozen=True)
class SubjectRow:
    """A subject as ``_PROFILE_BY_KEY`` selects it, field for column."""

    id: int
    key: str
    kind: str
    code_display: str
    name: str
    name_en: str | None
    region: str | None
    adult_from: dt.date | None
    status: str


_SUBJECT_FIELDS = len(_SUBJECT.c) - 1


def profile_from_rows(
    rows: Sequence[Row], *, audience: Audience, today: dt.date
) -> tuple[SubjectRow, Profile] | None:
    """The profile from what ``profile_read`` fetched, or None for an unknown key."""
    if not rows:
        return None
    first = rows[0]
    subject = SubjectRow(*first[:_SUBJECT_FIELDS])
    former = first[_SUBJECT_FIELDS] or []
    start = _SUBJECT_FIELDS + 1
    views = (RecordView(*row[start:]) for row in rows if row[start] is not None)
    return subject, assemble(subject, former, views, audience=audience, today=today)


def profile_of(
    session: Session, subject: SubjectLike, *, audience: Audience, today: dt.date
) -> Profile:
    former = list(session.scalars(_FORMER_NAMES, {"subject_id": subject.id}))
    # Columns, not entities: a Record entity carries columns no view shows, and a
    # RecordType entity its whole definition, decoded from JSON once per record row.
    views = (RecordView(*row) for row in session.execute(_RECORDS, {"subject_id": subject.id}))
    return assemble(subject, former, views, audience=audience, today=today)


def assemble(
    subject: SubjectLike,
    former_names: list[str],
    views: Iterable[RecordView],
    *,
    audience: Audience,
    today: dt.date,
) -> Profile:
    """The one place that decides which of a subject's records an audience sees."""
    records = [
        view
        for view in views
        if visible(
            audience,
            disclosure=view.disclosure,
            status=view.status,
            published_until=view.published_until,
            adult_from=subject.adult_from,
            decision_date=view.decision_date,
            today=today,
            retention_until=view.retention_until,
        )
    ]
    return Profile(
        subject_id=subject.id,
        code=subject.code_display,
        kind=subject.kind,
        name=subject.name,
        name_en=subject.name_en,
        former_names=former_names,
        region=subject.region,
        region_name=region_name(subject.region) if subject.region else None,
        status=subject.status,
        minor=is_minor(subject.adult_from, today),
        audience=audience,
        as_of=today,
        records=records,
    )
