"""Leases and run records of scheduled jobs (``job_leases``, ``job_runs``).

Portable on both stores: a job's lease row is made once (insert, ignoring a conflict)
and taken with one conditional UPDATE whose row count says who won. On PostgreSQL the
loser's UPDATE waits for the winner's row lock and then finds the row taken; on SQLite
the writers are serialised anyway. Each function works in the caller's transaction;
the runner (``bonafides.app.jobs``) commits each step on its own, so the lease is
visible to other workers while the job runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bonafides.store.tables import JobLease, JobRun

RUNNING = "running"
OK = "ok"
FAILED = "failed"


def _ensure(session: Session, name: str, now: dt.datetime) -> None:
    """The job's lease row, made due now if it did not exist; a race to make it is won
    by one and ignored by the other."""
    values = {"name": name, "due_at": now}
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = postgresql.insert(JobLease).values(values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(JobLease).values(values).on_conflict_do_nothing()
    session.execute(stmt)


def claim(
    session: Session,
    name: str,
    holder: str,
    now: dt.datetime,
    *,
    lease: dt.timedelta,
    next_due: dt.datetime,
) -> JobRun | None:
    """Take the job's lease if it is free (or its holder's lease ran out) and the job is
    due; then record the run as started. None when another worker holds it or ran it
    recently enough that it is not due yet."""
    _ensure(session, name, now)
    taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(JobLease)
        .where(
            JobLease.name == name,
            JobLease.due_at <= now,
            or_(JobLease.holder.is_(None), JobLease.expires_at < now),
        )
        .values(holder=holder, taken_at=now, expires_at=now + lease, due_at=next_due)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    run = JobRun(name=name, holder=holder, started_at=now, outcome=RUNNING, counts={})
    session.add(run)
    session.flush()
    session.execute(
        update(JobLease)
        .where(JobLease.name == name)
        .values(run_id=run.id)
        .execution_options(synchronize_session=False)
    )
    return run


def finish(
    session: Session,
    run_id: int,
    now: dt.datetime,
    *,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    """Record the run's end and free the lease. A failed run makes the job due at once,
    so the next tick of any worker retries it."""
    run = session.get(JobRun, run_id)
    if run is None:
        raise LookupError(f"no job run {run_id}")
    run.finished_at = now
    run.outcome = FAILED if error is not None else OK
    run.counts = dict(counts or {})
    run.error = None if error is None else error[:500]
    values: dict[str, Any] = {"holder": None, "expires_at": None, "run_id": None}
    if error is not None:
        values["due_at"] = now
    session.execute(
        update(JobLease)
        .where(JobLease.name == run.name, JobLease.run_id == run_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def runs(session: Session, name: str | None = None, *, limit: int = 50) -> list[JobRun]:
    """The latest runs, newest first; of one job when ``name`` is given."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if name is not None:
        query = query.where(JobRun.name == name)
    return list(session.scalars(query))


def last_success(session: Session) -> dict[str, dt.datetime]:
    """When each job last finished without error (for the metrics)."""
    from sqlalchemy import func

    rows = session.execute(
        select(JobRun.name, func.max(JobRun.finished_at))
        .where(JobRun.outcome == OK)
        .group_by(JobRun.name)
    ).all()
    return {name: at for name, at in rows if at is not None}
