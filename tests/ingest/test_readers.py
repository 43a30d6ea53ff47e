"""Readers: every format and encoding departments send, in chunks, with row numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from bonafides.ingest.readers import Chunk, UnusableInputError, open_table

HEADER = ["行政相对人名称", "统一社会信用代码", "处罚决定日期"]
ROWS = [
    ["甲公司", "91110000600037341L", "2021/5/6"],
    ["乙公司", "", "2021年5月6日"],
    ["丙公司, 分公司", "91110000600037341L", "2021-05-06"],
]


def _csv(path: Path, encoding: str, rows: list[list[str]] = ROWS) -> Path:
    import csv

    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _all(chunks: list[Chunk]) -> list[tuple[int, dict[str, str | None]]]:
    return [row for chunk in chunks for row in chunk.rows]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    table = open_table(_csv(tmp_path / "p.csv", encoding))
    assert table.columns == HEADER
    rows = _all(list(table.chunks()))
    assert [n for n, _ in rows] == [2, 3, 4]
    assert rows[2][1]["行政相对人名称"] == "丙公司, 分公司"


def test_gbk_file_read_with_explicit_encoding(tmp_path: Path) -> None:
    table = open_table(_csv(tmp_path / "p.csv", "gbk"), encoding="gbk")
    assert _all(list(table.chunks()))[0][1]["行政相对人名称"] == "甲公司"


def test_chunks_and_resume_position(tmp_path: Path) -> None:
    rows = [[f"公司{i}", "", "2021-01-01"] for i in range(25)]
    table = open_table(_csv(tmp_path / "p.csv", "utf-8", rows))
    chunks = list(table.chunks(size=10))
    assert [c.size for c in chunks] == [10, 10, 5]
    assert [c.consumed for c in chunks] == [10, 20, 25]
    resumed = list(table.chunks(skip=chunks[0].consumed, size=10))
    assert _all(resumed) == _all(chunks[1:])


def test_row_with_wrong_cell_count_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(",".join(HEADER) + "\n甲,1,2021-01-01\n乙,1\n丙,1,2021-01-01\n", "utf-8")
    chunk = next(open_table(path).chunks())
    assert [n for n, _ in chunk.rows] == [2, 4]
    assert chunk.broken == [(3, "has 2 cells, the header has 3")]


def test_binary_and_empty_files_are_unusable(tmp_path: Path) -> None:
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(UnusableInputError, match="binary"):
        open_table(binary)
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnusableInputError, match="empty"):
        open_table(empty)
    with pytest.raises(UnusableInputError, match="no such file"):
        open_table(tmp_path / "missing.csv")
    doc = tmp_path / "x.doc"
    doc.write_bytes(b"text")
    with pytest.raises(UnusableInputError, match="cannot tell the format"):
        open_table(doc)


def test_duplicate_columns_are_unusable(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,a\n1,2,3\n", "utf-8")
    with pytest.raises(UnusableInputError, match="repeats columns: a"):
        open_table(path)


def test_jsonl_with_a_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    lines = [json.dumps(dict(zip(HEADER, r, strict=True)), ensure_ascii=False) for r in ROWS]
    lines.insert(1, "{not json")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    table = open_table(path)
    assert table.columns == HEADER
    chunk = next(table.chunks())
    assert [n for n, _ in chunk.rows] == [2, 4, 5]
    assert chunk.broken[0][0] == 3
    assert "not valid JSON" in chunk.broken[0][1]


def test_xlsx_cells_become_strings(tmp_path: Path) -> None:
    import datetime as dt

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["行政相对人名称", "罚款金额（万元）", "处罚决定日期"])
    sheet.append(["甲公司", 1.5, dt.datetime(2021, 5, 6)])
    sheet.append(["乙公司", 2, None])
    path = tmp_path / "p.xlsx"
    book.save(path)
    rows = _all(list(open_table(path).chunks()))
    assert rows[0] == (
        2,
        {"行政相对人名称": "甲公司", "罚款金额（万元）": "1.5", "处罚决定日期": "2021-05-06"},
    )
    assert rows[1][1]["罚款金额（万元）"] == "2"
    assert rows[1][1]["处罚决定日期"] is None


def test_parquet_batches_and_skip(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    names = [f"公司{i}" for i in range(30)]
    pq.write_table(
        pa.table({"行政相对人名称": names, "n": list(range(30))}), path, row_group_size=7
    )
    table = open_table(path)
    rows = _all(list(table.chunks(skip=12, size=8)))
    assert rows[0] == (14, {"行政相对人名称": "公司12", "n": "12"})
    assert len(rows) == 18


def test_wrong_magic_for_declared_format(tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.parquet", "utf-8")
    with pytest.raises(UnusableInputError, match="not a Parquet file"):
        open_table(path)


def test_jsonl_lines_nested_too_deep_or_with_too_long_numbers_are_broken_rows(
    tmp_path: Path,
) -> None:
    """Found by the fuzzer: json raised RecursionError and ValueError, not JSONDecodeError,
    and they escaped the reader (a 500 from the API)."""
    path = tmp_path / "deep.jsonl"
    lines = ['{"a": "ok"}', "[" * 50_000, '{"a": ' + "9" * 5000 + "}", '{"a": "fine"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = open_table(path)
    assert table.columns == ["a"]
    chunks = list(table.chunks())
    assert [r for r, _ in _all(chunks)] == [2, 5]
    broken = dict(b for chunk in chunks for b in chunk.broken)
    assert sorted(broken) == [3, 4]
    assert all("JSON" in reason for reason in broken.values())
    first = tmp_path / "first.jsonl"
    first.write_text("[" * 50_000 + "\n" + '{"b": ' + "1" * 5000 + "}\n", encoding="utf-8")
    with pytest.raises(UnusableInputError, match="no JSON objects"):
        open_table(first)


def test_a_parquet_file_with_a_damaged_page_is_unusable(tmp_path: Path) -> None:
    """Found by the fuzzer: the header reads, then pyarrow's OSError escaped the chunks."""
    path = tmp_path / "damaged.parquet"
    pq.write_table(pa.table({"a": ["x", "y", "z"]}), path)
    data = bytearray(path.read_bytes())
    data[4:20] = b"\xff" * 16
    path.write_bytes(bytes(data))
    table = open_table(path)
    with pytest.raises(UnusableInputError, match=r"damaged\.parquet"):
        list(table.chunks())


def test_a_parquet_string_that_is_not_utf8_is_unusable(tmp_path: Path) -> None:
    """Found by the fuzzer: pyarrow's UnicodeDecodeError escaped the chunks."""
    path = tmp_path / "latin.parquet"
    pq.write_table(pa.table({"a": ["café-ok", "plain"]}), path, compression="none")
    data = path.read_bytes()
    # The first copy is the data page's (statistics come after it).
    path.write_bytes(data.replace("é".encode(), b"\x80\x80", 1))
    table = open_table(path)
    with pytest.raises(UnusableInputError, match=r"latin\.parquet"):
        list(table.chunks())
