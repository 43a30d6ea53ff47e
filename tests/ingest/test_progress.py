"""Ingest tells its watcher how far it is, with the file's rows estimated from its size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bonafides.app.ingest import ingest_file
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.context import Context
from bonafides.ingest.readers import open_table
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue
from tests import factories
from tests.ingest.test_service import write_csv

TODAY = dt.date(2026, 11, 27)
PENALTY = "market.penalty"
ROWS = 300


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


@pytest.fixture
def penalty() -> RecordType:
    return load_catalogue().type(PENALTY)


def heard(ctx: Context, path: Path, chunk_rows: int) -> list[tuple[int, int | None]]:
    calls: list[tuple[int, int | None]] = []
    ingest_file(
        ctx,
        path,
        type_code=PENALTY,
        source="samr",
        actor="test",
        today=TODAY,
        chunk_rows=chunk_rows,
        progress=lambda done, total: calls.append((done, total)),
    )
    return calls


def test_ingest_reports_rows_read_and_estimates_the_total_from_the_file_size(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    rows = [factories.content_row(penalty, factories.org()) for _ in range(ROWS)]
    path = write_csv(tmp_path / "penalties.csv", rows)
    assert path.stat().st_size > 4 * 8192, "the file must outgrow the reader's read-ahead"
    calls = heard(ctx, path, chunk_rows=50)
    assert calls[0] == (0, None)  # before the first chunk, to start the clock
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[1] == 50
    assert calls[-1] == (ROWS, ROWS)
    # Per chunk, not per row; the first estimate, from bytes read, is already near.
    assert len(calls) <= ROWS // 50 + 2
    first_total = calls[1][1]
    assert first_total is not None
    assert abs(first_total - ROWS) <= ROWS * 0.25


def test_parquet_totals_are_exact_from_its_metadata(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    rows = [factories.content_row(penalty, factories.org()) for _ in range(40)]
    path = tmp_path / "penalties.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    calls = heard(ctx, path, chunk_rows=15)
    assert calls == [(0, None), (15, 40), (30, 40), (40, 40), (40, 40)]


def test_readers_end_their_last_chunk_at_the_whole_file(
    penalty: RecordType, tmp_path: Path
) -> None:
    rows = [factories.content_row(penalty, factories.org()) for _ in range(ROWS)]
    path = write_csv(tmp_path / "penalties.csv", rows)
    fractions = [c.fraction for c in open_table(path).chunks(size=60)]
    known = [f for f in fractions if f is not None]
    assert known == fractions
    assert known == sorted(known)
    assert known[0] < 0.5
    assert known[-1] == 1.0
