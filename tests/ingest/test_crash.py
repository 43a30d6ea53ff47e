"""Crash safety: a real ingest process killed with SIGKILL mid-file, then rerun.

The store must hold whole chunks and a position; the rerun must finish the file with
no duplicate and nothing missing, and still report the rows rejected before the kill.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bonafides.catalogue import load_catalogue
from bonafides.store.db import make_engine, session_factory
from bonafides.store.tables import IngestBatch, IngestRejection, Record, RecordVersion
from tests import factories

ROWS = 6_000
CHUNK = 200
pytestmark = pytest.mark.slow


def _file(path: Path) -> Path:
    rtype = load_catalogue().type("market.penalty")
    rows = [factories.content_row(rtype, factories.org()) for _ in range(ROWS)]
    bad = rows[10]
    bad[rtype.content_field("decision_date").column_zh] = "2021-02-30"
    header = list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _ingest(db_url: str, path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BONAFIDES_DB": db_url,
        "BONAFIDES_SECRET_KEY": "crash-test-secret",
    }
    command = [sys.executable, "-m", "bonafides", "ingest", str(path), "--type", "market.penalty"]
    command += ["--source", "samr", "--chunk-rows", str(CHUNK)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_file_then_rerun_completes_exactly(db_url: str, tmp_path: Path) -> None:
    from bonafides.app.bootstrap import initialise
    from bonafides.settings import Settings

    initialise(
        Settings(db=db_url, secret_key="crash-test-secret", demo=True, data_dir=tmp_path / "var")
    )
    path = _file(tmp_path / "penalties.csv")
    sessions = session_factory(make_engine(db_url), factories.audit_anchor().info())

    def position() -> int:
        with sessions() as s:
            return s.scalar(select(func.max(IngestBatch.next_row))) or 0

    process = _ingest(db_url, path)
    deadline = time.monotonic() + 120
    while position() < CHUNK * 3:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL

    with sessions() as s:
        killed_at = s.scalar(select(IngestBatch.next_row))
        stored = s.scalar(select(func.count()).select_from(Record))
        assert killed_at is not None
        assert 0 < killed_at < ROWS, "the kill came too late to test anything"
        # Whole chunks only: what is stored is exactly the rows before the position.
        assert stored == killed_at - 1  # one rejected row among them

    rerun = _ingest(db_url, path)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 1, err.decode()
    assert b"resumed an interrupted run" in out

    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == ROWS - 1
        assert s.scalar(select(func.count()).select_from(RecordVersion)) == ROWS - 1
        dupes = s.execute(
            select(Record.decision_no)
            .group_by(Record.source, Record.decision_no)
            .having(func.count() > 1)
        ).all()
        assert dupes == []
        batch = s.scalars(select(IngestBatch)).one()
        assert batch.status == "done"
        assert batch.counts["accepted"] == ROWS - 1
        assert batch.counts["rejected"] == 1
        assert [r.row for r in s.scalars(select(IngestRejection))] == [12]
    sessions.kw["bind"].dispose()
