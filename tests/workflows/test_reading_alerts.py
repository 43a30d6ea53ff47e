"""Unusual reading is noticed (plan §67): a scripted burst against each reader's own
baseline, on both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from bonafides.app.alerts import acknowledge_alert, list_alerts, scan_day
from bonafides.cli import app
from bonafides.context import Context
from bonafides.security.accounts import create_account
from bonafides.security.clock import FixedClock
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.access import log_read
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import AuditEvent, Notification, ReadingAlert, Subject
from bonafides.workflows.common import ConflictError
from bonafides.workflows.reading_alerts import ALERT_TAG, Policy
from tests.workflows.conftest import Inbox

ZONE = "Asia/Shanghai"
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)  # 14:00 in Beijing
TODAY = dt.date(2026, 11, 20)


def _context(db_url: str, tmp_path: Path, **settings: Any) -> Context:
    return Context(
        Settings(
            db=db_url,
            secret_key="test-secret-key-123",
            data_dir=tmp_path,
            timezone=ZONE,
            **settings,
        ),
        clock=FixedClock(NOW),
    )


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[Context]:
    context = _context(db_url, tmp_path)
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
        session.add(
            Subject(key="91110000100000000X", kind="legal_person", code_display="x", name="某公司")
        )
        for name in ("op1", "op2"):
            create_account(
                session,
                context.catalogue,
                context.keys,
                context.clock,
                username=name,
                role=Role.OPERATOR,
                display_name=name,
                password=None,
                actor="test",
                email=f"{name}@office.example.cn",
            )
    yield context
    context.close()


def _reads(ctx: Context, actor: str, day: dt.date, n: int, *, audience: str = "authority") -> None:
    """``n`` logged reads by ``actor`` at 10:00 Beijing time on ``day``.

    The chain stamps events with the wall clock, so history is made by moving their
    timestamps afterwards; the chain itself is not under test here.
    """
    with ctx.sessions.begin() as session:
        subject_id = session.scalar(select(Subject.id))
        assert subject_id is not None
        ids = [
            log_read(
                session,
                actor=actor,
                role="officer",
                department="samr",
                subject_id=subject_id,
                purpose="supervision",
                what="file",
                audience=audience,
            ).id
            for _ in range(n)
        ]
        at = dt.datetime.combine(day, dt.time(2, 0), dt.UTC)  # 10:00 in Beijing
        session.execute(update(AuditEvent).where(AuditEvent.id.in_(ids)).values(at=at))


def _history(ctx: Context, actor: str, per_day: int, days: int = 28) -> None:
    for back in range(1, days + 1):
        _reads(ctx, actor, TODAY - dt.timedelta(days=back), per_day)


def test_a_burst_far_above_the_readers_own_baseline_alerts_the_operators(ctx: Context) -> None:
    _history(ctx, "user:officer", 10)
    _reads(ctx, "user:officer", TODAY, 400)

    alerts = scan_day(ctx, day=TODAY, actor="cli:test")

    assert [(a.actor, a.reads, a.baseline, a.threshold) for a in alerts] == [
        ("user:officer", 400, 10.0, 100)
    ]
    with ctx.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.tag == ALERT_TAG)).all()
        assert [e.detail["reader"] for e in events] == ["user:officer"]
        notes = session.scalars(select(Notification.title)).all()
        assert notes == ["Unusual reading by user:officer on 2026-11-20"] * 2


def test_the_operators_are_mailed_once_the_alert_is_committed(
    ctx: Context, db_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    _reads(ctx, "user:officer", TODAY, 150)
    mailing = _context(db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    try:
        assert len(scan_day(mailing, day=TODAY, actor="cli:test")) == 1
    finally:
        mailing.close()
    recipients = sorted(r for rcpt, _ in inbox.messages for r in rcpt)
    assert recipients == ["op1@office.example.cn", "op2@office.example.cn"]
    assert all("Unusual reading by user:officer" in m["Subject"] for _, m in inbox.messages)


def test_a_subject_reading_its_own_file_is_no_unusual_reading(ctx: Context) -> None:
    """A company that opens its own file all day reads nobody else's: no alert, and the
    reads of an authority on the same day are still counted."""
    _reads(ctx, "user:firm", TODAY, 400, audience="subject")
    _reads(ctx, "user:officer", TODAY, 101)

    alerts = scan_day(ctx, day=TODAY, actor="cli:test")

    assert [(a.actor, a.reads) for a in alerts] == [("user:officer", 101)]


def test_a_rescan_of_the_same_day_never_alerts_twice(ctx: Context) -> None:
    _reads(ctx, "user:officer", TODAY, 150)
    assert len(scan_day(ctx, day=TODAY, actor="cli:test")) == 1
    _reads(ctx, "user:officer", TODAY, 50)
    assert scan_day(ctx, day=TODAY, actor="cli:test") == []
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReadingAlert)) == 1


def test_a_reader_at_its_usual_volume_is_not_flagged_however_large(ctx: Context) -> None:
    """A department's batch key that reads hundreds of files every day is normal for it;
    five times its usual day is not."""
    _history(ctx, "key:7:batch", 300)
    _reads(ctx, "key:7:batch", TODAY, 600)
    assert scan_day(ctx, day=TODAY, actor="cli:test") == []
    _reads(ctx, "key:7:batch", TODAY, 901)
    assert [(a.actor, a.baseline, a.threshold) for a in scan_day(ctx, day=TODAY, actor="t")] == [
        ("key:7:batch", 300.0, 1500)
    ]


def test_a_rare_reader_has_a_baseline_of_zero_and_meets_the_floor(ctx: Context) -> None:
    """Ten busy days in four weeks leave a median of zero: the floor decides."""
    _history(ctx, "user:rare", 300, days=10)
    _reads(ctx, "user:rare", TODAY, 101)
    assert [(a.baseline, a.threshold) for a in scan_day(ctx, day=TODAY, actor="t")] == [(0.0, 100)]


def test_a_new_reader_is_judged_by_the_floor_not_by_an_empty_history(ctx: Context) -> None:
    _reads(ctx, "user:newcomer", TODAY, 100)
    assert scan_day(ctx, day=TODAY, actor="cli:test") == []
    _reads(ctx, "user:newcomer", TODAY, 1)
    assert [a.actor for a in scan_day(ctx, day=TODAY, actor="cli:test")] == ["user:newcomer"]


def test_reads_count_in_the_office_day_not_the_utc_day(ctx: Context) -> None:
    """17:00 UTC on the 19th is 01:00 on the 20th in Beijing."""
    with ctx.sessions.begin() as session:
        subject_id = session.scalar(select(Subject.id))
        assert subject_id is not None
        ids = [
            log_read(
                session,
                actor="user:night",
                role="officer",
                department="samr",
                subject_id=subject_id,
                purpose="supervision",
                what="file",
                audience="authority",
            ).id
            for _ in range(150)
        ]
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id.in_(ids))
            .values(at=dt.datetime(2026, 11, 19, 17, 0, tzinfo=dt.UTC))
        )
    assert scan_day(ctx, day=TODAY - dt.timedelta(days=1), actor="cli:test") == []
    assert [a.actor for a in scan_day(ctx, day=TODAY, actor="cli:test")] == ["user:night"]


def test_an_alert_is_acknowledged_once_with_what_was_found(ctx: Context) -> None:
    _reads(ctx, "user:officer", TODAY, 150)
    (alert,) = scan_day(ctx, day=TODAY, actor="cli:test")
    done = acknowledge_alert(ctx, alert.id, actor="cli:op1", note="year-end audit, approved")
    assert done.acknowledged_by == "cli:op1"
    assert list_alerts(ctx) == []
    assert [a.note for a in list_alerts(ctx, include_acknowledged=True)] == [
        "year-end audit, approved"
    ]
    with pytest.raises(ConflictError):
        acknowledge_alert(ctx, alert.id, actor="cli:op2", note="again")


def test_policy_threshold_is_the_larger_of_floor_and_multiple() -> None:
    policy = Policy(min_reads=100, factor=5.0)
    assert policy.threshold(0) == 100
    assert policy.threshold(30) == 150
    assert policy.threshold(30.5) == 153


def test_the_cli_scans_lists_and_acknowledges(ctx: Context, db_url: str) -> None:
    _reads(ctx, "user:officer", TODAY, 150)
    runner = CliRunner()
    env = {"BONAFIDES_SECRET_KEY": "test-secret-key-123", "BONAFIDES_TIMEZONE": ZONE}
    scanned = runner.invoke(
        app, ["alerts", "scan", "--day", TODAY.isoformat(), "--db", db_url], env=env
    )
    assert scanned.exit_code == 0, scanned.output
    assert "user:officer read 150 files" in scanned.output
    listed = runner.invoke(app, ["alerts", "list", "--db", db_url], env=env)
    assert "user:officer" in listed.output
    with ctx.sessions() as session:
        alert_id = session.scalar(select(ReadingAlert.id))
    acked = runner.invoke(
        app, ["alerts", "ack", str(alert_id), "--note", "checked", "--db", db_url], env=env
    )
    assert acked.exit_code == 0, acked.output
    again = runner.invoke(
        app, ["alerts", "ack", str(alert_id), "--note", "checked", "--db", db_url], env=env
    )
    assert again.exit_code == 2
    assert "acknowledged by" in again.output
