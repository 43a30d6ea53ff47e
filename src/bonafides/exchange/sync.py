"""Federation: signed batches of the change feed, and applying a peer's batch here.

A source instance serves its feed, as the caller may see it, in batches signed with its
Ed25519 report key (``bonafides.security.signing``); a puller verifies each batch under
the key it pinned for that source and applies the events in one transaction with the
cursor it reached (``bonafides.app.sync``).

What applying means, event by event:

- An event whose origin is this instance is skipped: a copy never returns to where it
  was decided, so two instances pulling from each other do not loop.
- ``record.published`` and ``record.amended`` store the decision through the same write
  path as a submission (``rules.records.write_records``: versions, list refresh, audit,
  feed), as a copy that keeps its origin and its version there (``Record.origin``,
  ``Record.origin_version``). The copy's own feed events name the origin, so an instance
  further down learns where the decision was made.
- ``record.revoked``, ``record.repaired`` and ``record.expired`` change the copy's status
  (``rules.records.change_status``): it leaves the public pages, lists and measures here
  in the same transaction, and this instance's feed carries the tombstone on.
- An event at or below the version a copy already has is skipped: a batch applied twice
  changes nothing.
- ``list_entry.started`` and ``list_entry.ended`` re-evaluate the subject's lists here:
  the lists, memoranda and measures are the same packaged rules on both sides, so an
  entry decided at the peer follows here from the records it came from.
- ``record.publication_ended`` needs nothing: the copy carries its publication period
  and the public rule here ends it (``bonafides records expire``). Subject events are
  the register's (``bonafides register``), not a peer's, and are skipped.

**Conflicts.** A decision is (source department, decision number). When the one held
here was decided elsewhere than the event's origin (made here, or copied from a third
instance), the deciding authority's latest version wins: the event wins when it
describes a change made later than the last change to the record here, else the
record here stays. Either way the conflict is an audit event (``sync:record:conflict``)
with both sides.

Decisions about natural persons are not copied: the feed carries a person's ID number
masked, and a subject here is found by the number itself. They are counted as skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.codes import CodeError, ResidentId, parse_subject_code
from bonafides.records import RecordInput, RecordStatus, SubjectKind, SubjectRef
from bonafides.rules.records import change_status, write_records
from bonafides.rules.service import refresh_subjects
from bonafides.security import audit
from bonafides.security.signing import ALGORITHM, KeyStore, b64, sign, unb64
from bonafides.store import feed
from bonafides.store.feed import Kind
from bonafides.store.records import Key, record_key, stored_records
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import FeedEvent, Record, Subject

#: The version of the signed batch's layout; a puller refuses one it does not know.
BATCH_FORMAT = "bonafides-sync-1"

_RECORD_KINDS = frozenset({Kind.RECORD_PUBLISHED.value, Kind.RECORD_AMENDED.value})
_STATUS_KINDS = {
    Kind.RECORD_REVOKED.value: RecordStatus.REVOKED,
    Kind.RECORD_REPAIRED.value: RecordStatus.REPAIRED,
    Kind.RECORD_EXPIRED.value: RecordStatus.EXPIRED,
}
_ENTRY_KINDS = frozenset({Kind.ENTRY_STARTED.value, Kind.ENTRY_ENDED.value})


class BatchRefusedError(ValueError):
    """A batch that does not verify, or does not continue from the cursor asked for."""


# --------------------------------------------------------------------------- the source


def batch_body(origin: str, after: int, next_cursor: int, more: bool, events: list[Any]) -> bytes:
    """The exact bytes a batch is signed over: canonical JSON (sorted keys, no spaces),
    so the signature covers the events, the cursors and the source's name."""
    return json.dumps(
        {
            "format": BATCH_FORMAT,
            "origin": origin,
            "after": after,
            "next_cursor": next_cursor,
            "more": more,
            "events": events,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def signed(store: KeyStore, body: bytes) -> dict[str, str]:
    """The envelope sent: the batch as a string beside its signature and key id."""
    key_id, signature = sign(store, body)
    return {
        "algorithm": ALGORITHM,
        "key_id": key_id,
        "signature": b64(signature),
        "batch": body.decode(),
    }


# --------------------------------------------------------------------------- the puller


@dataclass(frozen=True)
class Batch:
    origin: str
    after: int
    next_cursor: int
    more: bool
    events: list[dict[str, Any]]


def verify(envelope: Any, key_id: str, key: Ed25519PublicKey, *, after: int) -> Batch:
    """The batch in ``envelope`` if it is signed by ``key`` (pinned as ``key_id``) and
    continues from ``after``; else ``BatchRefusedError`` saying why."""
    if not isinstance(envelope, dict) or not all(
        isinstance(envelope.get(k), str) for k in ("algorithm", "key_id", "signature", "batch")
    ):
        raise BatchRefusedError("the answer is not a signed batch")
    if envelope["algorithm"] != ALGORITHM:
        raise BatchRefusedError(f"the batch is signed with {envelope['algorithm']!r}, not Ed25519")
    if envelope["key_id"] != key_id:
        raise BatchRefusedError(
            f"the batch is signed with key {envelope['key_id']}, not the pinned key {key_id}; "
            "if the source changed its key, give the new one with --key-id"
        )
    body = envelope["batch"].encode()
    try:
        key.verify(unb64(envelope["signature"]), body)
    except (InvalidSignature, ValueError):
        raise BatchRefusedError(
            "the batch's signature does not verify: it was changed in transit"
        ) from None
    try:
        data = json.loads(body)
        if data.get("format") != BATCH_FORMAT:
            raise BatchRefusedError(f"unknown batch format {data.get('format')!r}")
        if data.get("after") != after:
            raise BatchRefusedError(f"the batch starts after {data.get('after')}, not {after}")
        next_cursor = int(data["next_cursor"])
        events = [e for e in data["events"] if isinstance(e, dict)]
        if len(events) != len(data["events"]):
            raise BatchRefusedError("the batch holds something that is not an event")
        batch = Batch(str(data["origin"]), after, next_cursor, bool(data["more"]), events)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise BatchRefusedError(f"the batch is signed but not well formed: {exc!r}") from None
    if next_cursor < after:
        raise BatchRefusedError(f"the batch moves the cursor back to {next_cursor}")
    return batch


@dataclass
class Applied:
    """What one batch did here: events applied, skipped (with why) and conflicts."""

    applied: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0

    def add(self, other: Applied) -> None:
        self.applied += other.applied
        self.skipped.update(other.skipped)
        self.conflicts += other.conflicts


def _date(value: Any) -> dt.date | None:
    return None if value in (None, "") else dt.date.fromisoformat(str(value))


def _moment(value: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _well_formed(event: dict[str, Any]) -> bool:
    """The fields every event must have, of the right kinds, before anything is written."""
    try:
        _moment(str(event["occurred_at"]))
        int(event.get("record_version") or 0)
    except (KeyError, TypeError, ValueError):
        return False
    return (
        isinstance(event.get("origin"), str)
        and isinstance(event.get("kind"), str)
        and isinstance(event.get("payload"), dict)
    )


class Applier:
    """Applies a peer's events inside the caller's transaction (see the module text)."""

    def __init__(
        self,
        session: Session,
        catalogue: Catalogue,
        keys: SubjectKeys,
        *,
        here: str,
        actor: str,
    ) -> None:
        self.session = session
        self.catalogue = catalogue
        self.keys = keys
        self.here = here
        self.actor = actor

    def apply(self, events: list[dict[str, Any]]) -> Applied:
        """Apply the events in order. Decisions not held here, each named once in a run
        of the batch, are stored together (one ``write_records`` for the run): the first
        sync of a peer is almost all of them. Any other event first stores the run."""
        done = Applied()
        held = self._held(events)
        run: list[tuple[dict[str, Any], RecordInput]] = []
        for event in events:
            if not _well_formed(event):
                self._create(run)
                run = []
                done.skipped["not well formed"] += 1
                continue
            fresh = self._fresh(event, held)
            if fresh is not None:
                run.append((event, fresh))
                held.add(record_key(self.keys, fresh))
                done.applied += 1
                continue
            self._create(run)
            run = []
            why = self._one(event)
            if why is None:
                done.applied += 1
            elif why == "conflict":
                done.conflicts += 1
            else:
                done.skipped[why] += 1
        self._create(run)
        return done

    def _held(self, events: list[dict[str, Any]]) -> set[Key]:
        """The decisions named by the batch's record events that are held here."""
        wanted = []
        for event in events:
            if not _well_formed(event):
                continue
            if event.get("kind") in _RECORD_KINDS and event.get("origin") != self.here:
                item = self._item(event.get("payload") or {})
                if not isinstance(item, str):
                    wanted.append(record_key(self.keys, item))
        return set(stored_records(self.session, wanted))

    def _fresh(self, event: dict[str, Any], held: set[Key]) -> RecordInput | None:
        """The decision of a publish or amend event from elsewhere not held here yet."""
        if event.get("kind") not in _RECORD_KINDS or event.get("origin") == self.here:
            return None
        item = self._item(event.get("payload") or {})
        if isinstance(item, str) or record_key(self.keys, item) in held:
            return None
        return item

    def _one(self, event: dict[str, Any]) -> str | None:
        """None when applied; else why not (a short reason, counted per batch)."""
        if event.get("origin") == self.here:
            return "made here"
        kind = event.get("kind")
        payload = event.get("payload") or {}
        if kind in _ENTRY_KINDS:
            return self._entry(payload)
        if kind not in _RECORD_KINDS and kind not in _STATUS_KINDS:
            return "not a record or list event"
        item = self._item(payload)
        if isinstance(item, str):
            return item
        return self._record(event, item)

    def _entry(self, payload: dict[str, Any]) -> str | None:
        code = (payload.get("subject") or {}).get("code")
        subject_id = self.session.scalar(select(Subject.id).where(Subject.key == code))
        if subject_id is None:
            return "list entry of a subject not held here"
        refresh_subjects(self.session, {subject_id}, actor=self.actor)
        return None

    def _item(self, payload: dict[str, Any]) -> RecordInput | str:
        record = payload.get("record") or {}
        subject = payload.get("subject") or {}
        if subject.get("kind") == SubjectKind.NATURAL_PERSON.value:
            return "a natural person's decision"
        type_code = str(record.get("type_code"))
        if not self.catalogue.has_type(type_code):
            return "record type unknown here"
        if record.get("source") not in self.catalogue.index.departments:
            return "department unknown here"
        try:
            parsed = parse_subject_code(str(subject.get("code")))
        except CodeError:
            return "subject code not valid"
        if isinstance(parsed, ResidentId):
            return "a natural person's decision"
        try:
            return RecordInput(
                type_code=type_code,
                source=str(record["source"]),
                decision_no=str(record["decision_no"]),
                decision_date=dt.date.fromisoformat(str(record["decision_date"])),
                subject=SubjectRef(
                    code=parsed.code,
                    kind=SubjectKind(subject["kind"]),
                    name=str(subject.get("name") or parsed.code),
                    name_en=subject.get("name_en"),
                    region=subject.get("region"),
                ),
                content=dict(record.get("content") or {}),
                raw={"synced": True},
                severity=record.get("severity"),
                legal_basis=record.get("legal_basis"),
                status=RecordStatus(record["status"]),
                published_until=_date(record.get("published_until")),
                retention_until=_date(record.get("retention_until")),
                shared_decision_no=self.catalogue.type(type_code).shared_decision_no,
            )
        except (KeyError, ValueError):
            return "record incomplete"

    def _record(self, event: dict[str, Any], item: RecordInput) -> str | None:
        origin = str(event["origin"])
        version = int(event.get("record_version") or 0)
        at = _moment(str(event["occurred_at"]))
        source, number, party = record_key(self.keys, item)
        held = self.session.scalars(
            select(Record)
            .where(Record.source == source, Record.decision_no == number, Record.party == party)
            .with_for_update()
        ).first()
        status = _STATUS_KINDS.get(str(event["kind"]))
        conflicted = held is not None and held.origin != origin
        if held is not None and not conflicted:
            if version <= (held.origin_version or 0):
                return "already applied"
        elif held is not None:
            newer = at > held.updated_at
            self._conflict(held, origin, version, at, won=newer)
            if not newer:
                return "conflict"
        if held is None:
            if status is not None:
                return "removal of a decision not held here"
            self._create([(event, item)])
        else:
            held.origin, held.origin_version = origin, version
            self.session.flush()
            write_records(
                self.session,
                self.keys,
                [item],
                actor=self.actor,
                amend_reason=f"amended at {origin}",
            )
            self.session.refresh(held)
            wanted = status or RecordStatus(item.status)
            if held.status != wanted.value:
                change_status(
                    self.session,
                    source=source,
                    decision_no=number,
                    party=party or None,
                    status=wanted,
                    actor=self.actor,
                    reason=f"{wanted.value} at {origin}",
                    at=at,
                )
        return "conflict" if conflicted else None

    def _create(self, run: list[tuple[dict[str, Any], RecordInput]]) -> None:
        """New copies: stored as a submission is, then their events written again once
        they know their origin, so none of them names this instance as where it was
        decided."""
        if not run:
            return
        mark = feed.last_id(self.session)
        items = [item for _, item in run]
        written = write_records(self.session, self.keys, items, actor=self.actor)
        ids = [record_id for _, record_id in written.outcomes]
        self.session.execute(
            update(Record),
            [
                {
                    "id": record_id,
                    "origin": str(event["origin"]),
                    "origin_version": int(event.get("record_version") or 1),
                }
                for record_id, (event, _) in zip(ids, run, strict=True)
            ],
        )
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            self.session.execute(
                delete(FeedEvent).where(
                    FeedEvent.id > mark,
                    FeedEvent.record_id.in_(chunk),
                    FeedEvent.list_entry_id.is_(None),
                )
            )
            feed.emit_records(self.session, feed.Kind.RECORD_PUBLISHED, Record.id.in_(chunk))

    def _conflict(
        self, held: Record, origin: str, version: int, at: dt.datetime, *, won: bool
    ) -> None:
        audit.append(
            self.session,
            actor=self.actor,
            tag="sync:record:conflict",
            subject_id=held.subject_id,
            object_ref=f"record {held.id} v{held.version}",
            detail={
                "source": held.source,
                "decision_no": held.decision_no,
                "held_origin": held.origin or self.here,
                "held_changed_at": held.updated_at.isoformat(),
                "incoming_origin": origin,
                "incoming_version": version,
                "incoming_changed_at": at.isoformat(),
                "winner": origin if won else (held.origin or self.here),
                "rule": "the deciding authority's latest version wins",
            },
        )
