"""The files an export is made of: where they go, and one writer per format.

Each writer takes a batch of columns at a time (what the store read in one batch), so an
export of any size holds one batch in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic_core import to_json

from bonafides.csvcells import csv_cell

Columns = dict[str, list[Any]]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    FTM = "ftm"


@dataclass(frozen=True)
class Scope:
    """What one export covers: today, and for a delta the day changes are counted from."""

    today: dt.date
    zone: str
    since: dt.date | None = None

    @property
    def kind(self) -> str:
        return "snapshot" if self.since is None else "delta"

    def name(self, fmt: ExportFormat) -> str:
        if self.since is None:
            return f"snapshot-{self.today.isoformat()}-{fmt.value}"
        return f"delta-{self.today.isoformat()}-since-{self.since.isoformat()}-{fmt.value}"


class Sink(Protocol):
    """One file of an export, written a batch of columns at a time."""

    rows: int

    def write(self, cols: Columns) -> None: ...

    def close(self) -> None: ...


def flat(cols: Columns) -> Columns:
    """Structured values (content, a list of codes) as JSON text, for flat formats; a
    column is structured when its first value is, so the other columns pass untouched."""
    out = {}
    for name, values in cols.items():
        first = next((v for v in values if v is not None), None)
        if isinstance(first, dict | list):
            values = [None if v is None else to_json(v).decode() for v in values]
        out[name] = values
    return out


class ParquetSink:
    """Record batches to one Parquet file (zstd). Each batch is encoded and compressed on a
    second thread while the next is read and shaped (PyArrow releases the GIL there); one
    batch at most is in flight, so memory stays two batches."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.rows = 0
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self.pending: Future[None] | None = None

    def write(self, cols: Columns | pa.RecordBatch) -> None:
        if isinstance(cols, pa.RecordBatch):
            batch = cols
        else:
            batch = pa.RecordBatch.from_pydict(flat(cols), schema=self.schema)
        self._wait()
        self.pending = self.worker.submit(self.writer.write_batch, batch)
        self.rows += batch.num_rows

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self.worker.shutdown()
            self.writer.close()


class CsvSink:
    """UTF-8 with a byte order mark, as the list downloads, so a spreadsheet reads it; no
    cell starts like a formula."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.handle: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(schema.names)
        self.rows = 0

    def write(self, cols: Columns) -> None:
        self.writer.writerows(
            [csv_cell(v) for v in row] for row in zip(*flat(cols).values(), strict=True)
        )
        self.rows += len(next(iter(cols.values()), []))

    def close(self) -> None:
        self.handle.close()


class JsonlSink:
    def __init__(self, path: Path, schema: pa.Schema | None = None) -> None:
        self.handle: IO[bytes] = path.open("wb")
        self.names = [] if schema is None else schema.names
        self.rows = 0

    def write(self, cols: Columns) -> None:
        buffer = io.BytesIO()
        for row in zip(*cols.values(), strict=True):
            buffer.write(to_json(dict(zip(self.names, row, strict=True))))
            buffer.write(b"\n")
            self.rows += 1
        self.handle.write(buffer.getvalue())

    def write_objects(self, objects: Iterable[dict[str, Any]]) -> None:
        """Whole objects, one a line (FollowTheMoney entities)."""
        buffer = io.BytesIO()
        for obj in objects:
            buffer.write(to_json(obj))
            buffer.write(b"\n")
            self.rows += 1
        self.handle.write(buffer.getvalue())

    def close(self) -> None:
        self.handle.close()


@dataclass
class Written:
    """The files of an export being written, with their schemas, for the manifest."""

    directory: Path
    schemas: dict[str, list[list[str]]]
    rows: dict[str, int]

    def add(self, file_name: str, schema: pa.Schema | list[list[str]], rows: int) -> None:
        if isinstance(schema, pa.Schema):
            self.schemas[file_name] = [[f.name, str(f.type)] for f in schema]
        else:
            self.schemas[file_name] = schema
        self.rows[file_name] = rows
