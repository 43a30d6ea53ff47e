"""Use cases of the unusual-reading alerts: scan a day, list, acknowledge.

Each runs in one unit of work; the scan's notifications are mailed after its commit, so
an operator is told at once and never about an alert that was rolled back.
"""

from __future__ import annotations

import datetime as dt

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.store.tables import ReadingAlert
from bonafides.workflows import notify
from bonafides.workflows.common import services_for
from bonafides.workflows.reading_alerts import Policy, acknowledge, open_alerts, scan


def policy_of(ctx: Context) -> Policy:
    settings = ctx.settings
    return Policy(
        min_reads=settings.reading_alert_min,
        factor=settings.reading_alert_factor,
        window_days=settings.reading_alert_window_days,
    )


def _mail_after(uow: UnitOfWork, ctx: Context) -> None:
    mailer = notify.SmtpMailer.from_settings(ctx.settings)
    if mailer is None:
        return

    def send() -> None:
        with ctx.sessions.begin() as session:
            notify.deliver(session, mailer, ctx.clock)

    uow.after_commit(send)


def scan_day(ctx: Context, *, day: dt.date | None, actor: str) -> list[ReadingAlert]:
    """Alert on the unusual readers of ``day`` (default: the office's today)."""
    services = services_for(ctx)
    with UnitOfWork(ctx.sessions) as uow:
        alerts = scan(
            uow.session,
            policy_of(ctx),
            services.notifier,
            day=day or ctx.today(),
            zone=ctx.settings.timezone,
            now=ctx.clock.now(),
            actor=actor,
        )
        _mail_after(uow, ctx)
        uow.session.flush()
        for alert in alerts:
            uow.session.expunge(alert)
        uow.commit()
    return alerts


def list_alerts(ctx: Context, *, include_acknowledged: bool = False) -> list[ReadingAlert]:
    with UnitOfWork(ctx.sessions) as uow:
        found = open_alerts(uow.session, include_acknowledged=include_acknowledged)
        uow.session.expunge_all()
    return found


def acknowledge_alert(ctx: Context, alert_id: int, *, actor: str, note: str) -> ReadingAlert:
    with UnitOfWork(ctx.sessions) as uow:
        alert = acknowledge(uow.session, alert_id, actor=actor, note=note, now=ctx.clock.now())
        uow.session.flush()
        uow.session.expunge(alert)
        uow.commit()
    return alert
