"""Record submission over HTTP: who is submitting, and handing their data to ingest.

A JSON batch is written to a JSON Lines file and an upload is saved as it came;
both then go through ``ingest_file``, the same service the CLI calls, so a row is
checked, stored and reported the same way whichever door it came in by.
"""

from __future__ import annotations

import hmac
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from bonafides.app.ingest import ingest_file
from bonafides.context import Context
from bonafides.ingest.service import IngestReport
from bonafides.settings import Settings

#: The key every department has in demo mode when no keys are configured.
DEMO_KEY = "demo"
_UNSAFE = re.compile(r"[^\w.\-]+")

Cell = str | int | float | bool | None


class SubmissionKeyError(PermissionError):
    """No key, or a key that belongs to no department (or to another one)."""


def department_for_key(settings: Settings, key: str | None, *, claimed: str | None = None) -> str:
    """The department a key submits as; ``claimed`` must match when a form names one.

    Every configured key is compared in constant time, so the answer's timing says
    nothing about which department a guessed key came close to.
    """
    if not key:
        raise SubmissionKeyError("a department submission key is required")
    keys: dict[str, str] = {d: k.get_secret_value() for d, k in settings.department_keys.items()}
    if not keys and settings.demo and claimed:
        keys = {claimed: DEMO_KEY}
    found: str | None = None
    for department, secret in keys.items():
        if secret and hmac.compare_digest(secret.encode(), key.encode()):
            found = department
    if found is None or (claimed is not None and claimed != found):
        raise SubmissionKeyError("the submission key is not valid for this department")
    return found


class BatchIn(BaseModel):
    """Rows of one record type, keyed by the type's Chinese column names or field names."""

    type: str = Field(min_length=1, max_length=64, description="Record type code.")
    rows: list[dict[str, Cell]] = Field(
        min_length=1, max_length=50_000, description="One object per decision."
    )


class Rejection(BaseModel):
    row: int
    field: str
    value: str
    reason: str


class ReportOut(BaseModel):
    """The ingest report: what was stored, what was refused and why, row by row."""

    batch: int
    file: str
    type: str
    source: str
    format: str
    encoding: str | None
    summary: dict[str, int]
    rejected_by_reason: dict[str, int]
    normalised: dict[str, int]
    ignored_columns: list[str]
    resumed_from_row: int | None
    seconds: float
    rejections: list[Rejection]
    review: list[dict[str, Any]]


def report_out(report: IngestReport) -> ReportOut:
    return ReportOut.model_validate(report.to_json())


def safe_file_name(name: str | None, default: str) -> str:
    """The clerk's file name, reduced to a harmless single path component."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._")[-120:]
    return cleaned or default


def ingest_rows(
    ctx: Context, *, source: str, type_code: str, rows: Sequence[Mapping[str, Cell]], actor: str
) -> IngestReport:
    """An API batch, stored through the file path: one code path for every submission."""
    with tempfile.TemporaryDirectory(prefix="bonafides-batch-") as tmp:
        path = Path(tmp) / "api-batch.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                # ASCII escapes carry any string, a lone surrogate included, to the
                # reader, where validation refuses it by row and field.
                handle.write(json.dumps(row))
                handle.write("\n")
        return ingest_file(ctx, path, type_code=type_code, source=source, actor=actor)


def ingest_upload(
    ctx: Context,
    *,
    source: str,
    type_code: str,
    file_name: str | None,
    content: IO[bytes],
    actor: str,
) -> IngestReport:
    """An uploaded file, saved under its own (cleaned) name so the report shows it."""
    with tempfile.TemporaryDirectory(prefix="bonafides-upload-") as tmp:
        path = Path(tmp) / safe_file_name(file_name, "upload.csv")
        with path.open("wb") as handle:
            while block := content.read(1 << 20):
                handle.write(block)
        return ingest_file(ctx, path, type_code=type_code, source=source, actor=actor)
