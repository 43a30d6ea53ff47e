"""Verifying the audit chain tells its watcher how many events it has checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bonafides.context import Context
from bonafides.security import audit
from bonafides.settings import Settings

EVENTS = 23


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[Context]:
    context = Context(
        Settings(db=db_url, secret_key="test-secret-key-123", demo=True, data_dir=tmp_path)
    )
    yield context
    context.close()


def test_verify_reports_events_checked_per_batch_up_to_the_head(ctx: Context) -> None:
    with ctx.sessions.begin() as session:
        for n in range(EVENTS):
            audit.append(session, actor="test", tag="test:event:made", detail={"n": n})
    calls: list[tuple[int, int | None]] = []
    with ctx.sessions() as session:
        report = audit.verify(
            session, progress=lambda done, total: calls.append((done, total)), batch=10
        )
    assert report.ok
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert {total for _, total in calls} == {report.checked}
    assert calls[:4] == [
        (0, report.checked),
        (10, report.checked),
        (20, report.checked),
        (report.checked, report.checked),
    ]
    assert calls[-1] == (report.checked, report.checked)
