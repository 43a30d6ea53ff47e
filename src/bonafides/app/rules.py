"""Lists and grades as operator use cases: recompute them, and read them with the read
logged (principle 6). Each commits once in the caller's unit of work; the CLI renders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.progress import ProgressFn
from bonafides.rules.facts import GradeResult, SubjectFacts
from bonafides.rules.model import Rules
from bonafides.rules.service import (
    CURRENT,
    RECOMPUTE_STEPS,
    GradesResult,
    RecomputeResult,
    entries_current,
    entries_in_force,
    grades_of,
    recompute_grades,
    recompute_lists,
)
from bonafides.security import audit
from bonafides.store.subjects import find
from bonafides.store.tables import ListEntry, Subject
from bonafides.workflows.common import NotFoundError

#: The statements of a recompute: the lists', and the grades' one more.
STEPS = RECOMPUTE_STEPS + 1


@dataclass(frozen=True)
class Grades:
    facts: SubjectFacts | None
    results: list[GradeResult]


def read_grades(
    unit: UnitOfWork, ctx: Context, rules: Rules, *, code: str, as_of: dt.date, actor: str
) -> Grades:
    """An organisation's per-field grades as of a day; the read is logged for the subject."""

    def act(session: Session) -> Grades:
        subject = find(session, ctx.keys, code)
        if subject is None:
            raise NotFoundError(f"unknown subject {code!r}: no decision in this store concerns it")
        facts, results = grades_of(
            session, subject.id, as_of, rules=rules, zone=ctx.settings.timezone
        )
        audit.append(
            session,
            actor=actor,
            tag="rules:grades:read",
            subject_id=subject.id,
            purpose="operator grade query",
        )
        return Grades(facts, results)

    return run(unit, act)


def recompute(
    unit: UnitOfWork,
    ctx: Context,
    rules: Rules,
    *,
    as_of: dt.date,
    full: bool,
    actor: str,
    progress: ProgressFn | None = None,
    engine: str = "sql",
    snapshot_dir: Path | None = None,
) -> tuple[RecomputeResult, GradesResult]:
    """Every list for every subject (only those with changed records unless ``full``),
    then the grades as of a day, in one transaction; ``progress`` hears the statements
    done out of ``STEPS``.

    ``engine`` "spark" evaluates every subject on Spark instead (``spark.jobs``; a
    ``snapshot_dir`` keeps the Parquet snapshot it reads); the swap is the same one
    transaction."""
    if engine == "spark":
        return _recompute_on_spark(
            unit, ctx, rules, as_of=as_of, actor=actor, snapshot_dir=snapshot_dir
        )
    if engine != "sql":
        raise ValueError(f"unknown engine {engine!r}: sql or spark")
    zone = ctx.settings.timezone
    of_steps: ProgressFn | None = None
    if progress is not None:
        heard = progress

        def of_steps(done: int, _total: int | None) -> None:
            heard(done, STEPS)

    def act(session: Session) -> tuple[RecomputeResult, GradesResult]:
        lists = recompute_lists(
            session,
            rules,
            zone=zone,
            actor=actor,
            full=full,
            progress=of_steps,
        )
        graded = recompute_grades(session, rules, as_of=as_of, zone=zone, actor=actor)
        return lists, graded

    return run(unit, act)


def _recompute_on_spark(
    unit: UnitOfWork,
    ctx: Context,
    rules: Rules,
    *,
    as_of: dt.date,
    actor: str,
    snapshot_dir: Path | None,
) -> tuple[RecomputeResult, GradesResult]:
    from bonafides.spark.session import job_session

    spark = job_session(ctx.settings.spark_driver_memory)
    from bonafides.spark import jobs, sources

    zone = ctx.settings.timezone
    db_url = ctx.settings.db

    def act(session: Session) -> tuple[RecomputeResult, GradesResult]:
        buckets = sources.buckets(session, ctx.settings.spark_bucket_subjects)
        with jobs.read_tables(spark, session, db_url, snapshot_dir=snapshot_dir) as read:
            staged, staged_grades = jobs.stage_buckets(
                session, db_url, rules, read, buckets, zone=zone, as_of=as_of
            )
        lists = recompute_lists(session, rules, zone=zone, actor=actor, computed=staged)
        graded = recompute_grades(
            session, rules, as_of=as_of, zone=zone, actor=actor, computed=staged_grades
        )
        # Dropped in the swap's transaction; a killed run's leftovers are overwritten.
        jobs.drop(session, *jobs.staging_tables(session))
        return lists, graded

    return run(unit, act)


@dataclass(frozen=True)
class ListView:
    #: Whether the stored entries come from these rules (a full run with them happened).
    current: bool
    #: Entries in force on the day, by list code.
    in_force: dict[str, int]
    #: For one list: its entries in force (up to the limit) and their subjects' codes.
    rows: Sequence[ListEntry] = ()
    names: dict[int, str] = field(default_factory=dict)


def show_lists(
    unit: UnitOfWork,
    rules: Rules,
    *,
    code: str | None,
    as_of: dt.date,
    limit: int,
    actor: str,
) -> ListView:
    """How many entries each list has in force on a day; with ``code``, that list's
    entries, the read logged."""

    def act(session: Session) -> ListView:
        current = entries_current(session, rules)
        counted = session.execute(
            select(ListEntry.list_code, func.count())
            .where(
                ListEntry.status == CURRENT,
                ListEntry.valid_from <= as_of,
                ListEntry.valid_until >= as_of,
            )
            .group_by(ListEntry.list_code)
        ).all()
        in_force: dict[str, int] = dict(counted)
        if code is None:
            return ListView(current, in_force)
        rows = entries_in_force(session, code, as_of, limit=limit)
        shown_codes = session.execute(
            select(Subject.id, Subject.code_display).where(
                Subject.id.in_({row.subject_id for row in rows})
            )
        ).all()
        audit.append(
            session,
            actor=actor,
            tag="rules:list:read",
            object_ref=f"list {code}",
            purpose="operator list query",
            detail={"as_of": as_of.isoformat(), "shown": len(rows)},
        )
        return ListView(current, in_force, rows, dict(shown_codes))

    return run(unit, act)
