"""How many non-public files each reader read per office day, counted in the store.

The reads are the access log's audit events (``store.access``), so counting them needs no
table of its own; the grouping runs in SQL, one row per reader and day, whatever the
volume of reads behind it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bonafides.disclosure import Audience
from bonafides.store.access import READ_TAG
from bonafides.store.tables import AuditEvent

#: Reads of a subject's non-public file: through the API or portal, and at the shell.
READ_TAGS: tuple[str, ...] = (READ_TAG, "cli:subject:read")


def _of_another(event: type[AuditEvent]) -> ColumnElement[bool]:
    """A read of someone else's file: a subject opening its own file, however often,
    reads nobody's data but its own (a read at the shell names no audience)."""
    audience = event.detail["audience"].as_string()
    return or_(audience.is_(None), audience != Audience.SUBJECT.value)


DailyReads = dict[str, dict[dt.date, int]]


def _local_day(session: Session, zone: str, offset: dt.timedelta) -> ColumnElement[dt.date]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(zone, AuditEvent.at), Date)
    # SQLite keeps naive UTC text and knows no zones: shift by the zone's offset.
    minutes = int(offset.total_seconds() // 60)
    return func.date(AuditEvent.at, f"{minutes:+d} minutes")


def daily_reads(session: Session, *, first: dt.date, last: dt.date, zone: str) -> DailyReads:
    """Reads per reader per office day from ``first`` to ``last`` inclusive.

    On SQLite the zone's offset on ``last`` is used for the whole window, which is exact
    for zones without daylight saving (China's); PostgreSQL converts each event exactly.
    """
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    offset = dt.datetime.combine(last, dt.time(12), tz).utcoffset() or dt.timedelta()
    day = _local_day(session, zone, offset).label("day")
    rows = session.execute(
        select(AuditEvent.actor, day, func.count())
        .where(
            AuditEvent.tag.in_(READ_TAGS),
            AuditEvent.at >= start,
            AuditEvent.at < end,
            _of_another(AuditEvent),
        )
        .group_by(AuditEvent.actor, day)
    )
    counts: DailyReads = defaultdict(dict)
    for actor, when, n in rows:
        stamp = when if isinstance(when, dt.date) else dt.date.fromisoformat(str(when))
        counts[actor][stamp] = int(n)
    return dict(counts)
