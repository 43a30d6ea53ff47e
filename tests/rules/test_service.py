"""Keeping entries in the store: refresh on record change, recompute in SQL, grades, history."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from bonafides.context import Context
from bonafides.records import SubjectKind
from bonafides.rules.service import (
    entries_current,
    grades_of,
    recompute_grades,
    recompute_lists,
)
from bonafides.store.records import write_records
from bonafides.store.tables import AuditEvent, Grade, ListEntry
from tests import factories
from tests.rules.fixtures import Write, decision
from tests.rules.generate import feature_rules


def _entries(ctx: Context) -> list[tuple[str, str, dt.date, str]]:
    with ctx.sessions() as session:
        return [
            (e.list_code, e.status, e.valid_until, e.until_basis)
            for e in session.scalars(select(ListEntry).order_by(ListEntry.id))
        ]


def test_an_amended_end_date_supersedes_the_entry_and_keeps_the_old_one(
    ctx: Context, write: Write
) -> None:
    firm = factories.org()
    item = write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    assert _entries(ctx) == [("courts.defaulters", "current", dt.date(2027, 5, 31), "term")]
    # The court extends the listing by a year (an extension within 1-3 years).
    extended = dataclasses.replace(item, content={**item.content, "listing_until": "2028-05-31"})
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [extended], actor="spc")
    assert _entries(ctx) == [
        ("courts.defaulters", "superseded", dt.date(2027, 5, 31), "term"),
        ("courts.defaulters", "current", dt.date(2028, 5, 31), "decided"),
    ]
    # An extension beyond three years is capped at five years in all.
    too_long = dataclasses.replace(item, content={**item.content, "listing_until": "2035-01-01"})
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [too_long], actor="spc")
    assert _entries(ctx)[-1] == ("courts.defaulters", "current", dt.date(2030, 5, 31), "cap")
    with ctx.sessions() as session:
        tags = session.scalars(select(AuditEvent.tag)).all()
    assert tags.count("rules:entries:refreshed") == 3


def test_resubmitting_the_same_decision_touches_no_entry(ctx: Context, write: Write) -> None:
    firm = factories.org()
    item = write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="spc")
    assert len(_entries(ctx)) == 1


def test_recompute_with_other_rules_supersedes_and_records_the_run(
    ctx: Context, write: Write
) -> None:
    firm = factories.org()
    write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    other = feature_rules()
    with ctx.sessions.begin() as session:
        assert not entries_current(session, other)
        result = recompute_lists(session, other)
        assert entries_current(session, other)
    # The feature rules list the same decision on f.start_field (two lines match 'none').
    assert (result.superseded, result.added) == (1, 1)
    assert [e[:2] for e in _entries(ctx)] == [
        ("courts.defaulters", "superseded"),
        ("f.start_field", "current"),
    ]
    with ctx.sessions.begin() as session:
        again = recompute_lists(session, other)
    assert (again.added, again.superseded) == (0, 0)


def test_grades_in_sql_and_python_and_never_for_persons(ctx: Context, write: Write) -> None:
    firm, person = factories.org(), factories.person()
    write("tax.credit_grade", firm, dt.date(2025, 4, 1), source="sta", grade="B")
    write("environment.credit_rating", firm, dt.date(2025, 4, 1), source="mee", rating="blue")
    write("environment.penalty", firm, dt.date(2025, 5, 1), source="mee", severity="general")
    write("environment.penalty", firm, dt.date(2025, 6, 1), source="mee", severity="minor")
    write("tax.major_violation", person, dt.date(2025, 4, 1), source="sta", case_nature="other")
    day = dt.date(2025, 7, 1)
    with ctx.sessions.begin() as session:
        result = recompute_grades(session, as_of=day)
    with ctx.sessions() as session:
        rows = session.scalars(select(Grade)).all()
        stored = {(g.scheme, g.grade, g.line) for g in rows}
        (graded,) = {g.subject_id for g in rows}
        facts, python = grades_of(session, graded, day)
    # Environment: two penalties within twelve months (line 2) outrank the blue rating.
    assert result.grades == 2
    assert stored == {("tax", "B", 2), ("environment", "yellow", 2)}
    assert facts is not None
    assert facts.kind == SubjectKind.LEGAL_PERSON
    assert {(g.scheme, g.grade, g.line) for g in python} == stored


def test_writing_a_batch_refreshes_only_the_subjects_it_touched(ctx: Context) -> None:
    firms = [factories.org() for _ in range(3)]
    items = [
        decision("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
        for firm in firms
    ]
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, items, actor="spc")
    with ctx.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "rules:entries:refreshed")
        ).one()
    assert event.detail["subjects"] == 3
    assert event.detail["added"] == 3
