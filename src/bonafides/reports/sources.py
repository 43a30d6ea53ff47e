"""What a report reads beyond a subject's records: list entries, grades and the access log.

List entries and grades are written by ``bonafides.rules``; this module only reads their
tables (``list_entries`` with status ``current``, ``grades`` by ``as_of``) and takes titles,
legal bases and explanations from the rule set, so a report never evaluates rules itself
and shows exactly what the platform holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.disclosure import derived_visible, entry_visible
from bonafides.rules.loader import rules_for
from bonafides.rules.model import Rules, RuleSetError
from bonafides.store.access import events_about
from bonafides.store.tables import Grade, ListEntry, Record, RecordType

#: The status ``bonafides.rules`` gives an entry it still holds true.
CURRENT_ENTRY = "current"


@dataclass(frozen=True)
class Membership:
    list_code: str
    kind: str | None
    title_zh: str
    title_en: str
    owner: str | None
    legal_basis: tuple[str, ...]
    valid_from: dt.date
    valid_until: dt.date
    reason: str
    field: str


@dataclass(frozen=True)
class GradeView:
    scheme: str
    field: str | None
    title_zh: str
    title_en: str
    grade: str
    as_of: dt.date
    rule: str
    explain: str | None
    legal_basis: tuple[str, ...]


@dataclass(frozen=True)
class AccessEvent:
    at: dt.datetime
    actor: str
    tag: str
    purpose: str | None


def rules_or_none(catalogue: Catalogue) -> Rules | None:
    """The rule set, or None where it does not load: titles then fall back to codes.

    A report states what the store holds; a broken rule directory is the rules area's
    error to report, and must not stop a subject getting its records.
    """
    try:
        return rules_for(catalogue)
    except RuleSetError:
        return None


def memberships(
    session: Session,
    catalogue: Catalogue,
    subject_id: int,
    *,
    period_from: dt.date,
    period_to: dt.date,
    fields: frozenset[str],
    shown: AbstractSet[int] | None = None,
) -> list[Membership]:
    """Current list entries that overlap the period, from records in the chosen fields.

    The field of an entry is that of the record that triggered it, so a subject choosing
    "tax" sees the tax black list and not the courts' one. With ``shown`` (the ids of the
    records the reader may see), an entry is left out unless its triggering record and
    every other record behind it are among them, as the public list pages leave it out.
    """
    rows = session.execute(
        select(ListEntry, RecordType.field)
        .join(Record, Record.id == ListEntry.trigger_record_id)
        .join(RecordType, RecordType.code == Record.type_code)
        .where(
            ListEntry.subject_id == subject_id,
            ListEntry.status == CURRENT_ENTRY,
            ListEntry.valid_from <= period_to,
            ListEntry.valid_until >= period_from,
        )
        .order_by(ListEntry.valid_from.desc(), ListEntry.id)
    ).all()
    rules = rules_or_none(catalogue)
    out = []
    for entry, field in rows:
        if field not in fields:
            continue
        if shown is not None and not entry_visible(
            entry.trigger_record_id, _ids(entry.record_ids), shown
        ):
            continue
        rule = rules.lists.get(entry.list_code) if rules else None
        out.append(
            Membership(
                list_code=entry.list_code,
                kind=rule.kind.value if rule else None,
                title_zh=rule.title_zh if rule else entry.list_code,
                title_en=rule.title_en if rule else entry.list_code,
                owner=rule.owner if rule else None,
                legal_basis=rule.legal_basis if rule else (),
                valid_from=entry.valid_from,
                valid_until=entry.valid_until,
                reason=entry.reason,
                field=field,
            )
        )
    return out


def grades(
    session: Session,
    catalogue: Catalogue,
    subject_id: int,
    *,
    as_of: dt.date,
    fields: frozenset[str],
    all_fields: bool,
    shown: AbstractSet[int] | None = None,
) -> list[GradeView]:
    """Each scheme's latest stored grade on or before ``as_of``, in the chosen fields.

    A scheme the rule set no longer knows has no field to filter by; it is shown only
    when every field was asked for. With ``shown`` (the ids of the records the reader may
    see), a grade is left out unless every record behind it is among them: the rule of
    ``/api/v1/subjects/{code}/grades``. The latest grade is then simply not shown; an
    older one is not offered instead, as it no longer holds.
    """
    rows = session.scalars(
        select(Grade)
        .where(Grade.subject_id == subject_id, Grade.as_of <= as_of)
        .order_by(Grade.scheme, Grade.as_of.desc(), Grade.id.desc())
    ).all()
    rules = rules_or_none(catalogue)
    latest: dict[str, Grade] = {}
    for row in rows:
        latest.setdefault(row.scheme, row)
    out = []
    for scheme_code, row in sorted(latest.items()):
        scheme = rules.grades.get(scheme_code) if rules else None
        if scheme is None and not all_fields:
            continue
        if scheme is not None and scheme.field not in fields:
            continue
        if shown is not None and not derived_visible(_ids(row.record_ids), shown):
            continue
        explain = None
        if scheme is not None and 1 <= row.line <= len(scheme.lines):
            explain = scheme.lines[row.line - 1].explain
        out.append(
            GradeView(
                scheme=scheme_code,
                field=scheme.field if scheme else None,
                title_zh=scheme.title_zh if scheme else scheme_code,
                title_en=scheme.title_en if scheme else scheme_code,
                grade=row.grade,
                as_of=row.as_of,
                rule=scheme.rule_ref(row.line) if scheme else f"grade:{scheme_code}#{row.line}",
                explain=explain,
                legal_basis=scheme.legal_basis if scheme else (),
            )
        )
    return out


def _ids(text: str) -> list[int]:
    """The record ids a stored grade names, written comma-separated by the rules."""
    return [int(part) for part in text.split(",") if part.strip()]


def access_log(
    session: Session, subject_id: int, *, period_from: dt.date, zone: str
) -> list[AccessEvent]:
    """Every audit event about the subject from the start of the period to this moment.

    The end is now rather than the period's last day: a subject asking who looked at its
    file wants to know about yesterday's inquiry too. Days count in the office's zone.
    """
    start = dt.datetime.combine(period_from, dt.time(), ZoneInfo(zone))
    about = events_about(subject_id).subquery()
    rows = session.execute(
        select(about.c.at, about.c.actor, about.c.tag, about.c.purpose)
        .where(about.c.at >= start)
        .order_by(about.c.id)
    ).all()
    return [AccessEvent(at, actor, tag, purpose) for at, actor, tag, purpose in rows]
