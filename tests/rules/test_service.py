"""Keeping entries in the store: refresh on record change, recompute in SQL, grades, history."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import delete, select

from bonafides.context import Context
from bonafides.progress import ProgressFn
from bonafides.records import RecordInput, SubjectKind
from bonafides.rules import records as rules_records
from bonafides.rules.records import write_records
from bonafides.rules.service import (
    RECOMPUTE_STEPS,
    RefreshResult,
    entries_current,
    entries_in_force,
    grades_of,
    recompute_grades,
    recompute_lists,
    refresh_subjects,
)
from bonafides.store import feed
from bonafides.store.tables import (
    AuditEvent,
    FeedEvent,
    Grade,
    ListEntry,
    Record,
    RecordVersion,
    RuleRun,
    Subject,
)
from tests import factories
from tests.rules.fixtures import Write, decision
from tests.rules.generate import feature_rules

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned


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


def _bulk_load(ctx: Context, item: RecordInput, status: str = "active") -> None:
    """Store a decision as a bulk loader writing the tables directly would: no refresh of
    list entries, and stamped by a clock long before any recompute."""
    stamp = dt.datetime(2025, 1, 2, 9, tzinfo=dt.UTC)
    with ctx.sessions.begin() as session:
        subject_id = session.scalar(
            select(Subject.id).where(Subject.key == ctx.keys.key_for_code(item.subject.code))
        )
        assert subject_id is not None
        record = Record(
            subject_id=subject_id,
            type_code=item.type_code,
            source=item.source,
            decision_no=item.decision_no,
            party="",
            decision_date=item.decision_date,
            received_at=stamp,
            status=status,
            severity=item.severity,
            legal_basis=item.legal_basis,
            version=1,
            content=item.content,
            content_digest=item.content_digest,
            updated_at=stamp,
        )
        session.add(record)
        session.flush()
        session.add(
            RecordVersion(
                record_id=record.id,
                subject_id=subject_id,
                version=1,
                status=status,
                decision_date=item.decision_date,
                legal_basis=item.legal_basis,
                content=item.content,
                raw={},
                content_digest=item.content_digest,
                changed_at=stamp,
                changed_by="bulk",
                reason="received",
            )
        )


def _last_run(ctx: Context) -> dict[str, object]:
    with ctx.sessions() as session:
        run = session.scalars(
            select(RuleRun).where(RuleRun.kind == "lists").order_by(RuleRun.id.desc())
        ).first()
        assert run is not None
        return dict(run.detail)


def test_a_recompute_evaluates_only_subjects_changed_since_the_last_one(
    ctx: Context, write: Write
) -> None:
    listed, loaded, quiet = factories.org(), factories.org(), factories.org()
    write("courts.defaulter", listed, dt.date(2025, 6, 1), performance="none")
    write("general.licence", loaded, dt.date(2025, 3, 1), source="samr")
    write("general.licence", quiet, dt.date(2025, 3, 1), source="samr")
    with ctx.sessions.begin() as session:
        first = recompute_lists(session)
    assert (first.entries, first.added, first.superseded) == (1, 0, 0)
    assert _last_run(ctx)["subjects"] == "all"
    # A bulk load, stamped by an old clock, that left the entries alone: the next run
    # finds it by its version and evaluates that one subject.
    _bulk_load(ctx, decision("courts.defaulter", loaded, dt.date(2025, 7, 1), performance="none"))
    with ctx.sessions.begin() as session:
        second = recompute_lists(session)
    assert (second.entries, second.added, second.superseded) == (2, 1, 0)
    assert _last_run(ctx)["subjects"] == 1
    with ctx.sessions.begin() as session:
        third = recompute_lists(session)
        full = recompute_lists(session, full=True)
    assert (third.entries, third.added, third.superseded) == (2, 0, 0)
    assert (full.entries, full.added, full.superseded) == (2, 0, 0)
    with ctx.sessions() as session:
        runs = session.scalars(
            select(RuleRun.detail).where(RuleRun.kind == "lists").order_by(RuleRun.id)
        ).all()
    assert [r["subjects"] for r in runs] == ["all", 1, 0, "all"]


def test_days_passing_end_entries_without_any_record_changing(ctx: Context, write: Write) -> None:
    """Entries carry their own dates and never depend on today, so an unchanged store
    needs no work when a term runs out: the day asked picks the entries in force."""
    firm = factories.org()
    write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    with ctx.sessions.begin() as session:
        recompute_lists(session)
        unchanged = recompute_lists(session)
        last_day = entries_in_force(session, "courts.defaulters", dt.date(2027, 5, 31))
        after = entries_in_force(session, "courts.defaulters", dt.date(2027, 6, 1))
        assert (unchanged.added, unchanged.superseded) == (0, 0)
        assert [e.valid_until for e in last_day] == [dt.date(2027, 5, 31)]
        assert after == []
        # Evaluating from scratch finds exactly what the unchanged run kept.
        full = recompute_lists(session, full=True)
    assert (full.entries, full.added, full.superseded) == (1, 0, 0)


def test_a_run_in_another_time_zone_evaluates_every_subject(ctx: Context, write: Write) -> None:
    write("courts.defaulter", factories.org(), dt.date(2025, 6, 1), performance="none")
    with ctx.sessions.begin() as session:
        recompute_lists(session)
        recompute_lists(session, zone="Europe/Berlin")
    assert _last_run(ctx)["subjects"] == "all"


def _recorder(calls: list[tuple[int, int | None]]) -> ProgressFn:
    def record(done: int, total: int | None) -> None:
        calls.append((done, total))

    return record


def test_a_recompute_reports_its_statements_done_even_with_nothing_to_do(
    ctx: Context, write: Write
) -> None:
    write("courts.defaulter", factories.org(), dt.date(2025, 6, 1), performance="none")
    heard: list[list[tuple[int, int | None]]] = [[], []]
    for calls in heard:  # the second run finds no subject changed and skips the writes
        with ctx.sessions.begin() as session:
            recompute_lists(session, progress=_recorder(calls))
    steps = RECOMPUTE_STEPS
    assert heard[0] == [(n, steps) for n in range(steps + 1)]
    assert heard[1] == [(0, steps), (1, steps), (steps, steps)]


def test_a_large_batch_is_refreshed_in_sql_with_the_entries_of_the_per_subject_refresh(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules_records, "SQL_REFRESH_FROM", 2)
    firms = [factories.org() for _ in range(3)]
    items = [
        decision("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
        for firm in firms
    ]
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, items, actor="spc")
    assert [e[:2] for e in _entries(ctx)] == [("courts.defaulters", "current")] * 3
    # Two courts extend their listings: the old entries end, new ones start, in SQL.
    extended = [
        dataclasses.replace(i, content={**i.content, "listing_until": "2028-05-31"})
        for i in items[:2]
    ]
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, extended, actor="spc")
    assert sorted(_entries(ctx)) == sorted(
        [
            ("courts.defaulters", "superseded", dt.date(2027, 5, 31), "term"),
            ("courts.defaulters", "superseded", dt.date(2027, 5, 31), "term"),
            ("courts.defaulters", "current", dt.date(2027, 5, 31), "term"),
            ("courts.defaulters", "current", dt.date(2028, 5, 31), "decided"),
            ("courts.defaulters", "current", dt.date(2028, 5, 31), "decided"),
        ]
    )
    with ctx.sessions.begin() as session:
        ids = session.scalars(select(Subject.id)).all()
        # The per-subject evaluator finds nothing to add or end: both wrote the same rows.
        assert refresh_subjects(session, ids) == RefreshResult(len(ids), 0, 0)
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == "rules:entries:refreshed")
            .order_by(AuditEvent.id)
        ).all()
    assert [(e.detail["added"], e.detail["superseded"]) for e in events] == [(3, 0), (2, 2)]


@pytest.mark.parametrize("full", [True, False])
def test_a_recompute_rolled_back_leaves_nothing_behind_for_the_next_one(
    ctx: Context, write: Write, full: bool
) -> None:
    """A recompute whose transaction is rolled back (a failed commit, a cancelled job) must
    not stop the next one on the same connection: on SQLite a temporary table created as
    the connection's first work outlives the rollback of its DROP."""
    write("courts.defaulter", factories.org(), dt.date(2025, 6, 1), performance="none")
    with ctx.sessions.begin() as session:
        recompute_lists(session)
    write("courts.defaulter", factories.org(), dt.date(2025, 7, 1), performance="none")

    def cancelled() -> None:
        with ctx.sessions.begin() as session:
            recompute_lists(session, full=full)
            raise RuntimeError("the job is cancelled before it commits")

    with pytest.raises(RuntimeError):
        cancelled()
    with ctx.sessions.begin() as session:
        again = recompute_lists(session, full=full)
    assert (again.entries, again.added, again.superseded) == (2, 0, 0)


def test_a_full_recompute_announces_each_new_entry_with_its_own_record(
    ctx: Context, write: Write
) -> None:
    """The started events of a whole-store recompute: every new entry gets one event,
    naming the entry's trigger record, its version and the entry's subject."""
    firms = [factories.org() for _ in range(3)]
    for day, firm in enumerate(firms, 1):
        write("courts.defaulter", firm, dt.date(2025, 6, day), performance="none")
        write("courts.defaulter", firm, dt.date(2025, 7, day), performance="none")
    with ctx.sessions.begin() as session:
        session.execute(delete(FeedEvent))
        session.execute(delete(ListEntry))
    with ctx.sessions.begin() as session:
        result = recompute_lists(session, full=True)
    assert result.added == 6
    with ctx.sessions() as session:
        events = {
            (e.list_entry_id, e.subject_id, e.record_id, e.record_version)
            for e in session.scalars(
                select(FeedEvent).where(FeedEvent.kind == feed.Kind.ENTRY_STARTED)
            )
        }
        entries = {
            (e.id, e.subject_id, e.trigger_record_id, r.version)
            for e, r in session.execute(
                select(ListEntry, Record).join(Record, Record.id == ListEntry.trigger_record_id)
            ).all()
        }
    assert len(entries) == 6
    assert events == entries
