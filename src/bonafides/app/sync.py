"""Federation use cases: serving a signed batch of the feed, and pulling a peer's feed.

``signed_batch`` is the source's side (``GET /api/v1/feed/signed``): the feed page the
caller may read (``app.feed.read``, so disclosure and the access log are the feed's),
signed with this instance's report key.

``pull`` is the puller's side (``bonafides sync``): batch after batch, it fetches the
page after the cursor it keeps for the source, verifies it under the source's pinned
key, and applies it (``exchange.sync.Applier``) in one transaction that also moves the
cursor and appends one audit event. A sync killed at any moment has either applied a
batch and moved the cursor, or neither; run again, it resumes where it stopped.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.app import feed as feed_app
from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import Catalogue
from bonafides.context import Context
from bonafides.exchange.sync import (
    Applied,
    Applier,
    BatchRefusedError,
    batch_body,
    federation_vault,
    seal_identifiers,
    signed,
    verify,
)
from bonafides.security import audit
from bonafides.security.identifiers import IdentifierVault
from bonafides.security.roles import Principal, Scope
from bonafides.security.signing import KeyStore, key_id_of
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.feed import origin
from bonafides.store.tables import SyncSource
from bonafides.store.types import utcnow

SIGNED_PATH = "/api/v1/feed/signed"
KEYS_PATH = "/api/v1/keys"
#: Events per batch asked of the source. Larger than a feed page: a batch is signed
#: once, verified once and applied in one transaction, so the cost per batch (the
#: signature, the transaction, the subjects' list refresh, the audit event) is spread
#: over more events.
DEFAULT_BATCH = 2000
#: The most events a source puts in one signed batch.
MAX_BATCH = 5000
#: The audit tag of persons' ID numbers sealed for a peer.
SEALED_TAG = "sync:identifiers:sealed"


class SyncError(RuntimeError):
    """The source could not be reached, refused the key, or sent what cannot be used."""


def signed_batch(
    unit: UnitOfWork,
    catalogue: Catalogue,
    principal: Principal,
    store: KeyStore,
    *,
    after: int,
    limit: int,
    vault: IdentifierVault | None = None,
    federation_secret: str | None = None,
) -> dict[str, str]:
    """The feed page ``principal`` may read after ``after``, signed by this instance; the
    read's access log is committed with the unit.

    An authority's key (one that reads files) on an instance with a federation secret
    gets each natural person's ID number sealed under it (``exchange.sync``), opened
    from the register with ``vault``; each person's access log shows the disclosure.
    """

    def act(session: Session) -> dict[str, str]:
        page = feed_app.read(
            session, catalogue, principal, after=after, limit=limit, most=MAX_BATCH
        )
        events = [e.to_json() for e in page.events]
        if vault is not None and federation_secret and principal.has(Scope.FILES_READ):
            sealed = seal_identifiers(session, vault, federation_vault(federation_secret), events)
            if sealed:
                _log_sealed(session, principal, sealed, after=after, to=page.next_cursor)
        body = batch_body(origin(), after, page.next_cursor, page.more, events)
        return signed(store, body)

    return run(unit, act)


def _log_sealed(
    session: Session, principal: Principal, sealed: dict[int, list[int]], *, after: int, to: int
) -> None:
    logged = audit.append(
        session,
        actor=principal.actor,
        tag=SEALED_TAG,
        object_ref=f"feed after {after} to {to}",
        purpose="federation",
        detail={
            "role": principal.role.value,
            "department": principal.department,
            "subjects": len(sealed),
            "subjects_digest": subjects_digest(sealed),
        },
    )
    link_each(
        session,
        logged.id,
        {
            sid: f"ID number sealed for a peer, feed events {ids[0]}..{ids[-1]}"[:200]
            for sid, ids in sealed.items()
        },
    )


# --------------------------------------------------------------------------- pulling


class Transport(Protocol):
    """How the puller reaches a source: HTTP in production and in the tests alike."""

    def get(self, path: str, params: dict[str, Any]) -> Any: ...


class HttpTransport:
    """GET requests to the source with the API key it issued to this instance."""

    def __init__(self, base_url: str, key: str, *, timeout: float = 60.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise SyncError(f"the source must be an http:// or https:// URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def get(self, path: str, params: dict[str, Any]) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        # The scheme was checked to be http(s) when the transport was made.
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}{path}{query}",
            headers={"Authorization": f"Bearer {self.key}", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise SyncError(f"{self.base_url}{path} answered {exc.code}: {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SyncError(f"{self.base_url} cannot be reached: {exc}") from None
        except ValueError:
            raise SyncError(f"{self.base_url}{path} did not answer JSON") from None


@dataclass
class SyncResult:
    url: str
    origin: str | None
    key_id: str
    cursor: int
    batches: int = 0
    applied: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0


def _load_pem(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise SyncError(f"the key file is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SyncError("the key is not an Ed25519 public key")
    return key


def _published_key(transport: Transport, key_id: str | None) -> tuple[str, str]:
    """The source's key with ``key_id`` (else its current key) from ``/api/v1/keys``,
    checked to be the key its id names."""
    answer = transport.get(KEYS_PATH, {})
    keys = answer.get("keys") if isinstance(answer, dict) else None
    for item in keys if isinstance(keys, list) else []:
        if not isinstance(item, dict):
            continue
        if (key_id is None and item.get("current")) or item.get("key_id") == key_id:
            pem = str(item.get("public_key_pem"))
            found = key_id_of(_load_pem(pem))
            if found != item.get("key_id"):
                raise SyncError(f"the source publishes key {item.get('key_id')} as {found}")
            return found, pem
    raise SyncError(f"the source publishes no key {key_id or '(current)'}")


def _pin(
    unit: UnitOfWork,
    transport: Transport,
    url: str,
    *,
    actor: str,
    key_id: str | None,
    key_pem: str | None,
) -> SyncSource:
    """The source's row, made on first use; its key pinned then (trust on first use), or
    again when the operator names another key (``--key-id``, a key file)."""
    session = unit.session
    source = session.scalar(select(SyncSource).where(SyncSource.url == url))
    if source is not None and key_pem is None and key_id in (None, source.key_id):
        return source
    if key_pem is not None:
        pinned_id = key_id_of(_load_pem(key_pem))
        if key_id is not None and key_id != pinned_id:
            raise SyncError(f"the key file holds key {pinned_id}, not {key_id}")
        pem = key_pem
    else:
        pinned_id, pem = _published_key(transport, key_id)
    if source is None:
        source = SyncSource(
            url=url, key_id=pinned_id, key_pem=pem, cursor=0, applied=0, skipped=0, conflicts=0
        )
        session.add(source)
    else:
        source.key_id, source.key_pem = pinned_id, pem
    session.flush()
    audit.append(
        session,
        actor=actor,
        tag="sync:source:pinned",
        object_ref=f"sync source {url}",
        detail={"key_id": pinned_id, "from": "key file" if key_pem else "published keys"},
    )
    unit.commit()
    return source


def _refused(ctx: Context, url: str, actor: str, cursor: int, reason: str) -> None:
    with UnitOfWork(ctx.sessions) as unit:
        audit.append(
            unit.session,
            actor=actor,
            tag="sync:batch:refused",
            object_ref=f"sync {url} after {cursor}",
            detail={"reason": reason},
        )
        unit.commit()


def pull(
    ctx: Context,
    transport: Transport,
    url: str,
    *,
    actor: str,
    key_id: str | None = None,
    key_pem: str | None = None,
    limit: int = DEFAULT_BATCH,
) -> SyncResult:
    """Pull and apply the source's feed until it has nothing more (see the module text).

    A refused batch (bad signature, another key, a cursor that does not continue) is
    logged (``sync:batch:refused``) and raises ``BatchRefusedError``; nothing of it is
    applied and the cursor stays where it was.
    """
    here = origin()
    with UnitOfWork(ctx.sessions) as unit:
        source = _pin(unit, transport, url, actor=actor, key_id=key_id, key_pem=key_pem)
        source_id, pinned, pem = source.id, source.key_id, source.key_pem
        result = SyncResult(url, source.origin, pinned, source.cursor)
    key = _load_pem(pem)
    secret = ctx.settings.federation_secret
    federation = federation_vault(secret.get_secret_value()) if secret else None
    while True:
        envelope = transport.get(SIGNED_PATH, {"after": result.cursor, "limit": limit})
        try:
            batch = verify(envelope, pinned, key, after=result.cursor)
            if batch.origin == here:
                raise BatchRefusedError(
                    f"the source calls itself {here!r}, as this instance does: give each "
                    "instance its own BONAFIDES_INSTANCE"
                )
        except BatchRefusedError as exc:
            _refused(ctx, url, actor, result.cursor, str(exc))
            raise
        with UnitOfWork(ctx.sessions) as unit:
            session = unit.session
            row = session.get(SyncSource, source_id, with_for_update=True)
            assert row is not None
            if row.cursor != result.cursor:
                # Another sync of the same source moved on meanwhile: start from its cursor.
                result.cursor = row.cursor
                continue
            done = Applier(
                session, ctx.catalogue, ctx.keys, here=here, actor=actor, federation=federation
            ).apply(batch.events)
            row.origin = batch.origin
            row.cursor = batch.next_cursor
            row.applied += done.applied
            row.skipped += sum(done.skipped.values())
            row.conflicts += done.conflicts
            row.synced_at = utcnow()
            audit.append(
                session,
                actor=actor,
                tag="sync:batch:applied",
                object_ref=f"sync {url} after {batch.after} to {batch.next_cursor}",
                detail=_detail(batch.origin, len(batch.events), done),
            )
            unit.commit()
        result.origin = batch.origin
        result.cursor = batch.next_cursor
        result.batches += 1
        result.applied += done.applied
        result.skipped.update(done.skipped)
        result.conflicts += done.conflicts
        if not batch.more:
            return result


def _detail(source_origin: str, events: int, done: Applied) -> dict[str, Any]:
    return {
        "origin": source_origin,
        "events": events,
        "applied": done.applied,
        "skipped": dict(sorted(done.skipped.items())),
        "conflicts": done.conflicts,
    }
