"""The ingest service: one code path for files (CLI, portal upload) and API batches.

A file is read in chunks; ``ChunkWriter`` validates one and writes it together with its
rejections, its review items and the batch's position, in the session it is given. The
use case (``bonafides.app.ingest.ingest_file``) commits each chunk as one unit of work,
so a run killed at any point leaves whole chunks and a position to resume from.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.digests import sha256_of
from bonafides.ingest.columns import check_columns, check_rows
from bonafides.ingest.linking import Linked, NameLinker, Unlinked, candidates_json
from bonafides.ingest.readers import Chunk, TableFile
from bonafides.ingest.validate import Rejection, RowOutcome, RowValidator
from bonafides.matching.model import ALGORITHM, MatchResult
from bonafides.records import RecordColumns, RecordInput, RecordStatus
from bonafides.rules.records import refresh_written_since, write_records
from bonafides.rules.service import version_mark
from bonafides.security import audit
from bonafides.store.records import Outcome, batch_keys, record_key, stored_records
from bonafides.store.subjects import chunks as slices
from bonafides.store.tables import IngestBatch, IngestRejection, MatchLink, Record, ReviewItem
from bonafides.store.types import utcnow
from bonafides.workflows import protection
from bonafides.workflows.notify import Notifier

DEFAULT_CHUNK_ROWS = 5_000
COUNT_KEYS = (
    "rows",
    "accepted",
    "amended",
    "unchanged",
    "held",
    "rejected",
    "review",
    "matched",
)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass
class IngestReport:
    batch_id: int
    file: str
    type_code: str
    #: None: no department was named; each row was attributed by its data source.
    source: str | None
    format: str
    encoding: str | None
    counts: dict[str, int]
    rejections: list[Rejection]
    normalised: dict[str, int]
    ignored_columns: list[str]
    resumed_from_row: int | None
    seconds: float
    review: list[dict[str, Any]] = field(default_factory=list)
    #: Ignored header -> the nearest catalogue column ("did you mean").
    suggestions: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.counts.get("rejected", 0) or self.counts.get("held", 0) else 0

    def rejected_by_reason(self) -> dict[str, int]:
        """Rejections grouped by field and reason, the values left out so alike ones add up."""
        grouped = Counter(f"{r.field}: {_QUOTED.sub('…', r.reason)}" for r in self.rejections)
        return dict(grouped.most_common())

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "file": self.file,
            "type": self.type_code,
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "summary": self.counts,
            "rejected_by_reason": self.rejected_by_reason(),
            "normalised": self.normalised,
            "ignored_columns": self.ignored_columns,
            "suggestions": self.suggestions,
            "resumed_from_row": self.resumed_from_row,
            "seconds": round(self.seconds, 3),
            "rejections": [
                {"row": r.row, "field": r.field, "value": r.value, "reason": r.reason}
                for r in self.rejections
            ],
            "review": self.review,
        }


def file_digest(path: Path) -> str:
    """The file's identity: a rerun of the same bytes resumes its batch."""
    return sha256_of(path)


def _note_kind(note: str) -> str:
    """The kind of a note ("date '2021/5/6' read as 2021-05-06" is a date) for the counts."""
    kind = _QUOTED.sub("…", note).split(" read as ")[0].replace("…", "").strip() or "value"
    return kind if kind.endswith("normalised") else f"{kind} normalised"


@dataclass(frozen=True)
class ChunkCounts:
    """What one chunk did, for the metrics counted once its unit of work has committed."""

    stored: int
    unchanged: int
    rejected: int
    review: int


class ChunkWriter:
    """Applies validated chunks of one batch to the store, each in the session given."""

    def __init__(
        self,
        ctx: Context,
        validator: RowValidator,
        batch_id: int,
        actor: str,
        notifier: Notifier,
        linker: NameLinker | None = None,
    ) -> None:
        self.ctx = ctx
        self.validator = validator
        self.batch_id = batch_id
        self.actor = actor
        self.notifier = notifier
        #: Rows without a code are matched by name (bonafides-names, ``ALGORITHM``) before review.
        self.linker = linker or NameLinker(ctx.sessions)

    #: Clean rows checked and written as columns (``ingest.columns``); False checks and
    #: writes every row alone, the reference the columns must agree with.
    by_columns = True

    def apply(self, session: Session, chunk: Chunk) -> ChunkCounts:
        checked = (
            check_columns(self.validator, chunk.rows)
            if self.by_columns
            else check_rows(self.validator, chunk.rows)
        )
        clean = checked.clean
        #: The rows to write, in order: a clean row by its place in ``clean``, any other
        #: by its place in ``records`` (which the due-process screen sees).
        order: list[tuple[bool, int]] = []
        records: list[tuple[int, RecordInput, str | None]] = []
        links: dict[int, Linked] = {}
        rejections: list[Rejection] = []
        reviews: list[tuple[int, RowOutcome]] = []
        notes: Counter[str] = Counter()
        rejected_rows = 0
        for (row_no, _), outcome, at in zip(
            chunk.rows, checked.outcomes, checked.clean_at, strict=True
        ):
            if outcome is None:
                notes.update(_note_kind(n) for n in checked.notes[at])
                order.append((True, at))
                continue
            if outcome.notes:
                notes.update(_note_kind(n) for n in outcome.notes)
            if outcome.rejections:
                rejected_rows += 1
                rejections.extend(outcome.rejections)
            elif outcome.review is not None:
                reviews.append((row_no, outcome))
            elif outcome.record is not None:
                order.append((False, len(records)))
                records.append((row_no, outcome.record, outcome.amends))
        for row_no, reason in chunk.broken:
            rejected_rows += 1
            rejections.append(Rejection(row_no, "(row)", "", reason))
        linked, unlinked = self.linker.link(self.validator, reviews) if reviews else ([], [])
        for link in linked:
            links[len(records)] = link
            order.append((False, len(records)))
            records.append((link.row, link.record, link.amends))
        batch = session.get(IngestBatch, self.batch_id, with_for_update=True)
        assert batch is not None
        # Read once: the due-process screen and the write both need the stored records.
        clean_keys = batch_keys(self.ctx.keys, clean)
        stored = stored_records(
            session, [*clean_keys, *(record_key(self.ctx.keys, item) for _, item, _ in records)]
        )
        # A clean row that meets a corrected or repaired record with other values is the
        # screen's to judge, one row at a time like any other.
        for place, (is_clean, at) in enumerate(order):
            if not is_clean:
                continue
            found = stored.get(clean_keys[at])
            if (
                found is not None
                and RecordStatus(found.status) in protection.PROTECTED
                and found.digest != clean.digest[at]
            ):
                order[place] = (False, len(records))
                records.append((checked.rows[at], clean.record(at), checked.amends[at]))
        # Due process first: a row that would undo a correction or a repair is held. The
        # rows in their order (the file's, matched rows last), as the row path holds them.
        applied, held = protection.screen(
            session,
            self.ctx.keys,
            [records[at] for is_clean, at in order if not is_clean],
            zone=self.ctx.settings.timezone,
            stored=stored,
        )
        number_column = self.validator.rtype.content_field("decision_no").column_zh
        rejections.extend(
            Rejection(h.row, number_column, h.item.decision_no, h.reason) for h in held
        )
        protection.report_held(
            session,
            self.ctx.catalogue,
            self.notifier,
            held,
            actor=self.actor,
            batch=f"batch {self.batch_id}",
        )
        written_links: list[Linked | None]
        if not records:
            written, written_links = clean, [None] * len(clean)
        else:
            applying = {id(item) for item in applied}
            written = RecordColumns()
            written_links = []
            for is_clean, at in order:
                if is_clean:
                    written.append_row(clean, at)
                    written_links.append(None)
                elif id(records[at][1]) in applying:
                    written.append_input(records[at][1])
                    written_links.append(links.get(at))
        result = write_records(
            session,
            self.ctx.keys,
            written,
            actor=self.actor,
            catalogue_version=self.ctx.catalogue.version,
            stored=stored,
            # Once per file, in ``finish``: a subject named in many chunks is evaluated once.
            refresh=False,
        )
        if rejections:
            session.execute(
                insert(IngestRejection),
                [
                    {
                        "batch_id": self.batch_id,
                        "row": r.row,
                        "field": r.field[:100],
                        "value": r.value[:100],
                        "reason": r.reason[:300],
                    }
                    for r in rejections
                ],
            )
        matched = _store_links(session, self.batch_id, written_links, result.outcomes)
        if matched:
            audit.append(
                session,
                actor=self.actor,
                tag="ingest:records:matched",
                object_ref=f"batch {self.batch_id}",
                detail={"algorithm": ALGORITHM, "rows": sorted(r for r, _ in matched)},
            )
        queued = _queue_reviews(session, self.batch_id, self.validator, unlinked)
        counts = dict(batch.counts)
        counts["rows"] = counts.get("rows", 0) + chunk.size
        counts["accepted"] = counts.get("accepted", 0) + result.count(Outcome.CREATED)
        counts["amended"] = counts.get("amended", 0) + result.count(Outcome.AMENDED)
        counts["unchanged"] = counts.get("unchanged", 0) + result.count(Outcome.UNCHANGED)
        counts["held"] = counts.get("held", 0) + len(held)
        counts["rejected"] = counts.get("rejected", 0) + rejected_rows
        counts["review"] = counts.get("review", 0) + queued
        counts["matched"] = counts.get("matched", 0) + len(matched)
        batch.counts = counts
        merged = Counter(batch.notes)
        merged.update(notes)
        batch.notes = dict(merged)
        batch.next_row = chunk.consumed
        return ChunkCounts(
            stored=result.count(Outcome.CREATED) + result.count(Outcome.AMENDED),
            unchanged=result.count(Outcome.UNCHANGED),
            rejected=rejected_rows + len(held),
            review=queued,
        )


def _store_links(
    session: Session,
    batch_id: int,
    links: list[Linked | None],
    outcomes: list[tuple[Outcome, int]],
) -> list[tuple[int, int]]:
    """A ``match_links`` row for each record a matched row created or changed: (row, id).

    ``links``: the match of each written row (None for a row that named its subject)."""
    written = [
        (link, record_id)
        for link, (outcome, record_id) in zip(links, outcomes, strict=True)
        if link is not None and outcome is not Outcome.UNCHANGED
    ]
    if not written:
        return []
    subject_of = dict(
        session.execute(
            select(Record.id, Record.subject_id).where(
                Record.id.in_(sorted({rid for _, rid in written}))
            )
        ).all()
    )
    now = utcnow()
    session.execute(
        insert(MatchLink),
        [
            {
                "record_id": record_id,
                "subject_id": subject_of[record_id],
                "batch_id": batch_id,
                "row": link.row,
                "name": link.record.subject.name[:300],
                "algorithm": link.result.algorithm,
                "score": link.result.score,
                "explanation": [c.to_json() for c in link.result.explanation],
                "linked_at": now,
            }
            for link, record_id in written
        ],
    )
    return [(link.row, record_id) for link, record_id in written]


def _queue_reviews(
    session: Session, batch_id: int, validator: RowValidator, unlinked: list[Unlinked]
) -> int:
    if not unlinked:
        return 0
    reviews = [u.outcome.review for u in unlinked if u.outcome.review is not None]
    proposals = {id(u.outcome.review): u.result for u in unlinked}
    keys = [(r.source, validator.rtype.code, r.decision_no) for r in reviews]
    known: set[tuple[str, str, str | None]] = set()
    for part in slices(keys, 300):
        rows = session.execute(
            select(ReviewItem.source, ReviewItem.type_code, ReviewItem.decision_no).where(
                tuple_(ReviewItem.source, ReviewItem.type_code, ReviewItem.decision_no).in_(part)
            )
        )
        known.update((s, t, d) for s, t, d in rows)
    now = utcnow()
    fresh = []
    for key, item in zip(keys, reviews, strict=True):
        if key in known:
            continue
        known.add(key)
        fresh.append(
            {
                "batch_id": batch_id,
                "row": item.row,
                "source": item.source,
                "type_code": validator.rtype.code,
                "decision_no": item.decision_no,
                "subject_name": item.subject_name,
                "reason": item.reason,
                "raw": {k: v for k, v in item.raw.items() if v is not None},
                "status": "open",
                "created_at": now,
                "candidates": candidates_json(proposals[id(item)]),
                "algorithm": _algorithm(proposals[id(item)]),
            }
        )
    if fresh:
        session.execute(insert(ReviewItem), fresh)
    return len(reviews)


def start_batch(
    session: Session,
    table: TableFile,
    type_code: str,
    source: str | None,
    digest: str,
    actor: str,
) -> tuple[int, int | None]:
    """Resume the unfinished batch of the same file, or open a new one."""
    unfinished = session.scalar(
        select(IngestBatch)
        .where(
            IngestBatch.source.is_(None) if source is None else IngestBatch.source == source,
            IngestBatch.type_code == type_code,
            IngestBatch.file_sha256 == digest,
            IngestBatch.status == "running",
        )
        .order_by(IngestBatch.id.desc())
        .limit(1)
    )
    if unfinished is not None:
        if unfinished.version_mark is None:
            # Begun by a version that refreshed each chunk as it committed it.
            unfinished.version_mark = version_mark(session)
        return unfinished.id, unfinished.next_row
    batch = IngestBatch(
        source=source,
        type_code=type_code,
        file_name=table.path.name,
        file_sha256=digest,
        format=table.format,
        encoding=table.encoding,
        actor=actor,
        status="running",
        started_at=utcnow(),
        next_row=0,
        counts=dict.fromkeys(COUNT_KEYS, 0),
        notes={},
        version_mark=version_mark(session),
    )
    session.add(batch)
    session.flush()
    audit.append(
        session,
        actor=actor,
        tag="ingest:batch:started",
        object_ref=f"batch {batch.id}",
        detail={"file": table.path.name, "sha256": digest, "type": type_code, "source": source},
    )
    return batch.id, None


def finish(session: Session, batch_id: int, actor: str) -> None:
    """Refresh the list entries of the subjects the file changed, then mark the batch
    done: every chunk of its file is stored.

    The entries are refreshed here, once per file, not with each chunk: until then the
    records of a running batch are stored but their entries lag. A killed run's records
    are refreshed by the rerun that finishes the file, or by ``bonafides lists
    recompute``.
    """
    batch = session.get(IngestBatch, batch_id, with_for_update=True)
    assert batch is not None
    assert batch.version_mark is not None
    refresh_written_since(session, batch.version_mark, actor=actor)
    batch.status = "done"
    batch.finished_at = utcnow()
    audit.append(
        session,
        actor=actor,
        tag="ingest:batch:finished",
        object_ref=f"batch {batch_id}",
        detail=dict(batch.counts),
    )


def load_report(
    ctx: Context,
    batch_id: int,
    *,
    resumed_from: int | None,
    seconds: float,
    ignored: list[str],
    suggestions: dict[str, str] | None = None,
) -> IngestReport:
    with ctx.sessions() as session:
        batch = session.get(IngestBatch, batch_id)
        assert batch is not None
        rejections = [
            Rejection(r.row, r.field, r.value, r.reason)
            for r in session.scalars(
                select(IngestRejection)
                .where(IngestRejection.batch_id == batch_id)
                .order_by(IngestRejection.row, IngestRejection.id)
            )
        ]
        review = [
            {"row": r.row, "subject_name": r.subject_name, "decision_no": r.decision_no}
            for r in session.scalars(
                select(ReviewItem).where(ReviewItem.batch_id == batch_id).order_by(ReviewItem.row)
            )
        ]
        return IngestReport(
            batch_id=batch_id,
            file=batch.file_name,
            type_code=batch.type_code,
            source=batch.source,
            format=batch.format,
            encoding=batch.encoding,
            counts={k: int(batch.counts.get(k, 0)) for k in COUNT_KEYS},
            rejections=rejections,
            normalised=dict(Counter(batch.notes).most_common()),
            ignored_columns=ignored,
            resumed_from_row=resumed_from,
            seconds=seconds,
            review=review,
            suggestions=dict(suggestions or {}),
        )


def count_open_reviews(session: Session) -> int:
    return session.scalar(select(func.count()).where(ReviewItem.status == "open")) or 0


def _algorithm(result: MatchResult | None) -> str | None:
    return result.algorithm if result is not None else None
