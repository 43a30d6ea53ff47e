"""Webhook delivery as a use case: match, claim, POST, record, each step short.

No database lock may be held while a receiver thinks, so delivery is not one unit of work
but several: matching new events to watchlists is one, claiming (leasing) the due
deliveries another, and each attempt's outcome one more; the POSTs run between them,
outside any transaction (``bonafides.exchange.webhooks`` holds the steps). The worker's
``deliver_webhooks`` job, ``bonafides watchlists deliver`` and the tests call this.
"""

from __future__ import annotations

import datetime as dt

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.exchange.webhooks import (
    DeliveryReport,
    Poster,
    attempt,
    claim,
    events_of,
    match,
    post,
    record,
)


def deliver_due(
    ctx: Context,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    poster: Poster = post,
) -> DeliveryReport:
    """Match new events to watchlists, then try every due delivery once.

    For a scheduler to call every minute or so; safe to run in several processes at once.
    ``now`` defaults to the context's clock.
    """
    now = now or ctx.clock.now()
    settings = ctx.settings
    report = DeliveryReport()
    with UnitOfWork(ctx.sessions) as unit:
        report.matched = match(unit.session, now=now)
        unit.commit()
    lease = dt.timedelta(seconds=2 * settings.webhook_timeout_seconds + 30)
    with UnitOfWork(ctx.sessions) as unit:
        due = claim(unit.session, now=now, lease=lease, limit=limit)
        unit.commit()
    if not due:
        return report
    with ctx.read_sessions() as session:
        events = events_of(session, due)
    for item in due:
        error = attempt(
            ctx.catalogue, settings, events.get(item.event_id), item, now=now, poster=poster
        )
        with UnitOfWork(ctx.sessions) as unit:
            record(
                unit.session,
                item,
                now=now,
                error=error,
                max_attempts=settings.webhook_max_attempts,
                report=report,
            )
            unit.commit()
    return report
