"""Drawing a report's body from the store: what the audience may see, nothing more.

The body carries every title in both languages, so rendering needs nothing but the signed
document: a report renders the same in Chinese or English, today or in ten years. Beside
the body, ``facts`` is the bare substance (record versions, entries, grades, identity): its
digest is what "changed since issue" compares, untouched by a renamed title or a new
access-log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue, ContentField, FieldType, RecordType
from bonafides.disclosure import Audience, class_visible, publicly_visible
from bonafides.records import RecordStatus, SubjectKind, digest
from bonafides.reports.model import Scope, SubjectNotFoundError, View
from bonafides.reports.sources import access_log, grades, memberships
from bonafides.store.profiles import RecordView, profile_of
from bonafides.store.tables import Record, Subject
from bonafides.store.tables import RecordType as RecordTypeRow

#: Content fields the record line already shows, or that name the subject in the header.
_SHOWN_ELSEWHERE = frozenset({"subject_name", "decision_no", "decision_date"})

_BOOLEAN = {True: ("是", "yes"), False: ("否", "no")}


@dataclass(frozen=True)
class Drawn:
    body: dict[str, Any]
    facts: dict[str, Any]

    @property
    def data_digest(self) -> str:
        return digest(self.facts)


def _field_visible(audience: Audience, spec: ContentField) -> bool:
    """A content field stricter than its record (an ID number) needs the stricter audience."""
    return spec.disclosure is None or class_visible(audience, spec.disclosure.value)


def _text(spec: ContentField, value: Any) -> tuple[str, str]:
    """A stored value as a reader reads it, in Chinese and English."""
    if spec.type is FieldType.BOOLEAN and isinstance(value, bool):
        return _BOOLEAN[value]
    if spec.type is FieldType.ENUM and spec.enum:
        labels = {e.value: (e.label_zh, e.label_en or e.label_zh) for e in spec.enum}
        parts = [p for p in str(value).split(";") if p] if spec.multiple else [str(value)]
        found = [labels.get(p, (p, p)) for p in parts]
        return "；".join(z for z, _ in found), "; ".join(e for _, e in found)
    return str(value), str(value)


def _content(
    rtype: RecordType | None, content: dict[str, Any], audience: Audience
) -> list[dict[str, str]]:
    if rtype is None:
        return []
    skip = _SHOWN_ELSEWHERE | set(rtype.subject_code_fields)
    shown = []
    for spec in rtype.fields:
        value = content.get(spec.name)
        if spec.name in skip or value is None or value == "":
            continue
        if not _field_visible(audience, spec):
            continue
        text_zh, text_en = _text(spec, value)
        shown.append(
            {
                "name": spec.name,
                "label_zh": spec.column_zh,
                "label_en": spec.title_en,
                "text_zh": text_zh,
                "text_en": text_en,
            }
        )
    return shown


def _names(catalogue: Catalogue, source: str) -> tuple[str, str]:
    try:
        dept = catalogue.department(source)
    except KeyError:
        return source, source
    return dept.name_zh, dept.name_en


def _record(catalogue: Catalogue, record: RecordView, audience: Audience) -> dict[str, Any]:
    rtype = catalogue.type(record.type_code) if catalogue.has_type(record.type_code) else None
    basis = record.legal_basis
    if not basis and rtype is not None:
        basis = "；".join(rtype.legal_basis) or None
    source_zh, source_en = _names(catalogue, record.source)
    return {
        "id": record.id,
        "version": record.version,
        "type": record.type_code,
        "type_zh": record.type_title_zh,
        "type_en": record.type_title_en,
        "polarity": record.polarity,
        "source": record.source,
        "source_zh": source_zh,
        "source_en": source_en,
        "decision_no": record.decision_no,
        "decision_date": record.decision_date.isoformat(),
        "status": record.status,
        "severity": record.severity,
        "legal_basis": basis,
        "published_until": record.published_until.isoformat() if record.published_until else None,
        "content": _content(rtype, record.content, audience),
        "withheld": False,
    }


def _repaired_public(
    session: Session, catalogue: Catalogue, subject: Subject, scope: Scope
) -> list[dict[str, Any]]:
    """Public records repaired while still inside their publication period.

    They are no longer published (DESIGN §3), yet a report that left them out would read
    as if nothing had happened while an old copy of the public page says otherwise; so
    the public report names the decision and says it was repaired, and withholds the rest.
    Which ones: those the public rule would show had they not been repaired, so never a
    decision taken while the person was a minor.
    """
    rows = session.execute(
        select(Record, RecordTypeRow)
        .join(RecordTypeRow, RecordTypeRow.code == Record.type_code)
        .where(
            Record.subject_id == subject.id,
            Record.status == RecordStatus.REPAIRED.value,
            Record.decision_date >= scope.period_from,
            Record.decision_date <= scope.period_to,
        )
    ).all()
    out = []
    for record, rtype in rows:
        if not publicly_visible(
            disclosure=rtype.disclosure,
            status=RecordStatus.ACTIVE,
            published_until=record.published_until,
            adult_from=subject.adult_from,
            decision_date=record.decision_date,
            today=scope.as_of,
            retention_until=record.retention_until,
        ):
            continue
        source_zh, source_en = _names(catalogue, record.source)
        out.append(
            {
                "id": record.id,
                "version": record.version,
                "type": record.type_code,
                "type_zh": rtype.title_zh,
                "type_en": rtype.title_en,
                "field": rtype.field,
                "polarity": rtype.polarity,
                "source": record.source,
                "source_zh": source_zh,
                "source_en": source_en,
                "decision_no": record.decision_no,
                "decision_date": record.decision_date.isoformat(),
                "status": record.status,
                "severity": None,
                "legal_basis": None,
                "published_until": None,
                "content": [],
                "withheld": True,
            }
        )
    return out


def draw(
    session: Session, catalogue: Catalogue, subject: Subject, scope: Scope, *, zone: str
) -> Drawn:
    """The report body for ``scope``; refuses a person the public may not see."""
    profile = profile_of(session, subject, audience=scope.audience, today=scope.as_of)
    if (
        scope.view is View.PUBLIC
        and profile.kind == SubjectKind.NATURAL_PERSON
        and (profile.minor or not profile.records)
    ):
        raise SubjectNotFoundError("no public file for this code")
    wanted = frozenset(scope.fields)
    by_field: dict[str, list[dict[str, Any]]] = {f: [] for f in scope.fields}
    for record in profile.records:
        if record.field in wanted and scope.period_from <= record.decision_date <= scope.period_to:
            by_field[record.field].append(_record(catalogue, record, scope.audience))
    if scope.view is View.PUBLIC:
        for item in _repaired_public(session, catalogue, subject, scope):
            field = item.pop("field")
            if field in wanted:
                by_field[field].append(item)
    for items in by_field.values():
        items.sort(key=lambda r: (r["decision_date"], r["id"]), reverse=True)

    # Entries and grades stand on records: shown only with the records behind them
    # (``bonafides.disclosure.derived_visible``), as on the list pages and the grades
    # endpoint, so a grade from a shared evaluation stays out of a public report.
    shown = frozenset(r.id for r in profile.records)
    listed = memberships(
        session,
        catalogue,
        subject.id,
        period_from=scope.period_from,
        period_to=scope.period_to,
        fields=wanted,
        shown=shown,
    )
    graded = grades(
        session,
        catalogue,
        subject.id,
        as_of=scope.period_to,
        fields=wanted,
        all_fields=scope.all_fields,
        shown=shown,
    )
    log = None
    if scope.shows_access_log:
        log = access_log(session, subject.id, period_from=scope.period_from, zone=zone)

    identity = {**profile.identity(), "minor": profile.minor}
    sections = []
    for code in scope.fields:
        field = catalogue.field(code)
        sections.append(
            {
                "field": code,
                "title_zh": field.title_zh,
                "title_en": field.title_en,
                "records": by_field[code],
            }
        )
    body = {
        "subject": identity,
        "sections": sections,
        "lists": [
            {
                "list": m.list_code,
                "kind": m.kind,
                "title_zh": m.title_zh,
                "title_en": m.title_en,
                "owner": m.owner,
                "legal_basis": list(m.legal_basis),
                "valid_from": m.valid_from.isoformat(),
                "valid_until": m.valid_until.isoformat(),
                "in_force": m.valid_from <= scope.as_of <= m.valid_until,
                "reason": m.reason,
                "field": m.field,
            }
            for m in listed
        ],
        "grades": [
            {
                "scheme": g.scheme,
                "field": g.field,
                "title_zh": g.title_zh,
                "title_en": g.title_en,
                "grade": g.grade,
                "as_of": g.as_of.isoformat(),
                "rule": g.rule,
                "explain": g.explain,
                "legal_basis": list(g.legal_basis),
            }
            for g in graded
        ],
        "access_log": None
        if log is None
        else [
            {
                "at": e.at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds"),
                "actor": e.actor,
                "tag": e.tag,
                "purpose": e.purpose,
            }
            for e in log
        ],
    }
    facts = {
        "subject": [
            profile.name,
            profile.name_en,
            profile.status,
            profile.former_names,
            profile.minor,
        ],
        "records": sorted([r["id"], r["version"]] for items in by_field.values() for r in items),
        "lists": sorted(
            [m.list_code, m.valid_from.isoformat(), m.valid_until.isoformat(), m.reason]
            for m in listed
        ),
        "grades": [[g.scheme, g.grade, g.as_of.isoformat(), g.rule] for g in graded],
    }
    return Drawn(body, facts)
