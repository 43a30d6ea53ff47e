"""Alerts on unusual reading (plan §67): a reader far above its own baseline is noticed.

Each account and each API key is compared with itself, not with a fixed quota: a
department's batch key that reads thousands of files a day is normal for it, an officer
who usually opens ten files and opens four hundred is not. The baseline is the median of
the reader's daily reads over the preceding window (days without reads count as zero,
so a reader that rarely reads has a low baseline); the threshold is ``factor`` times it,
and never below ``min_reads`` so that a new or quiet reader is not flagged for a normal
day's work. An alert is stored once per reader and day (a rescan is safe), audited, and
sent to every active operator as a notification, mailed when mail is on.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.store.reading import daily_reads
from bonafides.store.tables import ReadingAlert
from bonafides.workflows.common import ConflictError, NotFoundError
from bonafides.workflows.escalation import operators
from bonafides.workflows.notify import Note, Notifier

ALERT_TAG = "access:reading:alerted"
ACK_TAG = "access:reading:acknowledged"
TOPIC = "access:reading"


@dataclass(frozen=True)
class Policy:
    """When a day's reads are unusual for a reader."""

    min_reads: int = 100
    factor: float = 5.0
    window_days: int = 28

    def threshold(self, baseline: float) -> int:
        return max(self.min_reads, math.ceil(self.factor * baseline))


@dataclass(frozen=True)
class Reading:
    """One reader's day against its baseline."""

    actor: str
    day: dt.date
    reads: int
    baseline: float
    threshold: int

    @property
    def unusual(self) -> bool:
        return self.reads > self.threshold


def readings(session: Session, policy: Policy, *, day: dt.date, zone: str) -> list[Reading]:
    """Every reader who read on ``day``, with its baseline, most reads first."""
    first = day - dt.timedelta(days=policy.window_days)
    counts = daily_reads(session, first=first, last=day, zone=zone)
    window = [first + dt.timedelta(days=n) for n in range(policy.window_days)]
    out = []
    for actor, days in counts.items():
        reads = days.get(day, 0)
        if not reads:
            continue
        baseline = float(statistics.median(days.get(d, 0) for d in window))
        out.append(Reading(actor, day, reads, baseline, policy.threshold(baseline)))
    out.sort(key=lambda r: (-r.reads, r.actor))
    return out


def scan(
    session: Session,
    policy: Policy,
    notifier: Notifier,
    *,
    day: dt.date,
    zone: str,
    now: dt.datetime,
    actor: str,
) -> list[ReadingAlert]:
    """Store, audit and notify an alert for each unusual reader of ``day`` not yet alerted."""
    unusual = [r for r in readings(session, policy, day=day, zone=zone) if r.unusual]
    if not unusual:
        return []
    known = set(
        session.scalars(
            select(ReadingAlert.actor).where(
                ReadingAlert.day == day, ReadingAlert.actor.in_([r.actor for r in unusual])
            )
        )
    )
    staff = operators(session)
    alerts = []
    for reading in unusual:
        if reading.actor in known:
            continue
        alert = ReadingAlert(
            actor=reading.actor,
            day=day,
            reads=reading.reads,
            baseline=reading.baseline,
            threshold=reading.threshold,
            created_at=now,
        )
        session.add(alert)
        session.flush()
        ref = f"reading alert {alert.id}"
        audit.append(
            session,
            actor=actor,
            tag=ALERT_TAG,
            object_ref=ref,
            detail={
                "reader": reading.actor,
                "day": day.isoformat(),
                "reads": reading.reads,
                "baseline": reading.baseline,
                "threshold": reading.threshold,
            },
        )
        for account_id in staff:
            notifier.notify(
                session,
                Note(
                    account_id,
                    TOPIC,
                    f"Unusual reading by {reading.actor} on {day.isoformat()}",
                    f"{reading.actor} read {reading.reads} non-public files on "
                    f"{day.isoformat()}, against a usual {reading.baseline:g} a day "
                    f"(alert above {reading.threshold}). Check the access log and "
                    f"acknowledge the alert with what was found.",
                    ref,
                ),
            )
        alerts.append(alert)
    return alerts


def open_alerts(session: Session, *, include_acknowledged: bool = False) -> list[ReadingAlert]:
    query = select(ReadingAlert).order_by(ReadingAlert.day.desc(), ReadingAlert.id.desc())
    if not include_acknowledged:
        query = query.where(ReadingAlert.acknowledged_at.is_(None))
    return list(session.scalars(query))


def acknowledge(
    session: Session, alert_id: int, *, actor: str, note: str, now: dt.datetime
) -> ReadingAlert:
    """An operator closes an alert with what the check found; audited, never twice."""
    alert = session.get(ReadingAlert, alert_id)
    if alert is None:
        raise NotFoundError(f"no reading alert {alert_id}")
    if alert.acknowledged_at is not None:
        raise ConflictError(f"reading alert {alert_id} was acknowledged by {alert.acknowledged_by}")
    alert.acknowledged_by = actor[:64]
    alert.acknowledged_at = now
    alert.note = note[:500]
    audit.append(
        session,
        actor=actor,
        tag=ACK_TAG,
        object_ref=f"reading alert {alert_id}",
        detail={"reader": alert.actor, "day": alert.day.isoformat(), "note": note[:500]},
    )
    return alert
