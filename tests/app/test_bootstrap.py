"""Demo data tells its watcher how many subjects are stored, chunk by chunk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bonafides.app import bootstrap
from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue

SUBJECTS = 25


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[Context]:
    context = Context(
        Settings(db=db_url, secret_key="test-secret-key-123", demo=True, data_dir=tmp_path)
    )
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def test_demo_data_reports_subjects_stored_per_chunk(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "DEMO_CHUNK", 10)
    calls: list[tuple[int, int | None]] = []
    records = bootstrap.load_demo(
        ctx,
        subjects=SUBJECTS,
        seed=2,
        progress=lambda done, total: calls.append((done, total)),
        today=dt.date(2026, 11, 27),
    )
    assert records > 0
    assert calls == [(0, SUBJECTS), (10, SUBJECTS), (20, SUBJECTS), (SUBJECTS, SUBJECTS)]
