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

**Natural persons.** The feed carries a person's ID number masked, and a subject here is
found by the number itself. Instances that federate share a secret out of band
(``BONAFIDES_FEDERATION_SECRET``): a source serving a signed batch to an authority's key
adds to each event about a person the ID number sealed under that secret
(``subject.sealed_code``, AES-GCM, ``seal_identifiers``), and logs the disclosure in the
person's access log; the puller opens it and keys the person as its own register does.
Without the secret on both sides, or in the public feed, a person's decision is never
carried and is counted as skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.codes import CodeError, parse_resident_id, parse_uscc
from bonafides.records import RecordInput, RecordStatus, SubjectKind, SubjectRef
from bonafides.rules.records import change_status, write_records
from bonafides.rules.service import refresh_subjects
from bonafides.security import audit
from bonafides.security.identifiers import IdentifierVault
from bonafides.security.signing import ALGORITHM, KeyStore, b64, sign, unb64
from bonafides.store import feed
from bonafides.store.feed import Kind
from bonafides.store.records import Key, record_key, stored_records
from bonafides.store.subjects import SubjectKeys, chunks
from bonafides.store.tables import Record, Subject

#: The version of the signed batch's layout; a puller refuses one it does not know.
BATCH_FORMAT = "bonafides-sync-1"

_RECORD_KINDS = frozenset({Kind.RECORD_PUBLISHED.value, Kind.RECORD_AMENDED.value})
_STATUS_KINDS = {
    Kind.RECORD_REVOKED.value: RecordStatus.REVOKED,
    Kind.RECORD_REPAIRED.value: RecordStatus.REPAIRED,
    Kind.RECORD_EXPIRED.value: RecordStatus.EXPIRED,
}
_ENTRY_KINDS = frozenset({Kind.ENTRY_STARTED.value, Kind.ENTRY_ENDED.value})


#: The field of an event's subject that carries a person's ID number sealed for peers.
SEALED_CODE = "sealed_code"
_PERSON = SubjectKind.NATURAL_PERSON.value

#: What ``Applier._parsed`` gives for an event without the fields every event has.
_MALFORMED = "not well formed"


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


def federation_vault(secret: str) -> IdentifierVault:
    """The vault federated instances derive from the secret they share: its own keys,
    apart from those of any instance's master secret."""
    return IdentifierVault(f"bonafides/federation/v1:{secret}")


def seal_identifiers(
    session: Session,
    own: IdentifierVault,
    federation: IdentifierVault,
    events: list[dict[str, Any]],
) -> dict[int, list[int]]:
    """Add to each event about a natural person (events as ``ShownEvent.to_json`` gives
    them) the person's ID number, opened from the register here and sealed under the
    federation's vault. Returns the cursors sealed per subject, for the access log."""
    about: dict[int, list[dict[str, Any]]] = {}
    cursors: dict[int, list[int]] = {}
    for event in events:
        subject = (event.get("payload") or {}).get("subject")
        if (
            isinstance(subject, dict)
            and subject.get("kind") == _PERSON
            and isinstance(subject.get("id"), int)
        ):
            about.setdefault(subject["id"], []).append(subject)
            cursors.setdefault(subject["id"], []).append(int(event["cursor"]))
    ciphers: dict[int, bytes] = {}
    for chunk in chunks(sorted(about), 1000):
        rows = session.execute(
            select(Subject.id, Subject.code_cipher).where(
                Subject.id.in_(chunk), Subject.code_cipher.is_not(None)
            )
        )
        ciphers.update((sid, blob) for sid, blob in rows if blob is not None)
    for sid, blob in ciphers.items():
        value = federation.seal(own.decrypt(blob))
        for subject in about[sid]:
            subject[SEALED_CODE] = value
    return {sid: cursors[sid] for sid in ciphers}


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
        federation: IdentifierVault | None = None,
    ) -> None:
        self.session = session
        self.catalogue = catalogue
        self.keys = keys
        self.here = here
        self.actor = actor
        self.federation = federation

    def apply(self, events: list[dict[str, Any]]) -> Applied:
        """Apply the events in order. Decisions not held here, each named once in a run
        of the batch, are stored together (one ``write_records`` for the run): the first
        sync of a peer is almost all of them. Any other event first stores the run.

        Each event's decision is read from its payload once (``_parsed``): the subject
        code's check is most of the Python cost of an event."""
        done = Applied()
        parsed = [self._parsed(event) for event in events]
        held = self._held(parsed)
        run: list[tuple[dict[str, Any], RecordInput]] = []
        for event, item in zip(events, parsed, strict=True):
            if item is _MALFORMED:
                self._create(run)
                run = []
                done.skipped["not well formed"] += 1
                continue
            fresh = self._fresh(event, item, held)
            if fresh is not None:
                run.append((event, fresh))
                held.add(record_key(self.keys, fresh))
                done.applied += 1
                continue
            self._create(run)
            run = []
            why = self._one(event, item)
            if why is None:
                done.applied += 1
            elif why == "conflict":
                done.conflicts += 1
            else:
                done.skipped[why] += 1
        self._create(run)
        return done

    def _parsed(self, event: dict[str, Any]) -> RecordInput | str | None:
        """The decision a record event from elsewhere carries (or why it cannot be
        used); ``_MALFORMED`` for an event without the fields every event has; None for
        any other event."""
        if not _well_formed(event):
            return _MALFORMED
        kind = event.get("kind")
        if event.get("origin") == self.here or (
            kind not in _RECORD_KINDS and kind not in _STATUS_KINDS
        ):
            return None
        return self._item(event.get("payload") or {})

    def _held(self, parsed: list[RecordInput | str | None]) -> set[Key]:
        """The decisions named by the batch's record events that are held here."""
        wanted = [record_key(self.keys, item) for item in parsed if isinstance(item, RecordInput)]
        return set(stored_records(self.session, wanted))

    def _fresh(
        self, event: dict[str, Any], item: RecordInput | str | None, held: set[Key]
    ) -> RecordInput | None:
        """The decision of a publish or amend event from elsewhere not held here yet."""
        if event.get("kind") not in _RECORD_KINDS or not isinstance(item, RecordInput):
            return None
        return None if record_key(self.keys, item) in held else item

    def _one(self, event: dict[str, Any], item: RecordInput | str | None) -> str | None:
        """None when applied; else why not (a short reason, counted per batch)."""
        if event.get("origin") == self.here:
            return "made here"
        kind = event.get("kind")
        if kind in _ENTRY_KINDS:
            return self._entry(event.get("payload") or {})
        if item is None:
            return "not a record or list event"
        if isinstance(item, str):
            return item
        return self._record(event, item)

    def _entry(self, payload: dict[str, Any]) -> str | None:
        subject = payload.get("subject") or {}
        key = subject.get("code")
        if subject.get("kind") == _PERSON:
            # The code shown is masked: a person is found by the sealed number only.
            ref = self._subject(subject)
            if isinstance(ref, str):
                return ref
            key = self.keys.key(ref.code, ref.kind)
        subject_id = self.session.scalar(select(Subject.id).where(Subject.key == key))
        if subject_id is None:
            return "list entry of a subject not held here"
        refresh_subjects(self.session, {subject_id}, actor=self.actor)
        return None

    def _item(self, payload: dict[str, Any]) -> RecordInput | str:
        record = payload.get("record") or {}
        subject = payload.get("subject") or {}
        type_code = str(record.get("type_code"))
        if not self.catalogue.has_type(type_code):
            return "record type unknown here"
        if record.get("source") not in self.catalogue.index.departments:
            return "department unknown here"
        ref = self._subject(subject)
        if isinstance(ref, str):
            return ref
        try:
            return RecordInput(
                type_code=type_code,
                source=str(record["source"]),
                decision_no=str(record["decision_no"]),
                decision_date=dt.date.fromisoformat(str(record["decision_date"])),
                subject=ref,
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

    def _subject(self, subject: dict[str, Any]) -> SubjectRef | str:
        """The event's subject as this register keys it, or why it cannot be: a person
        only with an ID number sealed under the federation's secret that opens here."""
        name = subject.get("name")
        if subject.get("kind") == _PERSON:
            sealed = subject.get(SEALED_CODE)
            if self.federation is None or not isinstance(sealed, str):
                return "a natural person's decision"
            try:
                person = parse_resident_id(self.federation.unseal(sealed))
            except (InvalidTag, ValueError):
                return "a person's sealed ID number that does not open here"
            return SubjectRef(
                code=person.number,
                kind=SubjectKind.NATURAL_PERSON,
                name=str(name or ""),
                region=subject.get("region"),
                adult_from=person.adult_from,
            )
        try:
            parsed = parse_uscc(str(subject.get("code")))
            kind = SubjectKind(subject["kind"])
        except (CodeError, KeyError, ValueError):
            return "subject code not valid"
        return SubjectRef(
            code=parsed.code,
            kind=kind,
            name=str(name or parsed.code),
            name_en=subject.get("name_en"),
            region=subject.get("region"),
        )

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
        """New copies: stored as a submission is, then given their origin, and their
        events corrected in place to name it (and the version there), so none of them
        names this instance as where it was decided."""
        if not run:
            return
        mark = feed.last_id(self.session)
        items = [item for _, item in run]
        written = write_records(self.session, self.keys, items, actor=self.actor)
        ids = [record_id for _, record_id in written.outcomes]
        # One statement per (origin, version) met, not one per copy: a first sync is
        # almost all version 1 from one origin.
        origins: dict[tuple[str, int], list[int]] = {}
        for record_id, (event, _) in zip(ids, run, strict=True):
            where = (str(event["origin"]), int(event.get("record_version") or 1))
            origins.setdefault(where, []).append(record_id)
        for (origin, version), of in origins.items():
            for chunk in chunks(of, 1000):
                self.session.execute(
                    update(Record)
                    .where(Record.id.in_(chunk))
                    .values(origin=origin, origin_version=version)
                )
        for start in range(0, len(ids), 1000):
            feed.name_origins(self.session, ids[start : start + 1000], after=mark)

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
