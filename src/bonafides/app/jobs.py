"""The platform's timed jobs, and running one of them once under its lease.

Each job is a use case like any other: it runs in a ``UnitOfWork`` (one commit, effects
after it) and the services it calls audit what they change. ``run_due`` wraps it in the
lease of ``bonafides.store.jobs``: take the lease (its own short transaction, so other
workers see it at once), run, record the outcome and counts, free the lease. Two
workers ticking together make one run; a run that fails is recorded with its error, and
the job is due again at once, so the next tick of any worker retries it.

``bonafides worker`` (``bonafides.worker``) schedules these with APScheduler; the jobs
themselves are idempotent too (an escalated item is not escalated again, an expired
record stays expired, a mailed note is not mailed again, a checkpointed head is not
signed again), so a lease that ran out under a slow run costs time, never a duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bonafides import metrics
from bonafides.app import webhooks
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.logs import REQUEST_ID
from bonafides.security.logredact import redact
from bonafides.settings import Settings
from bonafides.store import jobs as leases

log = logging.getLogger(__name__)

ACTOR = "worker"

#: What a job did, by name: items escalated, records expired, mails sent, ...
Counts = dict[str, int]
JobFunction = Callable[[Context, Session], Counts]


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    run: JobFunction
    about: str


def escalate_overdue(ctx: Context, session: Session) -> Counts:
    """Objections, repair applications and complaints past their deadline go to the
    operators (once per item)."""
    from bonafides.workflows import complaints, objections, repair
    from bonafides.workflows.common import services_for

    services = services_for(ctx)
    counts: Counts = {}
    for name, workflow in (
        ("objections", objections),
        ("repairs", repair),
        ("complaints", complaints),
    ):
        done = workflow.escalate(session, services.deadlines, services.notifier, actor=ACTOR)
        counts[name] = len(done)
    return counts


def expire_records(ctx: Context, session: Session) -> Counts:
    """Records past their retention period become ``expired`` (principle 2)."""
    from bonafides.workflows.retention import expire_records as expire

    result = expire(session, as_of=ctx.today(), actor=ACTOR, at=ctx.clock.now())
    return {"records": result.records, "subjects": result.subjects}


def send_mail(ctx: Context, session: Session) -> Counts:
    """Mail the queued notifications; failed ones stay queued for the next run."""
    from bonafides.workflows.notify import SmtpMailer, deliver

    mailer = SmtpMailer.from_settings(ctx.settings)
    if mailer is None:
        return {"sent": 0, "failed": 0}
    result = deliver(session, mailer, ctx.clock)
    return {"sent": result.sent, "failed": result.failed}


def checkpoint_audit(ctx: Context, session: Session) -> Counts:
    """Sign a checkpoint of the audit chain's head unless one of it exists."""
    from bonafides.security.anchor import checkpoint_now
    from bonafides.store.types import utcnow

    try:
        # Stamped like the chain's events, which the checkpoint is compared with.
        _, written = checkpoint_now(session, utcnow())
    except LookupError:
        return {"signed": 0}
    return {"signed": int(written)}


def deliver_webhooks(ctx: Context, session: Session) -> Counts:
    """Match new feed events to watchlists and post the due deliveries. Delivery keeps its
    own short units of work (a slow receiver must hold no lock), so the run's unit of work
    writes nothing itself."""
    report = webhooks.deliver_due(ctx, now=ctx.clock.now())
    return {
        "matched": report.matched,
        "delivered": report.delivered,
        "retried": report.retried,
        "dead": report.dead,
    }


def scan_reading(ctx: Context, session: Session) -> Counts:
    """Alert the operators about readers far above their own baseline today (plan §67)."""
    from bonafides.app.alerts import policy_of
    from bonafides.workflows.common import services_for
    from bonafides.workflows.reading_alerts import scan

    alerts = scan(
        session,
        policy_of(ctx),
        services_for(ctx).notifier,
        day=ctx.today(),
        zone=ctx.settings.timezone,
        now=ctx.clock.now(),
        actor=ACTOR,
    )
    return {"alerts": len(alerts)}


def export_snapshot(ctx: Context, session: Session) -> Counts:
    """Write today's open-data snapshot (Parquet) where /api/v1/exports serves it. It
    reads in its own transaction and changes nothing in the store."""
    from bonafides.app.exports import make_export
    from bonafides.exchange.sinks import ExportFormat

    _, manifest = make_export(ctx, ExportFormat.PARQUET)
    return {name: int(item["rows"]) for name, item in manifest["files"].items()}


def scheduled_jobs(settings: Settings) -> list[Job]:
    """The jobs the settings turn on, each with its interval."""
    found = [
        Job(
            "workflows:escalate",
            dt.timedelta(minutes=settings.job_escalate_minutes),
            escalate_overdue,
            "escalate overdue objections, repair applications and complaints",
        ),
        Job(
            "records:expire",
            dt.timedelta(minutes=settings.job_expire_minutes),
            expire_records,
            "expire records whose retention period ended",
        ),
        Job(
            "audit:checkpoint",
            dt.timedelta(minutes=settings.audit_checkpoint_minutes),
            checkpoint_audit,
            "sign a checkpoint of the audit chain's head",
        ),
    ]
    found += [
        Job(
            "feed:webhooks",
            dt.timedelta(minutes=settings.job_webhooks_minutes),
            deliver_webhooks,
            "post the change feed's events to the watchlists' webhooks",
        ),
        Job(
            "access:alerts",
            dt.timedelta(minutes=settings.job_alerts_minutes),
            scan_reading,
            "alert the operators about unusual reading of non-public files",
        ),
        Job(
            "exports:snapshot",
            dt.timedelta(minutes=settings.job_export_minutes),
            export_snapshot,
            "write the open-data snapshot served at /api/v1/exports",
        ),
    ]
    if settings.smtp_host:
        found.append(
            Job(
                "notifications:mail",
                dt.timedelta(minutes=settings.job_mail_minutes),
                send_mail,
                "mail queued notifications",
            )
        )
    return [job for job in found if job.every > dt.timedelta(0)]


@dataclass(frozen=True)
class Outcome:
    run_id: int
    ok: bool
    counts: Counts
    error: str | None


#: A run is claimed once per interval: a worker ticking a little after another (clock
#: jitter, a slow start) finds the job not yet due. Past this share of the interval the
#: next run is due, so the owner's own next tick is never turned away for being early.
DUE_SHARE = 0.9


def run_due(ctx: Context, job: Job, holder: str) -> Outcome | None:
    """Run ``job`` once if it is due and no other worker holds it; None if not run."""
    lease = dt.timedelta(seconds=ctx.settings.job_lease_seconds)
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        run = leases.claim(
            session, job.name, holder, now, lease=lease, next_due=now + job.every * DUE_SHARE
        )
        run_id = None if run is None else run.id
    if run_id is None:
        return None
    started = time.perf_counter()
    counts: Counts = {}
    error: str | None = None
    # The run's log lines carry its id where a request's would carry the request's.
    token = REQUEST_ID.set(f"job-{run_id}")
    try:
        try:
            with UnitOfWork(ctx.sessions) as unit:
                counts = job.run(ctx, unit.session)
                unit.commit()
        except Exception as exc:
            error = redact(f"{type(exc).__name__}: {exc}")
            log.exception("job %s failed (run %d)", job.name, run_id)
        with ctx.sessions.begin() as session:
            leases.finish(session, run_id, ctx.clock.now(), counts=counts, error=error)
        outcome = leases.FAILED if error else leases.OK
        metrics.JOB_RUNS.labels(job.name, outcome).inc()
        metrics.JOB_DURATION.labels(job.name).observe(time.perf_counter() - started)
        log.info("job %s %s (run %d): %s", job.name, outcome, run_id, counts)
    finally:
        REQUEST_ID.reset(token)
    return Outcome(run_id, error is None, counts, error)
