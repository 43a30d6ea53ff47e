"""Writing a synthetic data set as import files: one per record type, plus the subjects.

Rows are streamed: blocks of subjects are drawn (in worker processes when there are
cores to spare), settled in block order in this process (decision numbers, resident IDs
unique), and appended to one writer per file, which holds at most a chunk of rows. A
million subjects, about ten million records, therefore fit in a few hundred megabytes.
Every block draws from its own seeded stream, so the bytes written do not depend on the
number of workers.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import IO, Final, Protocol

from bonafides.catalogue import load_catalogue
from bonafides.progress import ProgressFn
from bonafides.security.clock import SystemClock, office_day
from bonafides.settings import get_settings
from bonafides.synth.blocks import BLOCK_SIZE, Shared, block_count, draw_block
from bonafides.synth.generator import Sequencer
from bonafides.synth.world import World

__all__ = ["FORMATS", "SUBJECT_COLUMNS", "write_dataset"]

FORMATS: Final = ("csv", "jsonl", "parquet")
SUBJECT_COLUMNS: Final = ("code", "kind", "name", "name_en", "region", "industry", "former_names")
#: Rows a Parquet writer buffers per file before writing a row group.
CHUNK_ROWS: Final = 50_000

#: One subject as a worker hands it over: its subjects-file line, its resident ID number
#: (persons only) and its records as (type index, decision number head, values).
CompactRecord = tuple[int, str, list[str]]
CompactSubject = tuple[list[str], str | None, list[CompactRecord]]


class _Writer(Protocol):
    rows: int

    def write(self, values: list[str]) -> None: ...

    def close(self) -> None: ...


class _CsvWriter:
    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(header)
        self.rows = 0

    def write(self, values: list[str]) -> None:
        self._csv.writerow(values)
        self.rows += 1

    def close(self) -> None:
        self._file.close()


class _JsonlWriter:
    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._header = header
        self.rows = 0

    def write(self, values: list[str]) -> None:
        self._file.write(
            json.dumps(dict(zip(self._header, values, strict=True)), ensure_ascii=False)
        )
        self._file.write("\n")
        self.rows += 1

    def close(self) -> None:
        self._file.close()


class _ParquetWriter:
    """All-string columns: the import format is text, and types are ingest's business."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self._schema = pa.schema([(name, pa.string()) for name in header])
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="zstd")
        self._columns: list[list[str]] = [[] for _ in header]
        self.rows = 0

    def write(self, values: list[str]) -> None:
        for column, value in zip(self._columns, values, strict=True):
            column.append(value)
        self.rows += 1
        if len(self._columns[0]) >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        arrays = [self._pa.array(column, type=self._pa.string()) for column in self._columns]
        self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self._schema))
        self._columns = [[] for _ in self._columns]

    def close(self) -> None:
        if self._columns[0] or self.rows == 0:
            self._flush()
        self._writer.close()


_WRITERS: Final[dict[str, Callable[[Path, tuple[str, ...]], _Writer]]] = {
    "csv": _CsvWriter,
    "jsonl": _JsonlWriter,
    "parquet": _ParquetWriter,
}


# ---------------------------------------------------------------------------- drawing

_STATE: dict[str, Shared] = {}


def _init_worker(seed: int, today: dt.date) -> None:
    """Build the world once per worker; objects that live for the whole run are moved out
    of the collector's way, so it does not rescan them with every block."""
    _STATE["shared"] = Shared.build(World(seed, load_catalogue(), today))
    gc.freeze()


def _draw_compact(index: int, count: int) -> list[CompactSubject]:
    shared = _STATE["shared"]
    positions = {info.rtype.code: i for i, info in enumerate(shared.world.types)}
    out: list[CompactSubject] = []
    for drawn in draw_block(shared, index, count):
        draft = drawn.draft
        ref = draft.ref
        line = [
            ref.code,
            ref.kind.value,
            ref.name,
            ref.name_en or "",
            ref.region or "",
            draft.industry or "",
            "|".join(name for name, _, _ in draft.former),
        ]
        records: list[CompactRecord] = [
            (
                positions[r.info.rtype.code],
                r.head,
                list(r.row.values()),
            )
            for r in drawn.records
        ]
        out.append((line, ref.code if draft.birth is not None else None, records))
    return out


def _blocks(subjects: int) -> list[tuple[int, int]]:
    return [
        (block, min(BLOCK_SIZE, subjects - block * BLOCK_SIZE))
        for block in range(block_count(subjects))
    ]


def _in_process(seed: int, today: dt.date, subjects: int) -> Iterator[list[CompactSubject]]:
    _init_worker(seed, today)
    try:
        for block, count in _blocks(subjects):
            yield _draw_compact(block, count)
    finally:
        _STATE.clear()
        gc.unfreeze()


def _pool(seed: int, today: dt.date, workers: int) -> ProcessPoolExecutor:
    context = get_context("fork") if "fork" in get_all_start_methods() else get_context()
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(seed, today)
    )


def _in_workers(
    pool: ProcessPoolExecutor, subjects: int, workers: int
) -> Iterator[list[CompactSubject]]:
    """Blocks drawn by the pool's workers, handed back in order; at most a few blocks wait
    in memory at any time. The first blocks are submitted here and now, so the workers
    are forked before any progress-bar thread runs."""
    todo = deque(_blocks(subjects))
    pending: deque[Future[list[CompactSubject]]] = deque()
    while todo and len(pending) <= 2 * workers:
        pending.append(pool.submit(_draw_compact, *todo.popleft()))
    return _drain(pool, todo, pending)


def _drain(
    pool: ProcessPoolExecutor,
    todo: deque[tuple[int, int]],
    pending: deque[Future[list[CompactSubject]]],
) -> Iterator[list[CompactSubject]]:
    while pending:
        result = pending.popleft().result()
        if todo:
            pending.append(pool.submit(_draw_compact, *todo.popleft()))
        yield result


def default_workers() -> int:
    """One worker per core the process may use; drawing dominates, writing is cheap."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------- writing


def write_dataset(
    out_dir: Path,
    *,
    subjects: int,
    seed: int,
    fmt: str,
    progress: ProgressFn | None = None,
    today: dt.date | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Write ``<type_code>.<fmt>`` per record type and ``subjects.<fmt>``; rows per file.

    Record files have the catalogue's English field names in schema order as columns and
    hold exactly the ``row`` values of :func:`bonafides.synth.generator.generate` for the
    same (subjects, seed, today). ``workers`` defaults to the usable cores; 1 draws in
    this process. The output is the same for any number of workers. ``progress`` hears
    the subjects written after each block, out of ``subjects``; its first call comes after
    the workers are forked, so a progress bar's thread never runs in them.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if subjects < 0:
        raise ValueError("subjects must not be negative")
    today = today or office_day(SystemClock(), get_settings().timezone)
    workers = default_workers() if workers is None else max(1, workers)
    catalogue = load_catalogue()
    out_dir.mkdir(parents=True, exist_ok=True)
    make = _WRITERS[fmt]
    subjects_name = f"subjects.{fmt}"
    subject_writer: _Writer = make(out_dir / subjects_name, SUBJECT_COLUMNS)
    type_writers: list[_Writer] = []
    names = [subjects_name]
    for rtype in catalogue.types:
        names.append(f"{rtype.code}.{fmt}")
        type_writers.append(make(out_dir / names[-1], rtype.field_names))
    number_column = [rtype.field_names.index("decision_no") for rtype in catalogue.types]
    sequencer = Sequencer(seed)
    report = progress or _silent
    stack = ExitStack()
    try:
        if workers > 1 and block_count(subjects) > 1:
            pool = stack.enter_context(_pool(seed, today, workers))
            blocks = _in_workers(pool, subjects, workers)
        else:
            blocks = _in_process(seed, today, subjects)
        done = 0
        report(done, subjects)
        for block in blocks:
            for line, person_code, records in block:
                _settle(sequencer, line, person_code, records)
                subject_writer.write(line)
                for type_index, head, values in records:
                    values[number_column[type_index]] = sequencer.number(head)
                    type_writers[type_index].write(values)
            done += len(block)
            report(done, subjects)
    finally:
        stack.close()
        for writer in (subject_writer, *type_writers):
            writer.close()
    return {
        name: writer.rows
        for name, writer in zip(names, (subject_writer, *type_writers), strict=True)
    }


def _silent(done: int, total: int | None) -> None:
    """No one watches."""


def _settle(
    sequencer: Sequencer, line: list[str], person_code: str | None, records: list[CompactRecord]
) -> None:
    """The file-side twin of ``Sequencer.settle``'s resident-ID step."""
    if person_code is None:
        return
    new = sequencer.person_code(person_code)
    if new == person_code:
        return
    swaps = sequencer.swaps(person_code, new)
    line[0] = new
    for *_, values in records:
        for i, value in enumerate(values):
            if value in swaps:
                values[i] = swaps[value]
