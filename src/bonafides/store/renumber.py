"""Stored decision numbers brought to the one spelling ingest now gives them.

Before issue 13 a decision number was stored as typed, so （２０２６）京执９３０４号 and
（2026）京执9304号 keyed two records, and a store upgraded to the normalising ingest would
take a resubmission of either as a new decision. Migration ``0015`` runs ``renumber`` once:
every ``records.decision_no`` (and the copy in the record's content, and its digest) and
every review-queue number takes ``normalise.decision_number``'s spelling.

Nothing is overwritten silently: each renumbered record gets a new version whose raw
values, copied from the version before, keep the number exactly as submitted. Two
records that turn out to be one decision under two spellings are never merged: the one
already holding the spelling (or else the first received) keeps it, the other is numbered
``<number>#dup-<record id>`` and an audit event ``store:record:duplicate_spelling`` names
both, so an operator decides which to revoke. Renumbered numbers are fixed points of the
normalisation, so running this again changes nothing (numbers of digits, letters, Chinese
characters, brackets and spaces in either width; a space or letter followed by a
combining accent can normalise once more, NFKC composes what the dropped space kept apart).

Work goes in record-id order, a batch at a time: a store of millions is never loaded whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from bonafides.normalise import decision_number
from bonafides.records import RecordInput, SubjectKind, SubjectRef
from bonafides.security import audit
from bonafides.security.anchor import Anchor
from bonafides.security.identifiers import IdentifierVault
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.records import access_refs
from bonafides.store.subjects import chunks
from bonafides.store.tables import Record, RecordVersion, ReviewItem, Subject
from bonafides.store.types import utcnow

BATCH = 1000
ACTOR = "migration:0015"
DUPLICATE_TAG = "store:record:duplicate_spelling"
RENUMBERED_TAG = "store:records:renumbered"
REVIEW_TAG = "store:review_items:renumbered"
REASON = "decision number spelling normalised (upgrade 0015)"
#: The width of ``records.decision_no`` and ``review_queue.decision_no``.
NUMBER_WIDTH = 128

Key = tuple[str, str, str]

_records = cast(Table, Record.__table__)
_versions = cast(Table, RecordVersion.__table__)
_reviews = cast(Table, ReviewItem.__table__)


class RenumberError(RuntimeError):
    """The upgrade cannot go on; nothing has been written (the migration is one transaction)."""


def duplicate_number(normalised: str, record_id: int) -> str:
    """The number a second record of one decision gets: unique, typeable, and already in
    its one spelling, so ``bonafides revoke --decision`` finds it as printed."""
    return f"{normalised}#dup-{record_id}"


@dataclass
class Renumbered:
    """What one run changed; the audit events record it batch by batch."""

    records: int = 0
    duplicates: int = 0
    #: Records whose number has no one spelling within the column (empty or too long once
    #: normalised): left as stored and listed in the batch's event (again on a rerun).
    left: list[int] = field(default_factory=list)
    #: Records whose stored digest did not come from their content as ingest computes it:
    #: the digest is kept, so a resubmission amends them rather than finding them unchanged.
    digests_kept: int = 0
    review_items: int = 0
    #: Review-queue items whose normalised number another item of the same source and type
    #: holds: the same undecided row twice, numbered as a duplicate (within ``review_items``).
    review_duplicates: int = 0
    #: Review-queue items whose number has no one spelling within the column.
    review_left: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.records or self.left or self.review_items or self.review_left)


@dataclass(frozen=True)
class _Stored:
    id: int
    source: str
    party: str
    number: str
    normalised: str


def renumber(
    connection: Connection,
    *,
    vault: IdentifierVault | None,
    anchor: Anchor | None = None,
    batch: int = BATCH,
    actor: str = ACTOR,
) -> Renumbered:
    """Give every stored decision number its one spelling, inside the caller's transaction.

    ``vault`` opens persons' ID numbers, which their records' digests cover; it is needed
    only when a person's record is renumbered. ``anchor`` keys the audit events that say
    what was renumbered; a store with nothing to renumber needs neither.
    """
    session = Session(bind=connection, info=anchor.info() if anchor else {})
    try:
        run = _Run(connection, session, vault, actor)
        _walk(connection, run, batch)
        run.reviews(batch)
        run.summary()
    finally:
        # The caller's transaction is the connection's: closing the session leaves it open.
        session.close()
    return run.result


def _walk(connection: Connection, run: _Run, batch: int) -> None:
    """Records in id order, a batch at a time; only the changing ones are read whole."""
    last = 0
    while True:
        rows = connection.execute(
            select(_records.c.id, _records.c.source, _records.c.party, _records.c.decision_no)
            .where(_records.c.id > last)
            .order_by(_records.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        changing = []
        for rid, source, party, number in rows:
            normalised = decision_number(number).value
            if normalised != number:
                changing.append(_Stored(rid, source, party, number, normalised))
        if changing:
            run.records(changing)


class _Run:
    def __init__(
        self,
        connection: Connection,
        session: Session,
        vault: IdentifierVault | None,
        actor: str,
    ) -> None:
        self.conn = connection
        self.session = session
        self.vault = vault
        self.actor = actor
        self.at = utcnow()
        self.result = Renumbered()

    def records(self, changing: Sequence[_Stored]) -> None:
        held = self._holders({(s.source, s.normalised, s.party) for s in changing})
        ids = [s.id for s in changing]
        full = {
            row.id: row
            for row in self.conn.execute(
                select(
                    _records.c.id,
                    _records.c.subject_id,
                    _records.c.type_code,
                    _records.c.version,
                    _records.c.status,
                    _records.c.severity,
                    _records.c.decision_date,
                    _records.c.legal_basis,
                    _records.c.content,
                    _records.c.content_digest,
                ).where(_records.c.id.in_(ids))
            )
        }
        codes = self._codes({row.subject_id for row in full.values()})
        # Joined on the record's current version: a row-value IN would scan the index on SQLite.
        last_versions = {
            rid: (raw, catalogue_version)
            for rid, raw, catalogue_version in self.conn.execute(
                select(_versions.c.record_id, _versions.c.raw, _versions.c.catalogue_version)
                .join(
                    _records,
                    (_records.c.id == _versions.c.record_id)
                    & (_records.c.version == _versions.c.version),
                )
                .where(_records.c.id.in_(ids))
            )
        }
        updates: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        duplicates: list[dict[str, Any]] = []
        left: list[int] = []
        digests_kept = 0
        for stored in changing:
            row = full[stored.id]
            if not stored.normalised or len(stored.normalised) > NUMBER_WIDTH:
                left.append(stored.id)
                continue
            content = dict(row.content)
            if "decision_no" in content:
                content["decision_no"] = stored.normalised
            kind, code = codes[row.subject_id]
            digest = row.content_digest
            if _digest(row, kind, code, row.content) == row.content_digest:
                digest = _digest(row, kind, code, content)
            else:
                digests_kept += 1
            key = (stored.source, stored.normalised, stored.party)
            number = stored.normalised
            if key in held:
                number = duplicate_number(stored.normalised, stored.id)
                if len(number) > NUMBER_WIDTH:
                    left.append(stored.id)
                    continue
                other_id, other_digest = held[key]
                duplicates.append(
                    {
                        "subject_id": row.subject_id,
                        "object_ref": f"record {stored.id} v{row.version + 1}",
                        "detail": {
                            "source": stored.source,
                            "stored_as": stored.number,
                            "normalised": stored.normalised,
                            "numbered_as": number,
                            "record": stored.id,
                            "same_as_record": other_id,
                            "same_content": other_digest == digest,
                        },
                    }
                )
            else:
                held[key] = (stored.id, digest)
            version = row.version + 1
            updates.append(
                {
                    "b_id": stored.id,
                    "b_no": number,
                    "b_content": content,
                    "b_digest": digest,
                    "b_version": version,
                    "b_at": self.at,
                }
            )
            raw, catalogue_version = last_versions.get(stored.id, ({}, None))
            versions.append(
                {
                    "record_id": stored.id,
                    "subject_id": row.subject_id,
                    "version": version,
                    "status": row.status,
                    "severity": row.severity,
                    "decision_date": row.decision_date,
                    "legal_basis": row.legal_basis,
                    "content": content,
                    "raw": raw,
                    "content_digest": digest,
                    "catalogue_version": catalogue_version,
                    "changed_at": self.at,
                    "changed_by": self.actor,
                    "reason": REASON,
                }
            )
        if updates:
            self.conn.execute(
                update(_records)
                .where(_records.c.id == bindparam("b_id"))
                .values(
                    decision_no=bindparam("b_no"),
                    content=bindparam("b_content"),
                    content_digest=bindparam("b_digest"),
                    version=bindparam("b_version"),
                    updated_at=bindparam("b_at"),
                ),
                updates,
            )
            self.conn.execute(insert(_versions), versions)
            self.result.records += len(updates)
        if updates or left:
            self._batch_event(updates, versions, duplicates, left, digests_kept)
        for event in duplicates:
            audit.append(self.session, actor=self.actor, tag=DUPLICATE_TAG, **event)
        self.result.duplicates += len(duplicates)
        self.result.digests_kept += digests_kept
        self.result.left.extend(left)

    def _batch_event(
        self,
        updates: list[dict[str, Any]],
        versions: list[dict[str, Any]],
        duplicates: list[dict[str, Any]],
        left: list[int],
        digests_kept: int,
    ) -> None:
        """One event per batch, pinning its new versions by digest and linked to each
        subject whose file changed, as a department's amendments are (``store.records``)."""
        trail = hashlib.sha256()
        refs: dict[int, list[str]] = {}
        for version in versions:
            rid, number = version["record_id"], version["version"]
            trail.update(f"{rid}:{number};".encode())
            refs.setdefault(version["subject_id"], []).append(f"record {rid} v{number}")
        ids = [u["b_id"] for u in updates] or left
        event = audit.append(
            self.session,
            actor=self.actor,
            tag=RENUMBERED_TAG,
            object_ref=f"records {min(ids)}..{max(ids)}",
            detail={
                "reason": REASON,
                "records": len(updates),
                "duplicates": len(duplicates),
                "digests_kept": digests_kept,
                "left_records": left,
                "versions_digest": trail.hexdigest(),
                "subjects": len(refs),
                "subjects_digest": subjects_digest(refs),
            },
        )
        link_each(self.session, event.id, {sid: access_refs(r) for sid, r in refs.items()})

    def _holders(self, keys: set[Key]) -> dict[Key, tuple[int, str]]:
        """The records that already hold a key: stored in that spelling, or renumbered
        by an earlier batch of this run.

        Asked as ``source IN .. AND decision_no IN ..``, which both stores answer from the
        unique index, then matched exactly here: a row-value IN scans the whole index on
        SQLite, once per chunk.
        """
        held: dict[Key, tuple[int, str]] = {}
        by_source: dict[str, list[str]] = {}
        for source, number, _ in keys:
            by_source.setdefault(source, []).append(number)
        for source, numbers in by_source.items():
            for chunk in chunks(sorted(set(numbers)), 500):
                rows = self.conn.execute(
                    select(
                        _records.c.decision_no,
                        _records.c.party,
                        _records.c.id,
                        _records.c.content_digest,
                    ).where(_records.c.source == source, _records.c.decision_no.in_(chunk))
                )
                for number, party, rid, digest in rows:
                    if (source, number, party) in keys:
                        held[(source, number, party)] = (rid, digest)
        return held

    def _codes(self, subject_ids: set[int]) -> dict[int, tuple[str, str]]:
        """Each subject's kind and code as ingest saw it (persons' numbers opened)."""
        codes: dict[int, tuple[str, str]] = {}
        for chunk in chunks(sorted(subject_ids), 500):
            rows = self.conn.execute(
                select(Subject.id, Subject.kind, Subject.code_display, Subject.code_cipher).where(
                    Subject.id.in_(chunk)
                )
            )
            for sid, kind, display, cipher in rows:
                codes[sid] = (kind, self._open(sid, kind, display, cipher))
        return codes

    def _open(self, sid: int, kind: str, display: str, cipher: bytes | None) -> str:
        if kind != SubjectKind.NATURAL_PERSON:
            return display
        if self.vault is None:
            raise RenumberError(
                "upgrading decision numbers re-digests persons' records and needs the "
                "identifier key: run `bonafides init` with the store's BONAFIDES_SECRET_KEY"
            )
        if cipher is None:
            raise RenumberError(f"subject {sid} is a person without a stored ID number")
        try:
            return self.vault.decrypt(cipher)
        except InvalidTag:
            raise RenumberError(
                f"the identifier key does not open subject {sid}'s ID number: "
                "is BONAFIDES_SECRET_KEY the one this store was written with?"
            ) from None

    def reviews(self, batch: int) -> None:
        """Review-queue numbers: the key a resubmitted row without a subject code meets."""
        last = 0
        while True:
            rows = self.conn.execute(
                select(
                    _reviews.c.id, _reviews.c.source, _reviews.c.type_code, _reviews.c.decision_no
                )
                .where(_reviews.c.id > last, _reviews.c.decision_no.is_not(None))
                .order_by(_reviews.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return
            last = rows[-1][0]
            changing = []
            for rid, source, type_code, number in rows:
                normalised = decision_number(number).value
                if normalised != number:
                    changing.append((rid, (source, type_code, normalised)))
            if not changing:
                continue
            wanted = {key for _, key in changing}
            held: set[tuple[str, str, str]] = set()
            for (source, type_code), numbers in _grouped(wanted).items():
                for chunk in chunks(numbers, 500):
                    held.update(
                        (source, type_code, n)
                        for (n,) in self.conn.execute(
                            select(_reviews.c.decision_no).where(
                                _reviews.c.source == source,
                                _reviews.c.type_code == type_code,
                                _reviews.c.decision_no.in_(chunk),
                            )
                        )
                    )
            updates = []
            for rid, key in changing:
                duplicate = key in held
                number = duplicate_number(key[2], rid) if duplicate else key[2]
                if not key[2] or len(number) > NUMBER_WIDTH:
                    self.result.review_left += 1
                    continue
                if duplicate:
                    self.result.review_duplicates += 1
                held.add(key)
                updates.append({"b_id": rid, "b_no": number})
            if updates:
                self.conn.execute(
                    update(_reviews)
                    .where(_reviews.c.id == bindparam("b_id"))
                    .values(decision_no=bindparam("b_no")),
                    updates,
                )
                self.result.review_items += len(updates)

    def summary(self) -> None:
        """The review queue's part of the run, when there was one."""
        result = self.result
        if result.review_items or result.review_left:
            audit.append(
                self.session,
                actor=self.actor,
                tag=REVIEW_TAG,
                detail={
                    "review_items": result.review_items,
                    "review_duplicates": result.review_duplicates,
                    "review_left": result.review_left,
                },
            )


def _grouped(keys: set[tuple[str, str, str]]) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, type_code, number in sorted(keys):
        grouped.setdefault((source, type_code), []).append(number)
    return grouped


def _digest(row: Any, kind: str, code: str, content: dict[str, Any]) -> str:
    """The digest ingest gives this content: ``RecordInput.content_digest``, the one place
    that says what "unchanged" means."""
    return RecordInput(
        type_code=row.type_code,
        source="",
        decision_no="",
        decision_date=row.decision_date,
        subject=SubjectRef(code=code, kind=SubjectKind(kind), name=""),
        content=content,
        severity=row.severity,
        legal_basis=row.legal_basis,
    ).content_digest
