"""SQLite's write-ahead log is checkpointed by a background thread, not inside a commit."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, text

from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer
from bonafides.store.db import checkpointer_for, make_engine


def test_only_sqlite_files_get_a_checkpointer(db_url: str) -> None:
    ctx = Context(Settings(db=db_url, secret_key="checkpoint-test-secret-0123456789", demo=True))
    try:
        assert (ctx.checkpointer is not None) == db_url.startswith("sqlite")
    finally:
        ctx.close()
    assert ctx.checkpointer is None or not ctx.checkpointer.alive
    assert checkpointer_for(make_engine("sqlite://")) is None


def test_connections_keep_only_a_backstop_threshold(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == BACKSTOP_PAGES
    engine.dispose()


def _commits(engine: Engine, count: int) -> None:
    for i in range(count):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": f"{i:08d}" * 1000})


def _wal_after_rounds(path: Path, checkpointer: WalCheckpointer | None) -> int:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    for _ in range(4):
        _commits(engine, 100)
        deadline = time.monotonic() + 30
        while checkpointer and not checkpointer.caught_up() and time.monotonic() < deadline:
            time.sleep(0.01)
    size = path.with_name(path.name + "-wal").stat().st_size
    engine.dispose()
    return size


def test_the_thread_keeps_the_log_short(tmp_path: Path) -> None:
    alone = _wal_after_rounds(tmp_path / "alone.db", None)
    path = tmp_path / "helped.db"
    checkpointer = WalCheckpointer(path, interval=0.01).start()
    try:
        helped = _wal_after_rounds(path, checkpointer)
    finally:
        checkpointer.stop()
    # 400 commits of two pages each: the log holds them all unless something checkpoints;
    # with the thread it is reset after each round and holds about one round.
    assert alone > 400 * 2 * 4096
    assert helped < alone / 2
