"""Files: exactly the generated rows, byte for byte reproducible, in every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from bonafides.catalogue import Catalogue
from bonafides.progress import watch
from bonafides.synth import files
from bonafides.synth.blocks import BLOCK_SIZE
from bonafides.synth.files import FORMATS, SUBJECT_COLUMNS, write_dataset
from bonafides.synth.generator import generate

from .conftest import TODAY

SUBJECTS = 1500  # two blocks, so worker processes have something to share


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("csv")
    summary = write_dataset(out, subjects=SUBJECTS, seed=3, fmt="csv", today=TODAY, workers=2)
    return out, summary


def test_one_file_per_type_and_one_for_subjects(
    written: tuple[Path, dict[str, int]], catalogue: Catalogue
) -> None:
    out, summary = written
    expected = ["subjects.csv", *(f"{code}.csv" for code in catalogue.type_codes)]
    assert list(summary) == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    assert summary["subjects.csv"] == SUBJECTS
    assert sum(summary.values()) > SUBJECTS * 6


def test_files_hold_exactly_the_generated_rows(
    written: tuple[Path, dict[str, int]], catalogue: Catalogue
) -> None:
    out, summary = written
    subjects = list(generate(SUBJECTS, 3, catalogue=catalogue, today=TODAY))
    for rtype in catalogue.types:
        rows = _read_csv(out / f"{rtype.code}.csv")
        assert len(rows) == summary[f"{rtype.code}.csv"]
        expected = [r.row for s in subjects for r in s.records if r.record.type_code == rtype.code]
        assert rows == expected, rtype.code
        with (out / f"{rtype.code}.csv").open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == list(rtype.field_names)
    lines = _read_csv(out / "subjects.csv")
    assert list(lines[0]) == list(SUBJECT_COLUMNS)
    assert [line["code"] for line in lines] == [s.ref.code for s in subjects]
    for line, subject in zip(lines, subjects, strict=True):
        assert line["kind"] == subject.ref.kind.value
        assert line["name"] == subject.ref.name
        assert line["former_names"] == "|".join(name for name, _ in subject.former_names)
        assert line["industry"] == (subject.industry or "")


def test_same_seed_same_bytes_whatever_the_workers(
    written: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    out, _ = written
    write_dataset(tmp_path / "one", subjects=SUBJECTS, seed=3, fmt="csv", today=TODAY, workers=1)
    assert _tree(tmp_path / "one") == _tree(out)


def test_another_seed_gives_other_files(
    written: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    out, _ = written
    write_dataset(tmp_path / "other", subjects=SUBJECTS, seed=4, fmt="csv", today=TODAY, workers=1)
    theirs, ours = _tree(tmp_path / "other"), _tree(out)
    assert theirs.keys() == ours.keys()
    assert all(theirs[name] != ours[name] for name in ours)


BIG = 3000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("big")
    return out, write_dataset(out, subjects=BIG, seed=8, fmt="csv", today=TODAY)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_jsonl_and_parquet_hold_the_same_rows_as_csv(
    fmt: str,
    tmp_path: Path,
    big_csv: tuple[Path, dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "CHUNK_ROWS", 1000)  # several row groups per Parquet file
    summary = write_dataset(tmp_path, subjects=BIG, seed=8, fmt=fmt, today=TODAY)
    reference, counts = big_csv
    assert list(summary.values()) == list(counts.values())
    assert [n.rsplit(".", 1)[0] for n in summary] == [n.rsplit(".", 1)[0] for n in counts]
    for name in ("subjects", "general.licence", "courts.defaulter"):
        expected = _read_csv(reference / f"{name}.csv")
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "jsonl":
            with path.open(encoding="utf-8") as handle:
                rows = [json.loads(line) for line in handle]
        else:
            rows = pq.read_table(path).to_pylist()
        assert rows == expected, name
    if fmt == "parquet":
        licences = pq.ParquetFile(tmp_path / "general.licence.parquet")
        assert licences.metadata.num_row_groups > 1
        assert all(str(field.type) == "string" for field in licences.schema_arrow)


def test_an_empty_data_set_still_writes_every_file_with_its_columns(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    for fmt in FORMATS:
        summary = write_dataset(tmp_path / fmt, subjects=0, seed=1, fmt=fmt, today=TODAY)
        assert set(summary.values()) == {0}
    assert pq.read_table(tmp_path / "parquet" / "tax.penalty.parquet").column_names == list(
        catalogue.type("tax.penalty").field_names
    )
    with (tmp_path / "csv" / "subjects.csv").open(encoding="utf-8") as handle:
        assert handle.read().strip() == ",".join(SUBJECT_COLUMNS)


def test_progress_hears_subjects_written_per_block_up_to_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    summary = write_dataset(
        tmp_path,
        subjects=SUBJECTS,
        seed=5,
        fmt="csv",
        progress=lambda done, total: calls.append((done, total)),
        today=TODAY,
        workers=2,
    )
    assert summary["subjects.csv"] == SUBJECTS
    assert calls == [(0, SUBJECTS), (BLOCK_SIZE, SUBJECTS), (SUBJECTS, SUBJECTS)]


def test_the_cli_bar_draws_on_a_terminal(tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with watch(console, "synthetic subjects", unit="subjects") as progress:
        write_dataset(
            tmp_path, subjects=SUBJECTS, seed=5, fmt="csv", progress=progress, today=TODAY
        )
    drawn = buffer.getvalue()
    assert "synthetic subjects" in drawn
    assert f"{SUBJECTS}/{SUBJECTS}" in drawn
    assert "subjects/s" in drawn


def test_the_cli_bar_draws_nothing_where_no_one_watches(tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=120)
    with watch(console, "synthetic subjects", unit="subjects") as progress:
        write_dataset(
            tmp_path, subjects=SUBJECTS, seed=5, fmt="csv", progress=progress, today=TODAY
        )
    assert buffer.getvalue() == ""


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        write_dataset(tmp_path, subjects=1, seed=1, fmt="xlsx", today=TODAY)
    assert not any(tmp_path.iterdir())
