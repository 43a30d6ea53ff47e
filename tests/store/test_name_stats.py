"""Window counts come from PostgreSQL's own statistics and agree with search's windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from bonafides.rules.records import write_records
from bonafides.security.identifiers import IdentifierVault
from bonafides.store import name_stats
from bonafides.store.db import make_engine, session_factory
from bonafides.store.name_stats import UNKNOWN, read_window_counts, window_counts
from bonafides.store.search import query_windows
from bonafides.store.subjects import SubjectKeys
from tests import factories
from tests.store.seed import seed_reference_data

KEYS = SubjectKeys(IdentifierVault("test-secret"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with session_factory(engine, factories.audit_anchor().info()).begin() as session:
        seed_reference_data(session)
    name_stats.forget_window_counts()
    yield engine
    engine.dispose()


def _store_names(engine: Engine, names: list[str]) -> None:
    items = [
        factories.penalty(factories.org(name=name), decision_date=dt.date(2025, 6, 1))
        for name in names
    ]
    with session_factory(engine, factories.audit_anchor().info()).begin() as session:
        write_records(session, KEYS, items, actor="test")


def _analyse(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE subject_names"))


def test_common_windows_are_counted_after_analyse(engine: Engine) -> None:
    _store_names(engine, [f"填充{n:03d}号贸易有限公司" for n in range(300)] + ["星辰航天科技"])
    _analyse(engine)
    with session_factory(engine, factories.audit_anchor().info())() as session:
        counts = read_window_counts(session)
    if engine.dialect.name == "sqlite":
        # SQLite counts its trigrams exactly in fts5vocab; nothing to estimate.
        assert counts is UNKNOWN
        return
    assert counts.estimate("有限公") == pytest.approx(300, rel=0.05)
    assert counts.estimate("贸易有") == pytest.approx(300, rel=0.05)
    assert counts.estimate("星辰航") == pytest.approx(1, abs=0.5)
    # Not in any name: rarer than the least common window listed.
    assert counts.estimate("无此名") <= min(counts.listed.values())


def test_counts_are_read_again_only_after_refresh(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_names(engine, [f"填充{n:03d}号贸易有限公司" for n in range(50)])
    with session_factory(engine, factories.audit_anchor().info())() as session:
        first = window_counts(session)
        _analyse(engine)
        assert window_counts(session) is first
        monkeypatch.setattr(name_stats, "REFRESH", 0.0)
        again = window_counts(session)
    if engine.dialect.name == "postgresql":
        assert again is not first
        assert again.estimate("有限公") == pytest.approx(50, rel=0.05)


@pytest.mark.parametrize(
    "name", ["北京蓝海电子科技有限公司", "Shenzhen Blue-Ocean Co., Ltd.", "ÄÖÜ Straße 3", "ab"]
)
def test_the_database_cuts_windows_as_search_does(engine: Engine, name: str) -> None:
    """Search asks for its windows by name; the statistics must hold the same strings."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the windows function exists on PostgreSQL only")
    with engine.connect() as conn:
        stored = set(conn.scalar(text("SELECT name_windows(:n)"), {"n": name}) or [])
    assert set(query_windows(name)) <= stored
    assert all(len(window) == 3 for window in stored)
