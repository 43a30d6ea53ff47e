"""The timed jobs under their leases, both stores: two workers ticking together make one
run, a failed run is recorded and retried at the next tick, a dead worker's lease runs
out, and the real jobs (escalation, retention, checkpoints) do their work once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bonafides.app import jobs
from bonafides.app.jobs import Job, run_due, scheduled_jobs
from bonafides.context import Context
from bonafides.logs import REQUEST_ID
from bonafides.records import SubjectRef
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store import jobs as leases
from bonafides.store.tables import AuditEvent, JobLease, JobRun, Objection
from bonafides.worker import run_all_once, scheduler_for
from bonafides.workflows import objections
from tests import factories
from tests.security.world import World

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def other(settings: Settings, world: World) -> Iterator[Context]:
    """A second worker: its own engine and connections on the same store and clock."""
    context = Context(settings, clock=world.clock)
    yield context
    context.close()


@pytest.fixture
def mine(settings: Settings, world: World) -> Iterator[Context]:
    context = Context(settings, clock=world.clock)
    yield context
    context.close()


def _runs(ctx: Context, name: str) -> list[JobRun]:
    with ctx.sessions() as session:
        return list(reversed(leases.runs(session, name)))


def _together(*calls: tuple[Context, str]) -> list[object]:
    """Each call of ``run_due`` on its own thread, released at the same moment."""
    results: list[object] = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def slow(_ctx: Context, _session: object) -> dict[str, int]:
        time.sleep(0.3)  # long enough that the others arrive while it runs
        return {"done": 1}

    job = Job("test:slow", HOUR, slow, "a job that takes a moment")

    def call(i: int, ctx: Context, holder: str) -> None:
        gate.wait()
        results[i] = run_due(ctx, job, holder)

    threads = [threading.Thread(target=call, args=(i, c, h)) for i, (c, h) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_workers_ticking_together_make_one_run(mine: Context, other: Context) -> None:
    results = _together((mine, "host-a:1"), (other, "host-b:2"))
    assert sum(r is not None for r in results) == 1
    (run,) = _runs(mine, "test:slow")
    assert run.outcome == "ok"
    assert run.counts == {"done": 1}
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert run.holder in ("host-a:1", "host-b:2")


def test_a_job_run_recently_is_not_due_for_another_worker(
    mine: Context, other: Context, world: World
) -> None:
    calls: list[str] = []

    def count(_ctx: Context, _session: object) -> dict[str, int]:
        calls.append("x")
        return {}

    job = Job("test:count", HOUR, count, "counts its calls")
    assert run_due(mine, job, "a") is not None
    assert run_due(other, job, "b") is None, "ran a moment ago on a"
    world.clock.advance(minutes=50)
    assert run_due(other, job, "b") is None, "not due before most of the interval"
    world.clock.advance(minutes=5)
    assert run_due(other, job, "b") is not None
    assert calls == ["x", "x"]


def test_a_failed_run_is_recorded_and_retried_at_the_next_tick(
    mine: Context, other: Context, world: World
) -> None:
    attempts: list[int] = []

    ids: list[str] = []

    def flaky(_ctx: Context, session: object) -> dict[str, int]:
        attempts.append(1)
        ids.append(REQUEST_ID.get())
        if len(attempts) == 1:
            raise RuntimeError("SMTP server 110101199003074514 is down")
        return {"sent": 3}

    job = Job("test:flaky", HOUR, flaky, "fails once")
    first = run_due(mine, job, "a")
    assert first is not None
    assert not first.ok
    assert first.error is not None
    assert "RuntimeError" in first.error
    assert "110101199003074514" not in first.error, "no ID number in the record"
    world.clock.advance(seconds=1)
    second = run_due(other, job, "b")
    assert second is not None, "due again at once after a failure"
    assert second.ok
    failed, ok = _runs(mine, "test:flaky")
    assert (failed.outcome, failed.holder) == ("failed", "a")
    assert failed.error is not None
    assert failed.finished_at is not None
    assert (ok.outcome, ok.counts, ok.error) == ("ok", {"sent": 3}, None)
    assert run_due(mine, job, "a") is None, "after a success it waits for its interval"
    assert ids == [f"job-{failed.id}", f"job-{ok.id}"], "its log lines name the run"
    assert REQUEST_ID.get() == "-"


def test_a_dead_workers_lease_runs_out(mine: Context, other: Context, world: World) -> None:
    with mine.sessions.begin() as session:
        run = leases.claim(
            session,
            "test:orphan",
            "dead:9",
            world.clock.now(),
            lease=dt.timedelta(seconds=mine.settings.job_lease_seconds),
            next_due=world.clock.now(),
        )
        assert run is not None
    job = Job("test:orphan", HOUR, lambda c, s: {"ok": 1}, "left behind")
    assert run_due(other, job, "b") is None, "the holder may still be running it"
    world.clock.advance(seconds=mine.settings.job_lease_seconds + 1)
    taken = run_due(other, job, "b")
    assert taken is not None
    assert taken.ok
    with other.sessions() as session:
        lease = session.get(JobLease, "test:orphan")
        assert lease is not None
        assert lease.holder is None
        orphan = session.get(JobRun, run.id)
        assert orphan is not None
        assert orphan.outcome == "running", "its end is unknown"


def test_two_workers_escalate_an_overdue_objection_once(
    mine: Context, other: Context, world: World
) -> None:
    firm: SubjectRef = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("ops", Role.OPERATOR)
    with world.ctx.sessions.begin() as session:
        opened = objections.open_objection(
            session,
            world.services(),
            world.principal("firm"),
            record_id=world.penalty(firm),
            grounds="The fine was paid in full before the decision was published.",
        )
    world.clock.advance(days=30)
    chosen = [j for j in scheduled_jobs(mine.settings) if j.name == "workflows:escalate"]
    outcomes: list[object] = []

    def tick(ctx: Context, holder: str) -> None:
        outcomes.append(run_all_once(ctx, chosen, holder)["workflows:escalate"])

    threads = [threading.Thread(target=tick, args=a) for a in ((mine, "a"), (other, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = [o for o in outcomes if isinstance(o, jobs.Outcome)]
    assert len(ran) == 1
    assert ran[0].counts == {"objections": 1, "repairs": 0, "complaints": 0}
    with mine.sessions() as session:
        escalated = session.get(Objection, opened.id)
        assert escalated is not None
        assert escalated.escalated_at is not None
        events = session.scalar(
            select(func.count()).where(AuditEvent.tag == "objection:objection:escalated")
        )
        assert events == 1
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.tag.like("%escalated")))
    assert len(_runs(mine, "workflows:escalate")) == 1


def test_the_real_jobs_run_and_record_their_counts(mine: Context, world: World) -> None:
    firm: SubjectRef = factories.org()
    world.penalty(firm, days_ago=30)
    outcomes = run_all_once(mine, scheduled_jobs(mine.settings), "a")
    assert set(outcomes) == {
        "workflows:escalate",
        "records:expire",
        "audit:checkpoint",
        "feed:webhooks",
        "access:alerts",
        "exports:snapshot",
    }
    assert all(o is not None and o.ok for o in outcomes.values()), outcomes
    snapshot, alerts = outcomes["exports:snapshot"], outcomes["access:alerts"]
    assert snapshot is not None
    assert snapshot.counts["records.parquet"] == 1
    assert alerts is not None
    assert alerts.counts == {"alerts": 0}
    assert (mine.settings.data_dir / "exports").is_dir()
    checkpoint, expire = outcomes["audit:checkpoint"], outcomes["records:expire"]
    assert checkpoint is not None
    assert checkpoint.counts == {"signed": 1}
    assert expire is not None
    assert expire.counts == {"records": 0, "subjects": 0}
    world.clock.advance(hours=2)
    again = run_all_once(mine, scheduled_jobs(mine.settings), "a")
    signed = again["audit:checkpoint"]
    assert signed is not None
    assert signed.counts == {"signed": 0}, "the head is signed already"
    assert len(_runs(mine, "audit:checkpoint")) == 2


def test_mail_is_scheduled_only_with_smtp_and_intervals_follow_the_settings(
    settings: Settings,
) -> None:
    assert "notifications:mail" not in {j.name for j in scheduled_jobs(settings)}
    configured = settings.model_copy(
        update={"smtp_host": "mail.example", "job_expire_minutes": 0, "job_mail_minutes": 5}
    )
    chosen = {j.name: j.every for j in scheduled_jobs(configured)}
    assert chosen["notifications:mail"] == dt.timedelta(minutes=5)
    assert "records:expire" not in chosen
    assert {"feed:webhooks", "access:alerts", "exports:snapshot"} <= set(chosen)


def test_the_scheduler_fires_each_job_at_its_interval(mine: Context) -> None:
    chosen = scheduled_jobs(mine.settings)
    scheduler = scheduler_for(mine, chosen, "a")
    found = {j.id: j for j in scheduler.get_jobs()}
    assert set(found) == {j.name for j in chosen}
    for job in chosen:
        assert found[job.name].trigger.interval == job.every
    runner = threading.Thread(target=scheduler.start)
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(_finished(mine)) < len(chosen):
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
        runner.join(timeout=10)
    assert sorted(r.name for r in _finished(mine)) == sorted(j.name for j in chosen)
    assert {r.outcome for r in _finished(mine)} == {"ok"}


def _finished(ctx: Context) -> list[JobRun]:
    with ctx.sessions() as session:
        return [r for r in leases.runs(session) if r.finished_at is not None]
