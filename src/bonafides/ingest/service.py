"""The ingest service: one code path for files (CLI, portal upload) and API batches.

A file is read in chunks; each chunk is validated and then committed in one
transaction together with its rejections, its review items and the batch's position.
A run killed at any point therefore leaves whole chunks and a position to resume
from; rerunning the same file continues there, and a finished file resubmitted
changes nothing because (source, decision number) is the idempotency key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from bonafides import metrics
from bonafides.context import Context
from bonafides.ingest.readers import Chunk, TableFile, open_table
from bonafides.ingest.validate import Rejection, RowValidator
from bonafides.progress import ProgressFn
from bonafides.security import audit
from bonafides.store.records import Outcome, write_records
from bonafides.store.subjects import chunks as slices
from bonafides.store.tables import IngestBatch, IngestRejection, ReviewItem
from bonafides.store.types import utcnow
from bonafides.workflows import protection
from bonafides.workflows.notify import Notifier, StoredNotifier

DEFAULT_CHUNK_ROWS = 5_000
COUNT_KEYS = ("rows", "accepted", "amended", "unchanged", "held", "rejected", "review")
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
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def _note_kind(note: str) -> str:
    """The kind of a note ("date '2021/5/6' read as 2021-05-06" is a date) for the counts."""
    kind = _QUOTED.sub("…", note).split(" read as ")[0].replace("…", "").strip() or "value"
    return kind if kind.endswith("normalised") else f"{kind} normalised"


class _Run:
    """Applies validated chunks of one batch to the store."""

    def __init__(
        self,
        ctx: Context,
        validator: RowValidator,
        batch_id: int,
        actor: str,
        notifier: Notifier,
    ) -> None:
        self.ctx = ctx
        self.validator = validator
        self.batch_id = batch_id
        self.actor = actor
        self.notifier = notifier

    def apply(self, chunk: Chunk) -> int:
        records = []
        rejections: list[Rejection] = []
        reviews = []
        notes: Counter[str] = Counter()
        rejected_rows = 0
        for row_no, cells in chunk.rows:
            outcome = self.validator.check(row_no, cells)
            notes.update(_note_kind(n) for n in outcome.notes)
            if outcome.rejections:
                rejected_rows += 1
                rejections.extend(outcome.rejections)
            elif outcome.review is not None:
                reviews.append(outcome.review)
            elif outcome.record is not None:
                records.append((row_no, outcome.record, outcome.amends))
        for row_no, reason in chunk.broken:
            rejected_rows += 1
            rejections.append(Rejection(row_no, "(row)", "", reason))
        with self.ctx.sessions.begin() as session:
            batch = session.get(IngestBatch, self.batch_id, with_for_update=True)
            assert batch is not None
            # Due process first: a row that would undo a correction or a repair is held.
            applied, held = protection.screen(
                session, self.ctx.keys, records, zone=self.ctx.settings.timezone
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
            result = write_records(
                session,
                self.ctx.keys,
                applied,
                actor=self.actor,
                catalogue_version=self.ctx.catalogue.version,
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
            queued = _queue_reviews(session, self.batch_id, self.validator, reviews)
            counts = dict(batch.counts)
            counts["rows"] = counts.get("rows", 0) + chunk.size
            counts["accepted"] = counts.get("accepted", 0) + result.count(Outcome.CREATED)
            counts["amended"] = counts.get("amended", 0) + result.count(Outcome.AMENDED)
            counts["unchanged"] = counts.get("unchanged", 0) + result.count(Outcome.UNCHANGED)
            counts["held"] = counts.get("held", 0) + len(held)
            counts["rejected"] = counts.get("rejected", 0) + rejected_rows
            counts["review"] = counts.get("review", 0) + queued
            batch.counts = counts
            merged = Counter(batch.notes)
            merged.update(notes)
            batch.notes = dict(merged)
            batch.next_row = chunk.consumed
        # Counted once the chunk is committed: a crash before it counts nothing twice.
        stored = result.count(Outcome.CREATED) + result.count(Outcome.AMENDED)
        metrics.INGEST_ROWS.labels("accepted").inc(stored + result.count(Outcome.UNCHANGED))
        metrics.INGEST_ROWS.labels("rejected").inc(rejected_rows + len(held))
        metrics.INGEST_ROWS.labels("review").inc(queued)
        return chunk.size


def _queue_reviews(
    session: Session, batch_id: int, validator: RowValidator, reviews: list[Any]
) -> int:
    if not reviews:
        return 0
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
            }
        )
    if fresh:
        session.execute(insert(ReviewItem), fresh)
    return len(reviews)


def _start_batch(
    ctx: Context, table: TableFile, type_code: str, source: str | None, digest: str, actor: str
) -> tuple[int, int | None]:
    """Resume the unfinished batch of the same file, or open a new one."""
    with ctx.sessions.begin() as session:
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


def _finish(ctx: Context, batch_id: int, actor: str) -> None:
    with ctx.sessions.begin() as session:
        batch = session.get(IngestBatch, batch_id)
        assert batch is not None
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


def ingest_file(
    ctx: Context,
    path: Path,
    *,
    type_code: str,
    source: str | None,
    actor: str,
    fmt: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    today: dt.date | None = None,
    progress: ProgressFn | None = None,
    notifier: Notifier | None = None,
) -> IngestReport:
    """Validate and store one department file; raises UnusableInputError before any write.

    ``source`` is the submitting department; ``None`` attributes each row to the department
    whose USCC the row gives as its data source (数据来源单位统一社会信用代码).
    ``progress`` hears, after each chunk, the data rows read so far (a resumed run counts
    from where it resumes) and the file's rows as estimated from the share of the file
    read; the last call gives the exact count as both.
    """
    started = time.perf_counter()
    table = open_table(path, fmt=fmt, encoding=encoding)
    validator = RowValidator(
        ctx.catalogue,
        type_code,
        source,
        table.columns,
        today=today or ctx.today(),
        seal=ctx.vault.seal,
        encoding=table.encoding,
    )
    digest = file_digest(path)
    batch_id, resume_at = _start_batch(ctx, table, type_code, source, digest, actor)
    notifier = notifier or StoredNotifier(ctx.clock, mail_enabled=bool(ctx.settings.smtp_host))
    run = _Run(ctx, validator, batch_id, actor, notifier)
    done = resume_at or 0
    if progress is not None:
        progress(done, None)
    for chunk in table.chunks(skip=resume_at or 0, size=chunk_rows):
        run.apply(chunk)
        done = chunk.consumed
        if progress is not None:
            progress(done, _estimate(done, chunk.fraction))
    if progress is not None:
        progress(done, done)
    _finish(ctx, batch_id, actor)
    return load_report(
        ctx,
        batch_id,
        resumed_from=(resume_at + 2) if resume_at else None,
        seconds=time.perf_counter() - started,
        ignored=validator.ignored,
        suggestions=validator.suggestions,
    )


def _estimate(done: int, fraction: float | None) -> int | None:
    """The file's data rows, from the rows read and the share of the file they filled."""
    if not fraction:
        return None
    return max(done, round(done / fraction))


def count_open_reviews(session: Session) -> int:
    return session.scalar(select(func.count()).where(ReviewItem.status == "open")) or 0
