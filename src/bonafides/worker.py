"""The job worker process: APScheduler fires each timed job at its interval.

One ``BlockingScheduler`` per process, each job with ``max_instances=1`` and
``coalesce`` (a worker that was busy or asleep runs a missed job once, not once per
missed tick). Whether a tick actually runs the job is decided in the store
(``bonafides.app.jobs.run_due``), so any number of these processes may run, on any
number of hosts, against one database.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from bonafides.app.jobs import Job, Outcome, run_due
from bonafides.context import Context

log = logging.getLogger(__name__)


def holder_name() -> str:
    """Who holds a lease, as operators will read it in ``job_runs``: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def run_all_once(ctx: Context, jobs: list[Job], holder: str) -> dict[str, Outcome | None]:
    """Each job once, if due and free (``bonafides worker --once``, e.g. from cron)."""
    return {job.name: run_due(ctx, job, holder) for job in jobs}


def scheduler_for(ctx: Context, jobs: list[Job], holder: str) -> BlockingScheduler:
    """A scheduler with every job due at once on start, then at its interval."""
    scheduler = BlockingScheduler(
        timezone=dt.UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    start = dt.datetime.now(dt.UTC)
    for job in jobs:
        scheduler.add_job(
            run_due,
            IntervalTrigger(seconds=job.every.total_seconds(), timezone=dt.UTC),
            args=(ctx, job, holder),
            id=job.name,
            name=job.about,
            next_run_time=start,
        )
    return scheduler


def serve_jobs(ctx: Context, jobs: list[Job], holder: str) -> None:
    """Run until SIGTERM or SIGINT; a run in progress finishes first."""
    scheduler = scheduler_for(ctx, jobs, holder)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker %s stopping (signal %d)", holder, signum)
        scheduler.shutdown(wait=False)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    log.info("worker %s running %s", holder, ", ".join(job.name for job in jobs))
    scheduler.start()
