"""``bonafides worker``: the timed jobs (escalation, retention, mail, audit checkpoints),
and ``bonafides jobs runs``: what they did."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bonafides.commands.rules import DbOption, _settings, out

jobs_app = typer.Typer(help="The worker's timed jobs and their runs.", no_args_is_help=True)


def worker(
    db: DbOption = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run each job once if it is due, then exit (for cron)."),
    ] = False,
) -> None:
    """Run the timed jobs: escalate overdue cases, expire records past retention, mail
    notifications, sign audit checkpoints. Any number of workers may run against one
    store; each job runs on one of them at a time."""
    from bonafides.app.jobs import scheduled_jobs
    from bonafides.context import Context
    from bonafides.logs import configure_logging
    from bonafides.worker import holder_name, run_all_once, serve_jobs

    settings = _settings(db)
    configure_logging(settings.log_format)
    ctx = Context(settings)
    jobs = scheduled_jobs(settings)
    holder = holder_name()
    try:
        if not once:
            serve_jobs(ctx, jobs, holder)
            return
        failed = False
        for name, outcome in run_all_once(ctx, jobs, holder).items():
            if outcome is None:
                out.print(f"{name}: not due, or running elsewhere")
            elif outcome.ok:
                out.print(f"{name}: ok {outcome.counts}")
            else:
                failed = True
                out.print(f"{name}: failed: {outcome.error}", markup=False)
    finally:
        ctx.close()
    if failed:
        raise typer.Exit(1)


@jobs_app.command("runs")
def job_runs(
    db: DbOption = None,
    job: Annotated[str | None, typer.Option("--job", help="Only this job's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
) -> None:
    """The latest runs of the timed jobs: worker, start, end, outcome, counts, error."""
    from bonafides.context import Context
    from bonafides.store.jobs import runs

    table = Table("run", "job", "worker", "started", "finished", "outcome", "counts", "error")
    ctx = Context(_settings(db))
    try:
        with ctx.sessions() as session:
            for run in runs(session, job, limit=limit):
                table.add_row(
                    str(run.id),
                    run.name,
                    run.holder,
                    run.started_at.isoformat(timespec="seconds"),
                    run.finished_at.isoformat(timespec="seconds") if run.finished_at else "",
                    run.outcome,
                    ", ".join(f"{k} {v}" for k, v in run.counts.items()),
                    run.error or "",
                )
    finally:
        ctx.close()
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.add_typer(jobs_app, name="jobs")
