"""The audit chain's anchor outside the database: the audit key and signed checkpoints.

Whoever can write the database could otherwise rewrite the chain's history and recompute
every hash after it. Two things it does not hold stop that:

- the **audit key**, derived from ``BONAFIDES_SECRET_KEY``: every event from
  ``audit_head.keyed_from`` on is hashed with HMAC under it, so an altered event's hash
  cannot be recomputed without the key;
- **checkpoints**: the head (event count and hash) signed with the platform's Ed25519
  key, written every N events or M minutes as events are appended, published at
  ``GET /api/v1/audit/checkpoints``. A copy kept by someone else proves later that the
  chain still extends it, which catches a truncated, emptied or re-hashed chain.

Sessions reach the anchor through ``Session.info`` (the Context's session factory puts it
there), so ``audit.append`` keeps its signature and every caller keys its events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from bonafides.records import canonical_json
from bonafides.security.identifiers import derive_key
from bonafides.security.signing import ALGORITHM, KeyStore, b64, sign, signature_valid, unb64
from bonafides.store.tables import AuditCheckpoint, AuditEvent, AuditHead

#: Where a session keeps its anchor (``Session.info``).
INFO_KEY = "bonafides.audit.anchor"
CHECKPOINT_TYPE = "bonafides-audit-checkpoint/v1"
#: The fields of a published checkpoint, and nothing else: none says anything about anyone.
PUBLIC_FIELDS = (
    "type",
    "event_count",
    "head_hash",
    "at",
    "keyed_from",
    "key_id",
    "algorithm",
    "signature",
)
_HEX = frozenset("0123456789abcdef")


class AuditKeyMissingError(RuntimeError):
    """A session without the audit key tried to append to or verify the chain."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: which source, which field, why."""


class ChainKey:
    """HMAC-SHA256 under a key derived from the master secret for this one purpose."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, b"bonafides/audit-chain/v1")
        #: Names the key without revealing it, so a verifier can tell a changed secret.
        self.key_id = hmac.new(self._key, b"key id", hashlib.sha256).hexdigest()[:16]

    def mac(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    event_count: int
    head_hash: str
    at: dt.datetime
    keyed_from: int
    key_id: str
    signature: str

    def payload(self) -> bytes:
        return checkpoint_payload(
            event_count=self.event_count,
            head_hash=self.head_hash,
            at=self.at,
            keyed_from=self.keyed_from,
            key_id=self.key_id,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": CHECKPOINT_TYPE,
            "event_count": self.event_count,
            "head_hash": self.head_hash,
            "at": _iso(self.at),
            "keyed_from": self.keyed_from,
            "key_id": self.key_id,
            "algorithm": ALGORITHM,
            "signature": self.signature,
        }

    @classmethod
    def from_row(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(
            event_count=row.event_count,
            head_hash=row.head_hash,
            at=row.at,
            keyed_from=row.keyed_from,
            key_id=row.key_id,
            signature=row.signature,
        )

    @classmethod
    def from_json(cls, data: Any, where: str) -> Checkpoint:
        """Read one published checkpoint; a bad one names its field and what is wrong."""
        if not isinstance(data, Mapping):
            raise CheckpointError(f"{where}: a checkpoint is a JSON object")
        if data.get("type", CHECKPOINT_TYPE) != CHECKPOINT_TYPE:
            raise CheckpointError(f"{where}: type: expected {CHECKPOINT_TYPE!r}")

        def count(name: str) -> int:
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CheckpointError(f"{where}: {name}: expected a whole number from 1")
            return value

        def hexa(name: str, length: int) -> str:
            value = data.get(name)
            if not isinstance(value, str) or len(value) != length or not set(value) <= _HEX:
                raise CheckpointError(f"{where}: {name}: expected {length} lowercase hex digits")
            return value

        at_text = data.get("at")
        try:
            at = dt.datetime.fromisoformat(at_text) if isinstance(at_text, str) else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise CheckpointError(f"{where}: at: expected an ISO 8601 time with its offset")
        signature = data.get("signature")
        try:
            valid = isinstance(signature, str) and len(unb64(signature)) == 64
        except ValueError:
            valid = False
        if not valid or not isinstance(signature, str):
            raise CheckpointError(f"{where}: signature: expected 64 bytes in base64")
        return cls(
            event_count=count("event_count"),
            head_hash=hexa("head_hash", 64),
            at=at,
            keyed_from=count("keyed_from"),
            key_id=hexa("key_id", 16),
            signature=signature,
        )


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def checkpoint_payload(
    *, event_count: int, head_hash: str, at: dt.datetime, keyed_from: int, key_id: str
) -> bytes:
    """The bytes a checkpoint's signature covers: every public field but the signature."""
    return canonical_json(
        {
            "type": CHECKPOINT_TYPE,
            "event_count": event_count,
            "head_hash": head_hash,
            "at": _iso(at),
            "keyed_from": keyed_from,
            "key_id": key_id,
        }
    ).encode()


def signature_ok(keys: KeyStore, checkpoint: Checkpoint) -> bool:
    try:
        signature = unb64(checkpoint.signature)
    except ValueError:
        return False
    return signature_valid(keys, checkpoint.key_id, checkpoint.payload(), signature)


class Anchor:
    """What the chain needs from outside the database; one per Context, shared by its
    sessions (and threads). ``keys`` opens the Ed25519 key store only when a checkpoint
    is signed or checked, so a process that never checkpoints never touches key files."""

    def __init__(
        self,
        key: ChainKey,
        keys: Callable[[], KeyStore],
        *,
        every_events: int,
        every_minutes: int,
    ) -> None:
        self.key = key
        self._keys = keys
        self.every_events = every_events
        self.every_minutes = every_minutes
        #: When this process last knew a checkpoint to be written; read once from the store.
        self._last_at: dt.datetime | None = None

    def keys(self) -> KeyStore:
        return self._keys()

    def info(self) -> dict[str, Any]:
        """The ``info`` of a session factory whose sessions append to the chain."""
        return {INFO_KEY: self}

    def after_append(
        self, session: Session, event_id: int, event_hash: str, at: dt.datetime
    ) -> None:
        """Checkpoint the head just appended when one is due: every ``every_events``-th
        event, or the first event ``every_minutes`` after the last checkpoint (or the
        chain's first event). Part of the append's transaction, so it commits with it."""
        due = self.every_events > 0 and event_id % self.every_events == 0
        if not due and self.every_minutes > 0:
            if self._last_at is None:
                self._last_at = _last_checkpoint_at(session) or at
            due = at - self._last_at >= dt.timedelta(minutes=self.every_minutes)
        if due:
            write_checkpoint(session, self, event_count=event_id, head_hash=event_hash, at=at)


def anchor_of(session: Session) -> Anchor:
    anchor = session.info.get(INFO_KEY)
    if not isinstance(anchor, Anchor):
        raise AuditKeyMissingError(
            "this session has no audit key: open sessions through Context.sessions "
            "(or a session_factory given Anchor.info())"
        )
    return anchor


# On the append's connection, as the append itself runs: a checkpoint must not flush
# the caller's pending ORM objects halfway through its unit of work.


def _last_checkpoint_at(session: Session) -> dt.datetime | None:
    conn = session.connection()
    last: dt.datetime | None = conn.scalar(select(func.max(AuditCheckpoint.at)))
    if last is None:
        last = conn.scalar(select(AuditEvent.at).where(AuditEvent.id == 1))
    return last


def _keyed_from(session: Session) -> int:
    value = session.connection().scalar(select(AuditHead.keyed_from).where(AuditHead.id == 1))
    return 1 if value is None else int(value)


def write_checkpoint(
    session: Session, anchor: Anchor, *, event_count: int, head_hash: str, at: dt.datetime
) -> Checkpoint:
    keyed_from = _keyed_from(session)
    store = anchor.keys()
    key_id = store.signing_key()[0]
    payload = checkpoint_payload(
        event_count=event_count, head_hash=head_hash, at=at, keyed_from=keyed_from, key_id=key_id
    )
    _, signature = sign(store, payload)
    checkpoint = Checkpoint(event_count, head_hash, at, keyed_from, key_id, b64(signature))
    session.connection().execute(
        insert(AuditCheckpoint).values(
            event_count=event_count,
            head_hash=head_hash,
            at=at,
            keyed_from=keyed_from,
            key_id=key_id,
            signature=checkpoint.signature,
        )
    )
    anchor._last_at = at
    return checkpoint


def checkpoint_now(session: Session, at: dt.datetime) -> tuple[Checkpoint, bool]:
    """Sign the head as it is now, unless a checkpoint of it exists: (checkpoint, written).

    The head row is claimed the way an append claims it, so no event slips in between
    reading the head and signing it.
    """
    anchor = anchor_of(session)
    head = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_id=AuditHead.last_id)
        .returning(AuditHead.last_id, AuditHead.last_hash)
    ).one_or_none()
    if head is None:
        raise LookupError("the audit chain is empty: nothing to checkpoint")
    count, head_hash = head
    found = session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.event_count == count))
    if found is not None:
        return Checkpoint.from_row(found), False
    return write_checkpoint(session, anchor, event_count=count, head_hash=head_hash, at=at), True


def stored_checkpoints(
    session: Session, *, limit: int | None = None, before: int | None = None
) -> list[Checkpoint]:
    """Newest first; ``before`` pages back from an event count."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.event_count.desc())
    if before is not None:
        query = query.where(AuditCheckpoint.event_count < before)
    if limit is not None:
        query = query.limit(limit)
    return [Checkpoint.from_row(row) for row in session.scalars(query)]


def parse_checkpoints(text: str | bytes, where: str) -> list[Checkpoint]:
    """Checkpoints from JSON as published (``{"checkpoints": [...]}``), a list of them, or
    one; JSON lines of them are accepted too, which is how a keeper may append them."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        lines = [line for line in _lines(text) if line.strip()]
        try:
            data = [json.loads(line) for line in lines]
        except ValueError as exc:
            raise CheckpointError(f"{where}: not JSON: {exc}") from exc
    if isinstance(data, Mapping) and "checkpoints" in data:
        data = data["checkpoints"]
    items: Iterable[Any] = data if isinstance(data, list) else [data]
    found = [
        Checkpoint.from_json(item, f"{where}: checkpoint {n}") for n, item in enumerate(items, 1)
    ]
    if not found:
        raise CheckpointError(f"{where}: holds no checkpoint")
    return found


def _lines(text: str | bytes) -> list[str]:
    return (text.decode() if isinstance(text, bytes) else text).splitlines()


def load_checkpoints(source: str, *, timeout: float = 30.0) -> list[Checkpoint]:
    """Checkpoints kept outside the platform: a file path, or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        # The standard library's client: one GET needs no dependency of its own.
        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310
                body: bytes = response.read()
        except urllib.error.HTTPError as exc:
            raise CheckpointError(f"{source}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise CheckpointError(f"{source}: cannot fetch: {exc}") from exc
        return parse_checkpoints(body, source)
    path = Path(source)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{source}: cannot read: {exc.strerror}") from exc
    return parse_checkpoints(text, source)
