"""Loading a register over HTTP: a department hands in its register of subjects.

A JSON batch is written to a JSON Lines file and an upload is saved as it came; both go
through ``load_register``, the service ``bonafides register load`` calls, so a row is
checked, stored and reported the same way whichever door it came in by.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from pydantic import BaseModel, Field

from bonafides.app.submit import Cell, Rejection, safe_file_name
from bonafides.context import Context
from bonafides.ingest.register import RegisterReport, load_register


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
