"""Watchlists: an enterprise or a bank names its counterparties and is told when their
public status changes (issue 16, item 5). One function per use case, for the API and the
CLI: authorise, act, audit, and commit in the caller's unit of work.

A watchlist follows public events only: what it tells its owner is what the public feed
says, so watching a code discloses nothing the public could not read. Its owner may
also poll the feed narrowed to it, with whatever more its own scope allows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bonafides.app import feed as feed_app
from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.exchange import webhooks
from bonafides.exchange.feed import scope_for
from bonafides.security import audit
from bonafides.security.accounts import AccountError, claim_of
from bonafides.security.roles import Principal, Role
from bonafides.store import feed
from bonafides.store.tables import WatchedSubject, Watchlist, WebhookDelivery
from bonafides.workflows.common import ForbiddenError, InvalidError, NotFoundError

#: Codes one watchlist may hold; a larger portfolio is split over several.
MAX_CODES = 10_000


@dataclass(frozen=True)
class Created:
    watchlist: Watchlist
    #: The signing secret, shown once: the store keeps only what it is derived from.
    secret: str


def _owner(principal: Principal) -> int:
    if principal.role is Role.PUBLIC or principal.account_id is None:
        raise ForbiddenError("sign in, or send an API key, to keep a watchlist")
    return principal.account_id


def _claims(ctx: Context, codes: Iterable[str]) -> dict[str, str]:
    """Lookup key -> display for each code; the first invalid one is named."""
    found: dict[str, str] = {}
    for n, raw in enumerate(codes, 1):
        code = raw.strip()
        if not code:
            continue
        try:
            claim = claim_of(ctx.keys, code)
        except AccountError as exc:
            raise InvalidError(f"code {n} ({code[:20]!r}): {exc}") from None
        found[claim.key] = claim.display
    return found


def _add_codes(session: Session, watchlist_id: int, claims: dict[str, str]) -> int:
    have = set(
        session.scalars(
            select(WatchedSubject.subject_key).where(WatchedSubject.watchlist_id == watchlist_id)
        )
    )
    new = {k: v for k, v in claims.items() if k not in have}
    if len(have) + len(new) > MAX_CODES:
        raise InvalidError(f"a watchlist holds at most {MAX_CODES:,} codes; split the list")
    if new:
        session.add_all(
            WatchedSubject(watchlist_id=watchlist_id, subject_key=k, code_display=v)
            for k, v in sorted(new.items())
        )
    return len(new)


def created_in(
    session: Session,
    ctx: Context,
    principal: Principal,
    *,
    name: str,
    url: str | None,
    codes: Sequence[str],
) -> Created:
    """A new watchlist following events from now on; with a URL, they are POSTed to it."""
    owner = _owner(principal)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidError("name: 1 to 100 characters")
    if url is not None:
        try:
            url = webhooks.check_url(url)
        except webhooks.WebhookUrlError as exc:
            raise InvalidError(f"url: {exc}") from None
    claims = _claims(ctx, codes)
    salt = webhooks.new_salt()
    watchlist = Watchlist(
        account_id=owner,
        name=name,
        url=url,
        salt=salt,
        cursor=feed.last_id(session),
        active=True,
        created_at=ctx.clock.now(),
    )
    session.add(watchlist)
    session.flush()
    added = _add_codes(session, watchlist.id, claims)
    audit.append(
        session,
        actor=principal.actor,
        tag="watchlists:watchlist:created",
        object_ref=f"watchlist {watchlist.id}",
        detail={"codes": added, "webhook": url is not None},
    )
    secret = webhooks.secret_of(ctx.settings.secret_key.get_secret_value(), salt)
    return Created(watchlist, secret)


def get(session: Session, principal: Principal, watchlist_id: int) -> Watchlist:
    """The watchlist, for its owner or an operator."""
    found = session.get(Watchlist, watchlist_id)
    if found is None or (
        principal.role is not Role.OPERATOR and found.account_id != principal.account_id
    ):
        raise NotFoundError(f"no watchlist {watchlist_id}")
    return found


def mine(session: Session, principal: Principal) -> list[tuple[Watchlist, int]]:
    """The caller's watchlists, each with how many codes it holds."""
    owner = _owner(principal)
    counts = (
        select(WatchedSubject.watchlist_id, func.count().label("n"))
        .group_by(WatchedSubject.watchlist_id)
        .subquery()
    )
    rows = session.execute(
        select(Watchlist, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.watchlist_id == Watchlist.id)
        .where(Watchlist.account_id == owner)
        .order_by(Watchlist.id)
    )
    return [(w, int(n)) for w, n in rows]


def _added(
    session: Session, ctx: Context, principal: Principal, watchlist_id: int, codes: Sequence[str]
) -> int:
    watchlist = get(session, principal, watchlist_id)
    added = _add_codes(session, watchlist.id, _claims(ctx, codes))
    audit.append(
        session,
        actor=principal.actor,
        tag="watchlists:codes:added",
        object_ref=f"watchlist {watchlist.id}",
        detail={"codes": added},
    )
    return added


def _closed(session: Session, principal: Principal, watchlist_id: int) -> None:
    """Stop following: no more matches or deliveries; the codes are dropped."""
    watchlist = get(session, principal, watchlist_id)
    watchlist.active = False
    session.execute(delete(WatchedSubject).where(WatchedSubject.watchlist_id == watchlist.id))
    audit.append(
        session,
        actor=principal.actor,
        tag="watchlists:watchlist:closed",
        object_ref=f"watchlist {watchlist.id}",
        detail={},
    )


def _feed_page(
    session: Session,
    ctx: Context,
    principal: Principal,
    watchlist_id: int,
    *,
    after: int,
    limit: int,
) -> feed_app.FeedPage:
    """The feed narrowed to the watchlist's subjects, as the owner may see it."""
    watchlist = get(session, principal, watchlist_id)
    scope = dataclasses.replace(
        scope_for(session, ctx.catalogue, principal),
        watching=webhooks.watched_subjects(watchlist.id),
    )
    return feed_app.read(session, ctx.catalogue, principal, after=after, limit=limit, scope=scope)


def deliveries(
    session: Session, principal: Principal, watchlist_id: int, *, status: str | None, limit: int
) -> list[WebhookDelivery]:
    """The watchlist's deliveries, newest first; ``status='dead'`` for the dead letters."""
    watchlist = get(session, principal, watchlist_id)
    query = select(WebhookDelivery).where(WebhookDelivery.watchlist_id == watchlist.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def _requeued(
    session: Session, principal: Principal, watchlist_id: int, *, now: dt.datetime
) -> int:
    """Queue the dead letters again, once the receiver is fixed."""
    watchlist = get(session, principal, watchlist_id)
    count = webhooks.redeliver(session, watchlist.id, now=now)
    audit.append(
        session,
        actor=principal.actor,
        tag="watchlists:deliveries:requeued",
        object_ref=f"watchlist {watchlist.id}",
        detail={"deliveries": count},
    )
    return count


def create(
    unit: UnitOfWork,
    ctx: Context,
    principal: Principal,
    *,
    name: str,
    url: str | None,
    codes: Sequence[str],
) -> Created:
    """A new watchlist following events from now on; with a URL, they are POSTed to it."""
    return run(
        unit,
        lambda session: created_in(session, ctx, principal, name=name, url=url, codes=codes),
    )


def add_codes(
    unit: UnitOfWork, ctx: Context, principal: Principal, watchlist_id: int, codes: Sequence[str]
) -> int:
    """Follow more codes; those already followed are left as they are."""
    return run(unit, lambda session: _added(session, ctx, principal, watchlist_id, codes))


def close(unit: UnitOfWork, principal: Principal, watchlist_id: int) -> None:
    """Stop following: no more matches or deliveries; the codes are dropped."""
    run(unit, lambda session: _closed(session, principal, watchlist_id))


def read_feed(
    unit: UnitOfWork,
    ctx: Context,
    principal: Principal,
    watchlist_id: int,
    *,
    after: int,
    limit: int,
) -> feed_app.FeedPage:
    """The feed narrowed to the watchlist's subjects; reading non-public events is logged
    and committed with the read."""
    return run(
        unit,
        lambda session: _feed_page(session, ctx, principal, watchlist_id, after=after, limit=limit),
    )


def redeliver(
    unit: UnitOfWork, principal: Principal, watchlist_id: int, *, now: dt.datetime
) -> int:
    """Queue the dead letters again, once the receiver is fixed."""
    return run(unit, lambda session: _requeued(session, principal, watchlist_id, now=now))
