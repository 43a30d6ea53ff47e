"""Red and black lists as the public sees them, shaped once for the JSON API and the portal.

Both call these functions, so an entry hidden from one is hidden from the other. Entries
come from ``bonafides.store.lists`` (public decisions only, never a minor); a natural
person is named by family name only and linked by an opaque ref, never by ID number. A
grade is shown only when every record behind it is itself public.
"""

from __future__ import annotations

import builtins
import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bonafides.app.public import FigureCache, PublicSubject
from bonafides.catalogue import Catalogue
from bonafides.codes import region_name
from bonafides.context import Context
from bonafides.csvcells import csv_cell
from bonafides.disclosure import derived_visible, mask_name
from bonafides.records import SubjectKind
from bonafides.rules.evaluate import explain_grade
from bonafides.rules.model import ListRule, Rules
from bonafides.rules.service import grades_of
from bonafides.store.lists import (
    EntryFilter,
    EntryRow,
    all_entries,
    count_entries,
    counts_in_force,
    entries_of_subject,
    page_of_entries,
)
from bonafides.store.search import find_by_ref

#: Columns of the CSV download, in order.
CSV_COLUMNS = (
    "list",
    "rule",
    "code",
    "name",
    "kind",
    "region",
    "valid_from",
    "valid_until",
    "until_basis",
    "field",
    "record_type",
    "source",
    "decision_no",
    "decision_date",
    "reason",
)


class LineOut(BaseModel):
    rule: str = Field(description="The rule line, as LIST#N.")
    explain: str
    explain_zh: str = Field(description="The same line's reason in Chinese.")
    term: str = Field(description="How long an entry by this line lasts.")


class ListOut(BaseModel):
    code: str
    kind: str = Field(description="black (sanctions) or red (rewards).")
    title_zh: str
    title_en: str
    owner: str = Field(description="The department keeping the list.")
    owner_zh: str
    owner_en: str
    legal_basis: list[str]
    subject_kinds: list[str]
    description: str
    lines: list[LineOut]
    entries_in_force: int = Field(description="Public entries in force today.")


class EntryOut(BaseModel):
    list: str
    rule: str
    ref: str = Field(description="Opens the subject: GET /subjects/{ref}.")
    code: str = Field(description="USCC, or a resident ID masked.")
    name: str = Field(description="A natural person's name shows the family name only.")
    name_en: str | None
    kind: str
    region: str | None
    region_name: str | None
    valid_from: dt.date
    valid_until: dt.date
    until_basis: str = Field(description="Why the entry ends then: term, cap, removed, ...")
    reason: str = Field(description="The rule line that put the subject on the list.")
    field: str = Field(description="Credit field of the deciding record.")
    record_type: str
    source: str = Field(description="The department that made the decision.")
    decision_no: str
    decision_date: dt.date


class EntriesPage(BaseModel):
    list: str
    as_of: dt.date
    total: int
    offset: int
    limit: int
    entries: builtins.list[EntryOut]


class MembershipOut(BaseModel):
    list: str
    kind: str
    title_zh: str
    title_en: str
    rule: str
    valid_from: dt.date
    valid_until: dt.date
    in_force: bool = Field(description="Whether the entry is in force today.")
    until_basis: str
    reason: str = Field(description="The rule line and its reason, as stored with the entry.")
    reason_zh: str = Field(description="Why, in Chinese, from the rule line.")
    reason_en: str = Field(description="Why, in English, from the rule line.")
    decision_no: str
    legal_basis: builtins.list[str]


class GradeOut(BaseModel):
    scheme: str
    field: str
    title_zh: str
    title_en: str
    grade: str
    as_of: dt.date
    rule: str = Field(description="The rule line that decided the grade.")
    reason: str
    reason_zh: str = Field(description="Why, in Chinese, from the rule line.")
    reason_en: str = Field(description="Why, in English, from the rule line.")
    owner: str
    legal_basis: list[str]
    records: list[int] = Field(description="The public records behind the grade.")


def _department_names(catalogue: Catalogue, code: str) -> tuple[str, str]:
    try:
        dept = catalogue.department(code)
    except KeyError:
        return code, code
    return dept.name_zh, dept.name_en


def list_out(rule: ListRule, catalogue: Catalogue, in_force: int) -> ListOut:
    owner_zh, owner_en = _department_names(catalogue, rule.owner)
    return ListOut(
        code=rule.code,
        kind=rule.kind.value,
        title_zh=rule.title_zh,
        title_en=rule.title_en,
        owner=rule.owner,
        owner_zh=owner_zh,
        owner_en=owner_en,
        legal_basis=list(rule.legal_basis),
        subject_kinds=[k.value for k in rule.subject_kinds],
        description=rule.description,
        lines=[
            LineOut(
                rule=rule.rule_ref(n),
                explain=line.explain,
                explain_zh=line.explain_zh,
                term=line.term.describe(),
            )
            for n, line in enumerate(rule.entry, 1)
        ],
        entries_in_force=in_force,
    )


def figures_of(request: Request) -> FigureCache:
    """The application's cache of aggregates, shared by the API and the portal."""
    cache = request.app.state.figures
    assert isinstance(cache, FigureCache)
    return cache


def list_counts(cache: FigureCache, session: Session, today: dt.date) -> dict[str, int]:
    """Entries in force per list, recounted at most once per cache period: counting a
    national list on every page view would cost more than the page."""
    return cache.get(("list entries in force", today), lambda: counts_in_force(session, today))


def all_lists(
    cache: FigureCache, session: Session, rules: Rules, *, today: dt.date
) -> list[ListOut]:
    counts = list_counts(cache, session, today)
    return [
        list_out(rule, rules.catalogue, counts.get(code, 0)) for code, rule in rules.lists.items()
    ]


def entry_out(row: EntryRow) -> EntryOut:
    person = row.subject_kind == SubjectKind.NATURAL_PERSON
    return EntryOut(
        list=row.list_code,
        rule=f"{row.list_code}#{row.line}",
        ref=row.subject_key if person else row.code_display,
        code=row.code_display,
        name=mask_name(row.name) if person else row.name,
        name_en=None if person else row.name_en,
        kind=row.subject_kind,
        region=row.region,
        region_name=region_name(row.region) if row.region else None,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        until_basis=row.until_basis,
        reason=row.reason,
        field=row.field,
        record_type=row.record_type,
        source=row.source,
        decision_no=row.decision_no,
        decision_date=row.decision_date,
    )


def entries_page(session: Session, wanted: EntryFilter, *, offset: int, limit: int) -> EntriesPage:
    return EntriesPage(
        list=wanted.list_code,
        as_of=wanted.as_of,
        total=count_entries(session, wanted),
        offset=offset,
        limit=limit,
        entries=[
            entry_out(row) for row in page_of_entries(session, wanted, offset=offset, limit=limit)
        ],
    )


def entries_csv(ctx: Context, wanted: EntryFilter) -> Iterator[bytes]:
    """The CSV download, a batch of rows at a time, behind a BOM so Excel reads UTF-8.

    It opens its own session: a streamed body outlives the request's dependencies.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff".encode() + _drain(buffer)
    with ctx.sessions() as session:
        for n, row in enumerate(all_entries(session, wanted), 1):
            entry = entry_out(row)
            writer.writerow(csv_cell(getattr(entry, name)) for name in CSV_COLUMNS)
            if n % 500 == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


# --------------------------------------------------------------------------- one subject


@dataclass(frozen=True)
class Standing:
    """A subject's public list memberships and grades, beside its public file."""

    memberships: Sequence[MembershipOut]
    grades: Sequence[GradeOut]


def memberships(rules: Rules, rows: Sequence[EntryRow], today: dt.date) -> list[MembershipOut]:
    out = []
    for row in rows:
        rule = rules.lists.get(row.list_code)
        if rule is None:
            continue
        out.append(
            MembershipOut(
                list=rule.code,
                kind=rule.kind.value,
                title_zh=rule.title_zh,
                title_en=rule.title_en,
                rule=rule.rule_ref(row.line),
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                in_force=row.valid_from <= today <= row.valid_until,
                until_basis=row.until_basis,
                reason=row.reason,
                reason_zh=rule.entry[row.line - 1].explain_zh,
                reason_en=rule.entry[row.line - 1].explain_en,
                decision_no=row.decision_no,
                legal_basis=list(rule.legal_basis),
            )
        )
    return out


def public_grades(
    session: Session,
    rules: Rules,
    subject_id: int,
    public_ids: set[int],
    *,
    today: dt.date,
    zone: str,
) -> list[GradeOut]:
    """Grades today, each only if every record behind it is public (principle 5)."""
    facts, results = grades_of(session, subject_id, today, rules=rules, zone=zone)
    if facts is None or facts.kind == SubjectKind.NATURAL_PERSON:
        return []
    out = []
    for result in results:
        if not derived_visible(result.record_ids, public_ids):
            continue
        scheme = rules.grades[result.scheme]
        out.append(
            GradeOut(
                scheme=scheme.code,
                field=scheme.field,
                title_zh=scheme.title_zh,
                title_en=scheme.title_en,
                grade=result.grade,
                as_of=result.as_of,
                rule=scheme.rule_ref(result.line),
                reason=explain_grade(scheme, result),
                reason_zh=scheme.lines[result.line - 1].explain_zh,
                reason_en=scheme.lines[result.line - 1].explain_en,
                owner=scheme.owner,
                legal_basis=list(scheme.legal_basis),
                records=list(result.record_ids),
            )
        )
    return out


def _subject_id(session: Session, ctx: Context, found: PublicSubject) -> int | None:
    subject = find_by_ref(session, ctx.keys, found.ref)
    return None if subject is None else subject.id


def subject_memberships(
    session: Session, ctx: Context, rules: Rules, found: PublicSubject
) -> list[MembershipOut]:
    """The list entries of a subject the public may already see (``public_subject``)."""
    subject_id = _subject_id(session, ctx, found)
    if subject_id is None:
        return []
    return memberships(rules, entries_of_subject(session, subject_id, found.as_of), found.as_of)


def subject_grades(
    session: Session, ctx: Context, rules: Rules, found: PublicSubject
) -> list[GradeOut]:
    """The grades of a subject the public may already see, from its public records only."""
    subject_id = _subject_id(session, ctx, found)
    if subject_id is None:
        return []
    public_ids = {r.id for r in found.records}
    return public_grades(
        session, rules, subject_id, public_ids, today=found.as_of, zone=ctx.settings.timezone
    )


def standing(session: Session, ctx: Context, rules: Rules, found: PublicSubject) -> Standing:
    return Standing(
        subject_memberships(session, ctx, rules, found),
        subject_grades(session, ctx, rules, found),
    )
