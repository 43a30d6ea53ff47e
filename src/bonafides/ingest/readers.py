"""Reading department files in chunks, whatever their format and encoding.

Every reader yields ``Chunk``s of raw string cells keyed by the file's own header,
with spreadsheet row numbers (the header is row 1) so a report's "row 17" is the
row a clerk sees. Nothing here interprets values: that is validation's job. A file
that cannot be read at all raises ``UnusableInputError`` before anything is written.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from bonafides.ingest.characters import printable

FORMATS = ("csv", "jsonl", "xlsx", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SAMPLE = 1 << 16
#: Share of undecodable bytes above which a file is taken for another encoding or binary,
#: not for UTF-8 text with a few damaged cells (those are refused row by row).
_MAX_BAD_SHARE = 0.01


class UnusableInputError(Exception):
    """The whole file is unreadable; the message is the one line the user sees."""


Cells = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows with their spreadsheet numbers, and ``last_row``: where a resumed run goes on."""

    rows: list[tuple[int, Cells]]
    last_row: int
    #: Rows that could not even be parsed (a broken JSON line): row number and reason.
    broken: list[tuple[int, str]] = field(default_factory=list)
    #: How far into the file this chunk ends, 0 to 1 (bytes for text, rows for Parquet and
    #: XLSX), when the reader can tell cheaply; progress estimates the file's rows from it.
    fraction: float | None = None

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.broken)

    @property
    def consumed(self) -> int:
        """Data rows read so far in the file: the ``skip`` that resumes after this chunk."""
        return self.last_row - 1


@dataclass(frozen=True)
class TableFile:
    path: Path
    format: str
    encoding: str | None
    columns: list[str]

    def chunks(self, *, skip: int = 0, size: int = 10_000) -> Iterator[Chunk]:
        """Data rows in order, after skipping ``skip`` of them (to resume a killed run)."""
        readers = {
            "csv": _csv_chunks,
            "jsonl": _jsonl_chunks,
            "xlsx": _xlsx_chunks,
            "parquet": _parquet_chunks,
        }
        return readers[self.format](self, skip, size)


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise UnusableInputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise UnusableInputError(
            f"cannot tell the format of {path.name}; name it .csv, .jsonl, .xlsx or .parquet "
            "or pass --format"
        )
    return found


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, the two that Chinese systems export."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    cut = sample.rfind(b"\n")
    head = sample if cut < 0 or len(sample) < _SAMPLE else sample[: cut + 1]
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    # Mostly UTF-8 with a few bytes that are not: the file is UTF-8 and those cells are
    # rejected by row (readers decode with surrogateescape and validation names them).
    bad = sum(1 for c in head.decode("utf-8", "surrogateescape") if "\udc80" <= c <= "\udcff")
    if bad <= max(1, len(head) * _MAX_BAD_SHARE):
        return "utf-8"
    raise UnusableInputError("the file is neither UTF-8 nor GB18030 text; pass --encoding")


def _looks_binary(sample: bytes, encoding: str | None) -> bool:
    return b"\x00" in sample and encoding not in ("utf-16",)


def open_table(path: Path, *, fmt: str | None = None, encoding: str | None = None) -> TableFile:
    if not path.is_file():
        raise UnusableInputError(f"no such file: {path}")
    fmt = detect_format(path, fmt)
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE)
    if not sample:
        raise UnusableInputError(f"{path.name} is empty")
    if fmt in ("csv", "jsonl"):
        if encoding is None:
            if _looks_binary(sample, None):
                raise UnusableInputError(f"{path.name} is a binary file, not {fmt.upper()} text")
            encoding = detect_encoding(sample)
        else:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise UnusableInputError(f"unknown encoding {encoding!r}") from None
        columns = _csv_header(path, encoding) if fmt == "csv" else _jsonl_columns(path, encoding)
    elif fmt == "xlsx":
        if not sample.startswith(b"PK"):
            raise UnusableInputError(f"{path.name} is not an XLSX workbook")
        columns = _xlsx_header(path)
    else:
        if not sample.startswith(b"PAR1"):
            raise UnusableInputError(f"{path.name} is not a Parquet file")
        columns = _parquet_header(path)
    columns = [c.strip().lstrip("\ufeff") for c in columns]
    if not any(columns):
        raise UnusableInputError(f"{path.name} has no header row")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise UnusableInputError(f"{path.name} repeats columns: {', '.join(duplicates)}")
    return TableFile(path, fmt, encoding, columns)


def _csv_header(path: Path, encoding: str) -> list[str]:
    try:
        with path.open(encoding=encoding, newline="", errors="surrogateescape") as handle:
            header = next(csv.reader(handle), [])
        if any(printable(c) != c for c in header):
            raise UnusableInputError(
                f"{path.name}: the header row has bytes or control characters that are not "
                f"{encoding} text"
            )
        return header
    except csv.Error as exc:
        raise UnusableInputError(f"{path.name}: unreadable CSV header: {exc}") from None


def _position(handle: IO[str], size: int) -> Callable[[], float]:
    """The share of the file's bytes read so far: the binary buffer's offset, which runs
    at most one read-ahead block before the text the reader has parsed."""
    buffer = handle.buffer  # type: ignore[attr-defined]

    def fraction() -> float:
        return min(1.0, buffer.tell() / size) if size else 1.0

    return fraction


def _csv_chunks(table: TableFile, skip: int, chunk_size: int) -> Iterator[Chunk]:
    """Python's csv module on a decoding stream: any codec, quoted newlines, bounded memory."""
    assert table.encoding is not None
    width = len(table.columns)
    size = table.path.stat().st_size
    # Undecodable bytes become U+DC80..U+DCFF; validation rejects their row by field.
    with table.path.open(encoding=table.encoding, newline="", errors="surrogateescape") as handle:
        at = _position(handle, size)
        reader = csv.reader(handle)
        next(reader, None)
        row_no = 1
        rows: list[tuple[int, Cells]] = []
        broken: list[tuple[int, str]] = []
        try:
            for cells in reader:
                row_no += 1
                if row_no - 1 <= skip:
                    continue
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != width:
                    broken.append((row_no, f"has {len(cells)} cells, the header has {width}"))
                else:
                    rows.append((row_no, dict(zip(table.columns, cells, strict=True))))
                if len(rows) + len(broken) >= chunk_size:
                    yield Chunk(rows, row_no, broken, at())
                    rows, broken = [], []
        except csv.Error as exc:
            raise UnusableInputError(f"{table.path.name}: row {row_no + 1}: {exc}") from None
        if rows or broken:
            yield Chunk(rows, row_no, broken, 1.0)


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _key(name: object) -> str:
    """A JSON key as a column name: a key no one could type (a lone surrogate, a control
    character) is spelled with escapes, so it is reported as an unknown column."""
    return printable(str(name))


class _BadLineError(ValueError):
    """A JSON line that cannot be a row; the message is the reason in the report."""


def _json_line(line: str) -> Any:
    """One JSON Lines value. Besides malformed JSON, ``json`` raises RecursionError for
    nesting deeper than the interpreter's stack and ValueError for an integer over 4,300
    digits; each makes the line a broken row, never an error out of the reader."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise _BadLineError(f"is not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise _BadLineError("is not valid JSON (nested too deeply)") from None
    except ValueError:
        raise _BadLineError("is not valid JSON (a number too long)") from None


def _jsonl_columns(path: Path, encoding: str) -> list[str]:
    """The union of keys over the first lines: JSON Lines has no header row."""
    keys: dict[str, None] = {}
    with path.open(encoding=encoding, errors="surrogateescape") as handle:
        for _, line in zip(range(200), handle, strict=False):
            try:
                obj = _json_line(line)
            except _BadLineError:
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(_key(k) for k in obj))
    if not keys:
        raise UnusableInputError(f"{path.name} has no JSON objects in its first lines")
    return list(keys)


def _jsonl_chunks(table: TableFile, skip: int, size: int) -> Iterator[Chunk]:
    assert table.encoding is not None
    rows: list[tuple[int, Cells]] = []
    broken: list[tuple[int, str]] = []
    row_no = skip + 1
    total_bytes = table.path.stat().st_size
    # Line n of the file is reported as row n + 1, matching the CSV numbering.
    with table.path.open(encoding=table.encoding, errors="surrogateescape") as handle:
        at = _position(handle, total_bytes)
        for line_no, line in enumerate(handle, start=1):
            row_no = line_no + 1
            if line_no <= skip or not line.strip():
                continue
            try:
                obj = _json_line(line)
            except _BadLineError as exc:
                broken.append((row_no, str(exc)))
            else:
                if isinstance(obj, dict):
                    rows.append((row_no, {_key(k): _cell(v) for k, v in obj.items()}))
                else:
                    broken.append((row_no, "is not a JSON object"))
            if len(rows) + len(broken) >= size:
                yield Chunk(rows, row_no, broken, at())
                rows, broken = [], []
    if rows or broken:
        yield Chunk(rows, row_no, broken, 1.0)


def _xlsx_header(path: Path) -> list[str]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnusableInputError(f"{path.name} is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        return [_cell(c) or "" for c in header]
    finally:
        workbook.close()


def _xlsx_chunks(table: TableFile, skip: int, size: int) -> Iterator[Chunk]:
    from openpyxl import load_workbook

    workbook = load_workbook(table.path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        # The sheet's declared dimension; a workbook without one gives no fraction.
        last = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None
        rows: list[tuple[int, Cells]] = []
        width = len(table.columns)
        row_no = skip + 1
        for row_no, cells in enumerate(
            sheet.iter_rows(min_row=skip + 2, values_only=True), start=skip + 2
        ):
            values = [_cell(c) for c in cells][:width]
            if not any(v not in (None, "") for v in values):
                continue
            values += [None] * (width - len(values))
            rows.append((row_no, dict(zip(table.columns, values, strict=True))))
            if len(rows) >= size:
                yield Chunk(rows, row_no, fraction=_share(row_no - 1, last and last - 1))
                rows = []
        if rows:
            yield Chunk(rows, row_no, fraction=1.0)
    finally:
        workbook.close()


def _parquet_header(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as exc:
        raise UnusableInputError(f"{path.name} is not a readable Parquet file ({exc})") from None


def _parquet_chunks(table: TableFile, skip: int, size: int) -> Iterator[Chunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(table.path)
    seen = 0
    batches = parquet.iter_batches(batch_size=size)
    while True:
        try:
            batch = next(batches, None)
        except (OSError, pa.ArrowException) as exc:
            # The footer read (open_table) but a page does not: damaged past the header.
            raise UnusableInputError(
                f"{table.path.name}: damaged after row {seen + 1}: {exc}".splitlines()[0]
            ) from None
        if batch is None:
            break
        if seen + batch.num_rows <= skip:
            seen += batch.num_rows
            continue
        offset = max(0, skip - seen)
        try:
            records = batch.slice(offset).to_pylist()
        except UnicodeDecodeError:
            # Parquet strings are UTF-8 by definition; these bytes are damage, not text.
            raise UnusableInputError(
                f"{table.path.name}: rows {seen + 2} to {seen + batch.num_rows + 1} hold "
                "strings that are not UTF-8 (a damaged file?)"
            ) from None
        first = seen + offset + 2
        seen += batch.num_rows
        rows = [
            (first + i, {str(k): _cell(v) for k, v in r.items()}) for i, r in enumerate(records)
        ]
        yield Chunk(rows, seen + 1, fraction=_share(seen, parquet.metadata.num_rows))


def _share(done: int, total: int | None) -> float | None:
    return None if not total else min(1.0, done / total)
