"""Ingest as a use case: a department file stored chunk by chunk, each chunk one unit.

A file is read in chunks; each chunk is validated and committed in one unit of work
together with its rejections, its review items and the batch's position
(``bonafides.ingest.service``, which writes to the session it is given and never
commits). A run killed at any point therefore leaves whole chunks and a position to
resume from; rerunning the same file continues there, and a finished file resubmitted
changes nothing because (source, decision number) is the idempotency key.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import partial
from pathlib import Path

from bonafides import metrics
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.ingest import service
from bonafides.ingest.readers import open_table
from bonafides.ingest.service import (
    DEFAULT_CHUNK_ROWS,
    ChunkCounts,
    ChunkWriter,
    IngestReport,
    file_digest,
)
from bonafides.ingest.validate import RowValidator
from bonafides.matching import keys
from bonafides.progress import ProgressFn
from bonafides.workflows.notify import Notifier, StoredNotifier


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
    with UnitOfWork(ctx.sessions) as unit:
        batch_id, resume_at = service.start_batch(
            unit.session, table, type_code, source, digest, actor
        )
        unit.commit()
    notifier = notifier or StoredNotifier(ctx.clock, mail_enabled=bool(ctx.settings.smtp_host))
    writer = ChunkWriter(ctx, validator, batch_id, actor, notifier)
    done = resume_at or 0
    if progress is not None:
        progress(done, None)
    for chunk in table.chunks(skip=resume_at or 0, size=chunk_rows):
        with UnitOfWork(ctx.sessions) as unit:
            counts = writer.apply(unit.session, chunk)
            # Counted once the chunk is committed: a crash before it counts nothing twice.
            unit.after_commit(partial(_count, counts))
            unit.commit()
        done = chunk.consumed
        if progress is not None:
            progress(done, _estimate(done, chunk.fraction))
    if progress is not None:
        progress(done, done)
    with UnitOfWork(ctx.sessions) as unit:
        service.finish(unit.session, batch_id, actor)
        if keys.sync_due(unit.session, matched=writer.linker.used):
            keys.sync(unit.session)
        unit.commit()
    return service.load_report(
        ctx,
        batch_id,
        resumed_from=(resume_at + 2) if resume_at else None,
        seconds=time.perf_counter() - started,
        ignored=validator.ignored,
        suggestions=validator.suggestions,
    )


def _count(counts: ChunkCounts) -> None:
    metrics.INGEST_ROWS.labels("accepted").inc(counts.stored + counts.unchanged)
    metrics.INGEST_ROWS.labels("rejected").inc(counts.rejected)
    metrics.INGEST_ROWS.labels("review").inc(counts.review)


def _estimate(done: int, fraction: float | None) -> int | None:
    """The file's data rows, from the rows read and the share of the file they filled."""
    if not fraction:
        return None
    return max(done, round(done / fraction))
