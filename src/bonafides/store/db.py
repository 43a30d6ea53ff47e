"""Engines, sessions and migrations for both stores."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bonafides.security.identifiers import IdentifierVault
from bonafides.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer

if TYPE_CHECKING:
    from bonafides.security.anchor import Anchor


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the single writer; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """``pool_size`` connections kept open on PostgreSQL, as many again for bursts.

    A connection opened for a burst is closed when it comes back to a full pool, and
    opening one starts a PostgreSQL backend: a pool smaller than a worker's usual
    concurrency opens and closes one per request (a third of name search's throughput
    at 16 connections on 2 workers with 5).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=10)


def checkpointer_for(engine: Engine) -> WalCheckpointer | None:
    """A background checkpointer for a SQLite database file; none for other stores."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return WalCheckpointer(Path(url.database)).start()


def alembic_config(
    engine: Engine,
    vault: IdentifierVault | None = None,
    anchor: Anchor | None = None,
    partitions: int = 0,
) -> Config:
    """``vault`` and ``anchor`` reach data migrations: the identifier key for those that
    read persons' ID numbers (``cfg.attributes["vault"]``), the audit key for those that
    append to the chain (``cfg.attributes["audit_anchor"]``). ``partitions`` is
    ``BONAFIDES_PG_PARTITIONS``, which 0031 reads when it partitions PostgreSQL's tables."""
    cfg = Config()
    cfg.set_main_option("script_location", "bonafides.store:migrations")
    cfg.attributes["engine"] = engine
    cfg.attributes["vault"] = vault
    cfg.attributes["audit_anchor"] = anchor
    cfg.attributes["pg_partitions"] = partitions
    return cfg


def migrate(
    engine: Engine,
    revision: str = "heads",
    *,
    vault: IdentifierVault | None = None,
    anchor: Anchor | None = None,
    partitions: int = 0,
) -> None:
    """Upgrade to every head: areas of the platform may add migrations on their own branch.

    ``bonafides init`` passes both keys: ``vault`` for data migrations that must read
    persons' ID numbers (0015 re-digests records), ``anchor`` for one that appends to the
    audit chain (its session gets ``anchor.info()``).
    """
    command.upgrade(alembic_config(engine, vault, anchor, partitions), revision)


def session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """``info`` goes to every session: the audit anchor travels that way (``Context``)."""
    return sessionmaker(engine, expire_on_commit=False, info=info)
