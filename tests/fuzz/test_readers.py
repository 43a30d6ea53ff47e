"""Every file reader, fed arbitrary and damaged files: the only failure a department may
see is ``UnusableInputError`` (the whole file) or a row refused in a chunk's ``broken``;
nothing else escapes (issue 19, item 4)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook

from bonafides.ingest.readers import UnusableInputError, open_table
from tests.fuzz.budget import fuzz

#: Text as departments type it, and worse: any code point but lone surrogates (those
#: cannot be encoded to a file at all).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


def _read_all(name: str, content: bytes, **options: str) -> int:
    """Open and read every chunk; the number of rows and broken rows seen."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            table = open_table(path, **options)
            return sum(chunk.size for chunk in table.chunks(size=7))
        except UnusableInputError as exc:
            message = str(exc)
        assert message, "the one line the user sees is not empty"
        return -1


def _mutations() -> st.SearchStrategy[list[tuple[int, int]]]:
    return st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8)


def _damage(content: bytes, changes: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(content)
    for at, value in changes:
        if data:
            data[at % len(data)] = value
    return bytes(data[:cut] if cut is not None else data)


@fuzz
@given(st.binary(max_size=2048), st.sampled_from(["csv", "jsonl", "xlsx", "parquet"]))
@example(b"[" * 50_000, "jsonl")
@example(b'{"a": ' + b"1" * 5000 + b"}\n", "jsonl")
@example(b'{"a": 1}\n' + b"[" * 50_000 + b"\n", "jsonl")
@example(b'{"a": 1}\n{"a": ' + b"9" * 5000 + b"}\n", "jsonl")
@example(b"PK\x03\x04garbage", "xlsx")
@example(b"PAR1garbagePAR1", "parquet")
def test_any_bytes_are_read_or_refused_as_unusable(content: bytes, fmt: str) -> None:
    _read_all(f"input.{fmt}", content)


@fuzz
@given(
    st.lists(TEXT, min_size=1, max_size=5, unique=True),
    st.lists(st.lists(TEXT, max_size=6), max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_csv_of_any_text_in_any_supported_encoding(
    header: list[str], rows: list[list[str]], encoding: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    try:
        content = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # not representable in that encoding: no department can have written it
    _read_all("input.csv", content)
    _read_all("input.csv", content, encoding=encoding)


@fuzz
@given(
    st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
            max_leaves=10,
        ),
        max_size=6,
    )
)
def test_jsonl_of_any_json_values(values: list[object]) -> None:
    content = "\n".join(json.dumps(v, ensure_ascii=False) for v in values).encode("utf-8")
    _read_all("input.jsonl", content)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _parquet(columns: dict[str, list[str | None]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


CELL = (
    st.none()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=20)
)


@fuzz
@given(
    st.lists(st.lists(CELL, max_size=5), min_size=1, max_size=5),
    _mutations(),
    st.none() | st.integers(0, 4000),
)
def test_damaged_xlsx_workbooks(
    rows: list[list[object]], changes: list[tuple[int, int]], cut: int | None
) -> None:
    _read_all("input.xlsx", _damage(_xlsx(rows), changes, cut))


@fuzz
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.lists(st.none() | TEXT, min_size=3, max_size=3),
        min_size=1,
        max_size=4,
    ),
    _mutations(),
    st.none() | st.integers(0, 2000),
)
def test_damaged_parquet_files(
    columns: dict[str, list[str | None]], changes: list[tuple[int, int]], cut: int | None
) -> None:
    _read_all("input.parquet", _damage(_parquet(columns), changes, cut))
