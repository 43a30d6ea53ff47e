"""Watchlists and their webhooks: a signed POST when a watched subject's public status
changes, retried with backoff, dead-lettered after the last attempt.

Delivery runs in three steps, so that no database lock is held while a receiver thinks:

1. ``match``: the public feed events about watched subjects since each watchlist's
   cursor become ``webhook_deliveries`` rows, in one ``INSERT ... SELECT``;
2. ``claim``: due deliveries are leased (their next attempt moved past the HTTP timeout)
   and committed, so a second deliverer running at the same time skips them;
3. each is POSTed, and the outcome written: delivered, or the next attempt after an
   exponential backoff, or ``dead`` once ``BONAFIDES_WEBHOOK_MAX_ATTEMPTS`` have failed.

Each step takes the session it works on and never commits: the use case
``bonafides.app.webhooks.deliver_due`` runs each short transaction in a unit of work of
its own, and is what the worker, ``bonafides watchlists deliver`` or a test calls.
Several may run at once on PostgreSQL (matching locks the watchlists, claiming skips
leased rows); on SQLite run one.

The signature (docs/api.md, "Watchlists and webhooks") is HMAC-SHA256 under the
watchlist's secret over ``"{timestamp}.{body}"``; the receiver checks it, refuses a
timestamp far from its own clock and ignores an event id it has already applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, String, insert, literal, select, update
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.disclosure import Audience
from bonafides.exchange.feed import shown_payload
from bonafides.settings import Settings
from bonafides.store import feed
from bonafides.store.tables import (
    FeedEvent,
    Subject,
    WatchedSubject,
    Watchlist,
    WebhookDelivery,
)

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"

SIGNATURE_HEADER = "Bonafides-Signature"
TIMESTAMP_HEADER = "Bonafides-Timestamp"
EVENT_HEADER = "Bonafides-Event"
DELIVERY_HEADER = "Bonafides-Delivery"
#: What a receiver should accept between the timestamp and its own clock.
TOLERANCE_SECONDS = 300
#: The first retry waits this long; each later one twice the one before, up to a day.
FIRST_BACKOFF_SECONDS = 60
MAX_BACKOFF_SECONDS = 86_400
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class WebhookUrlError(ValueError):
    """A webhook address the platform will not post to; the message says why."""


def check_url(url: str) -> str:
    """HTTPS anywhere, plain HTTP only to this machine (a receiver under test)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookUrlError("the webhook URL must be an absolute https:// address")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise WebhookUrlError("the webhook URL must use https:// (http only to 127.0.0.1)")
    if parts.username or parts.password:
        raise WebhookUrlError("the webhook URL must not carry a user name or password")
    return url.strip()


def new_salt() -> str:
    return secrets.token_hex(16)


def secret_of(master: str, salt: str) -> str:
    """The watchlist's signing secret: derived from the platform's master secret and the
    watchlist's salt, so the store alone does not hold it."""
    return hmac.new(master.encode(), f"webhook:{salt}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``"{timestamp}." + body`` under ``secret``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(
    secret: str, *, timestamp: str, body: bytes, signature: str, now: int, tolerance: int
) -> bool:
    """What a receiver does (and the tests do): the signature matches, and the timestamp
    is within ``tolerance`` seconds of its clock. Replays inside the window are caught by
    remembering the event ids applied."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, ... minutes, at most a day."""
    seconds = FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def watched_subjects(watchlist_id: int) -> Select[Any]:
    """The ids of the stored subjects a watchlist names (codes not yet in the store match
    once they arrive)."""
    return (
        select(Subject.id)
        .join(WatchedSubject, WatchedSubject.subject_key == Subject.key)
        .where(WatchedSubject.watchlist_id == watchlist_id)
    )


def match(session: Session, *, now: dt.datetime) -> int:
    """Owe every active watchlist with a URL the public events about its subjects since
    its cursor, and move the cursors to the head. Returns the deliveries added.

    On PostgreSQL the watchlists are locked first, so a second deliverer waits and then
    finds the cursors moved instead of owing the same events twice.
    """
    if session.connection().dialect.name == "postgresql":
        session.execute(select(Watchlist.id).where(Watchlist.active).with_for_update())
    head = feed.last_id(session)
    wl = Watchlist
    rows = (
        select(
            wl.id,
            FeedEvent.id,
            literal(PENDING, String()),
            literal(0),
            literal(now, WebhookDelivery.next_at.type),
        )
        .select_from(FeedEvent)
        .join(Subject, Subject.id == FeedEvent.subject_id)
        .join(WatchedSubject, WatchedSubject.subject_key == Subject.key)
        .join(wl, wl.id == WatchedSubject.watchlist_id)
        .where(
            wl.active,
            wl.url.is_not(None),
            FeedEvent.is_public,
            FeedEvent.id > wl.cursor,
            FeedEvent.id <= head,
        )
        .order_by(FeedEvent.id, wl.id)
    )
    added = session.execute(
        insert(WebhookDelivery)
        .from_select(["watchlist_id", "event_id", "status", "attempts", "next_at"], rows)
        .returning(WebhookDelivery.id)
    ).all()
    session.execute(
        update(Watchlist)
        .where(Watchlist.active, Watchlist.cursor < head)
        .values(cursor=head)
        .execution_options(synchronize_session=False)
    )
    return len(added)


@dataclass(frozen=True)
class Due:
    delivery_id: int
    watchlist_id: int
    event_id: int
    attempts: int
    url: str
    salt: str


def claim(session: Session, *, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[Due]:
    """Lease up to ``limit`` due deliveries: their next attempt moves past ``lease``, so a
    deliverer that dies mid-POST leaves them to be tried again, and another one running
    meanwhile skips them (PostgreSQL: rows locked by it are skipped, not waited for)."""
    query = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.watchlist_id,
            WebhookDelivery.event_id,
            WebhookDelivery.attempts,
            Watchlist.url,
            Watchlist.salt,
        )
        .join(Watchlist, Watchlist.id == WebhookDelivery.watchlist_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_at <= now,
            Watchlist.active,
            Watchlist.url.is_not(None),
        )
        .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
        .limit(limit)
    )
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update(of=WebhookDelivery, skip_locked=True)
    found = [
        Due(rid, wid, eid, attempts, str(url), salt)
        for rid, wid, eid, attempts, url, salt in session.execute(query)
    ]
    if found:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([d.delivery_id for d in found]))
            .values(next_at=now + lease)
            .execution_options(synchronize_session=False)
        )
    return found


def body_of(catalogue: Any, event: Any, delivery: Due, instance: str) -> bytes:
    """The JSON posted: the event as the public feed shows it, and which delivery it is."""
    shown = {
        "cursor": event.id,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "origin": event.origin,
        "tombstone": event.tombstone,
        "disclosure": event.disclosure,
        "subject_code": event.subject_code,
        "record_id": event.record_id,
        "record_version": event.record_version,
        "list_entry_id": event.list_entry_id,
        "payload": shown_payload(catalogue, event, Audience.PUBLIC),
    }
    document = {
        "id": f"{instance}:{event.id}",
        "watchlist": delivery.watchlist_id,
        "delivery": delivery.delivery_id,
        "attempt": delivery.attempts + 1,
        "event": shown,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


#: Posts ``body`` to ``url`` with ``headers``; returns the HTTP status, raises OSError.
Poster = Callable[[str, bytes, dict[str, str], float], int]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """One POST with urllib; any status is returned, a network failure raised."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class DeliveryReport:
    matched: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


def events_of(session: Session, due: list[Due]) -> dict[int, Any]:
    """The feed events the claimed deliveries carry, by id (a compacted one is missing)."""
    return {
        row.id: row
        for row in session.execute(
            select(*feed.EVENT_COLUMNS).where(FeedEvent.id.in_({d.event_id for d in due}))
        )
    }


def attempt(
    catalogue: Catalogue,
    settings: Settings,
    event: Any | None,
    item: Due,
    *,
    now: dt.datetime,
    poster: Poster = post,
) -> str | None:
    """Sign and POST one delivery, outside any transaction; the error, or None if the
    receiver took it (a 2xx)."""
    if event is None:
        return "the event was compacted away before delivery"
    body = body_of(catalogue, event, item, settings.instance)
    stamp = int(now.timestamp())
    master = settings.secret_key.get_secret_value()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "bonafides-webhook/1",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret_of(master, item.salt), stamp, body),
        EVENT_HEADER: f"{settings.instance}:{event.id}",
        DELIVERY_HEADER: str(item.delivery_id),
    }
    try:
        status = poster(item.url, body, headers, settings.webhook_timeout_seconds)
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None if 200 <= status < 300 else f"HTTP {status}"


def record(
    session: Session,
    item: Due,
    *,
    now: dt.datetime,
    error: str | None,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    """Write one attempt's outcome: delivered, retried after a backoff, or dead."""
    attempts = item.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_at": now, "last_error": error}
    if error is None:
        values.update(status=DELIVERED, delivered_at=now)
        report.delivered += 1
    elif attempts >= max_attempts:
        values.update(status=DEAD)
        report.dead += 1
    else:
        values.update(next_at=now + backoff(attempts))
        report.retried += 1
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == item.delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def redeliver(session: Session, watchlist_id: int, *, now: dt.datetime) -> int:
    """Put a watchlist's dead letters back in the queue (after its receiver is fixed)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.watchlist_id == watchlist_id, WebhookDelivery.status == DEAD)
        .values(status=PENDING, attempts=0, next_at=now)
        .execution_options(synchronize_session=False)
        .returning(WebhookDelivery.id)
    )
    return len(result.all())
