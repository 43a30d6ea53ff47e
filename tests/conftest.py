"""Fixtures shared by the whole suite.

Every test that touches storage takes ``db_url`` (or something built on it) and so runs
twice: on SQLite and on PostgreSQL. Each test gets an empty, migrated store: SQLite
copies a migrated template file, PostgreSQL empties its per-run database afterwards.
Under CI a PostgreSQL that cannot be reached fails the run instead of skipping.

A test module marked ``pytest.mark.partitioned`` runs a third time, on a PostgreSQL
database whose records, versions, list entries and check lines are hash-partitioned by
subject (``BONAFIDES_PG_PARTITIONS``, migration 0031).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from bonafides.store.db import make_engine, migrate

PG_ADMIN_URL = os.environ.get("BONAFIDES_TEST_PG", "postgresql+psycopg:///postgres")
IN_CI = os.environ.get("CI") == "true"
#: Partitions of the partitioned test database: few, so each holds rows of several subjects.
TEST_PARTITIONS = 4
STORES = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "partitioned: also run on PostgreSQL hash-partitioned by subject (migration 0031)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that takes ``db_url`` runs on each store, unless it names its own."""
    if "db_url" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "db_url" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    stores = list(STORES)
    if metafunc.definition.get_closest_marker("partitioned"):
        stores.append("partitioned")
    metafunc.parametrize("db_url", stores, indirect=True)


class SqlOnTheEventLoopError(AssertionError):
    """A blocking database call made by code running on an event loop."""


def _off_the_loop(*_: Any) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise SqlOnTheEventLoopError(
        "SQL through a blocking engine on the event loop: it stalls every request of the "
        "worker (run it in the thread pool, or read the form in a dependency, web/forms.py)"
    )


@pytest.fixture(scope="session", autouse=True)
def no_sql_on_the_event_loop() -> Iterator[None]:
    """Every test: a statement run through a (sync) SQLAlchemy engine from a thread whose
    event loop is running fails, whichever handler, service or fixture ran it."""
    event.listen(Engine, "before_cursor_execute", _off_the_loop)
    yield
    event.remove(Engine, "before_cursor_execute", _off_the_loop)


@pytest.fixture(scope="session")
def pg_admin_url() -> str | None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {exc}")
        return None
    finally:
        engine.dispose()
    return PG_ADMIN_URL


def _database(pg_admin_url: str | None, prefix: str, partitions: int) -> Iterator[str | None]:
    """One database per test run (and per xdist worker), dropped at the end."""
    if pg_admin_url is None:
        yield None
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit need not wait for its WAL to reach the disk: no test survives the
        # server's crash, and a suite of thousands of commits should not queue for fsync.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine, partitions=partitions)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_database(pg_admin_url: str | None, worker_id: str) -> Iterator[str | None]:
    yield from _database(pg_admin_url, f"bonafides_test_{worker_id}", 0)


@pytest.fixture(scope="session")
def pg_partitioned_database(pg_admin_url: str | None, worker_id: str) -> Iterator[str | None]:
    """Made only when a ``partitioned`` test first asks for it."""
    yield from _database(pg_admin_url, f"bonafides_parts_{worker_id}", TEST_PARTITIONS)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


#: Every ordinary (not partition) table of the store but Alembic's own, metadata or not
#: (the partitioned store keeps its record keys in a table the ORM does not map).
_STORE_TABLES = text(
    "SELECT c.relname FROM pg_class AS c "
    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
    "AND NOT c.relispartition AND c.relname <> 'alembic_version'"
)
#: What TRUNCATE ... RESTART IDENTITY resets: the sequences owned by a table's column.
_RESTART_OWNED_SEQUENCES = text(
    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence AS s "
    "JOIN pg_depend AS d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid "
    "AND d.deptype IN ('a', 'i')"
)


def partitions_of(engine: Engine) -> int:
    """How many partitions hold the store's records: 0 when they are not partitioned
    (SQLite, or a plain PostgreSQL store). A test that takes the shared store below
    migration 0031 migrates it back with this many, or every later test on the
    partitioned store runs on a plain one."""
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_inherits AS i JOIN pg_class AS p "
                    "ON p.oid = i.inhparent WHERE p.relname = 'records'"
                )
            ).scalar_one()
        )


def _truncate_all(url: str) -> None:
    """Empty the store for the next test, as TRUNCATE ... RESTART IDENTITY would.

    DELETE, not TRUNCATE: a TRUNCATE gives every table, index and sequence a new file
    that its commit must sync to disk, about a second per test on this suite's machines
    (most tests take less); deleting a test's few rows takes milliseconds. Triggers and
    foreign keys are off for the transaction (a superuser's replica role), so the order
    does not matter and the record keys' trigger is not needed: their table is emptied too.
    """
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in conn.execute(_STORE_TABLES).scalars():
            conn.execute(text(f'DELETE FROM "{name}"'))
        conn.execute(_RESTART_OWNED_SEQUENCES)
    engine.dispose()


@pytest.fixture
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_database: str | None,
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "bonafides.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = (
        request.getfixturevalue("pg_partitioned_database")
        if request.param == "partitioned"
        else pg_database
    )
    if url is None:
        pytest.skip("PostgreSQL is not running here (scripts/postgres.sh starts it)")
    try:
        yield url
    finally:
        _truncate_all(url)
    if request.param == "partitioned":
        engine = make_engine(url)
        left = partitions_of(engine)
        engine.dispose()
        assert left == TEST_PARTITIONS, (
            f"this test left the shared partitioned store with {left} partitions: "
            "migrate it back with partitions=partitions_of(engine)"
        )
