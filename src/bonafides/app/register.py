"""Loading a register: a department hands in its register of subjects.

``load_register`` is the use case ``bonafides register load`` and the API both run: a
file read in chunks, each chunk's good rows stored in one unit of work, as
``bonafides.app.ingest`` does for records, so a run cut short leaves whole chunks and
running the file again finishes it. Over HTTP a JSON batch is written to a JSON Lines
file and an upload is saved as it came, so a row is checked, stored and reported the
same way whichever door it came in by.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from pydantic import BaseModel, Field

from bonafides.app.submit import Cell, Rejection, safe_file_name
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.ingest.register import DEFAULT_CHUNK_ROWS, RegisterLoad, RegisterReport
from bonafides.matching import keys
from bonafides.progress import ProgressFn


class RegisterBatchIn(BaseModel):
    """Register rows keyed by the register's column names, Chinese or English."""

    rows: list[dict[str, Cell]] = Field(
        min_length=1, max_length=50_000, description="One object per subject."
    )


class RegisterReportOut(BaseModel):
    """The load report: what was stored and changed, what was refused and why, by row."""

    file: str
    source: str | None
    format: str
    encoding: str | None
    summary: dict[str, int]
    events: dict[str, int]
    columns: dict[str, str]
    ignored_columns: list[str]
    seconds: float
    rejections: list[Rejection]


def load_register(
    ctx: Context,
    path: Path,
    *,
    source: str | None,
    actor: str,
    fmt: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    today: dt.date | None = None,
    progress: ProgressFn | None = None,
) -> RegisterReport:
    """Validate a register export and store its good rows; raises ``UnusableInputError``
    (nothing written) for a file or source that cannot be used at all."""
    load = RegisterLoad(
        ctx.catalogue,
        path,
        source=source,
        actor=actor,
        today=today or ctx.today(),
        fmt=fmt,
        encoding=encoding,
    )
    if progress is not None:
        progress(0, None)
    done = 0
    for chunk in load.table.chunks(size=chunk_rows):
        good = load.check(chunk)
        with UnitOfWork(ctx.sessions) as unit:
            load.store(unit.session, good)
            unit.commit()
        done = chunk.consumed
        if progress is not None:
            progress(done, None if not chunk.fraction else max(done, round(done / chunk.fraction)))
    if progress is not None:
        progress(done, done)
    with UnitOfWork(ctx.sessions) as unit:
        load.finish(unit.session)
        # The register's names keyed for matching in the store (bonafides.matching.keys).
        keys.sync(unit.session)
        unit.commit()
    return load.report()


def report_out(report: RegisterReport) -> RegisterReportOut:
    return RegisterReportOut.model_validate(report.to_json())


def load_rows(
    ctx: Context, *, source: str, rows: Sequence[Mapping[str, Cell]], actor: str
) -> RegisterReport:
    """A JSON batch, loaded through the file path."""
    with tempfile.TemporaryDirectory(prefix="bonafides-register-") as tmp:
        path = Path(tmp) / "api-register.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row))
                handle.write("\n")
        return load_register(ctx, path, source=source, actor=actor)


def load_upload(
    ctx: Context, *, source: str, file_name: str | None, content: IO[bytes], actor: str
) -> RegisterReport:
    """An uploaded register file, saved under its own (cleaned) name for the report."""
    with tempfile.TemporaryDirectory(prefix="bonafides-register-") as tmp:
        path = Path(tmp) / safe_file_name(file_name, "register.csv")
        with path.open("wb") as handle:
            while block := content.read(1 << 20):
                handle.write(block)
        return load_register(ctx, path, source=source, actor=actor)
