"""Public reads on the event loop: one statement, one round trip, no ORM.

A public profile is a few small indexed lookups. Run through an ORM session in the
thread pool, each cost more in Python (session, entities, three thread hops per
request, threads queueing for the GIL) than in the database, and the web tier served
a fraction of what a single query allows. Here the same SQLAlchemy Core statements,
compiled once for the store's dialect, run:

- on PostgreSQL, on an async psycopg pool, so the event loop never waits on a thread;
- on SQLite (the embedded store, in the same process), in one trip to a worker thread.

A fetch is one statement: each costs psycopg 100-150 us of CPU, and two pipelined
cost a profile more than one statement that joins what it needs.

Only reads that write nothing and need no single snapshot belong here (statements
run in autocommit); audited reads and anything that writes use sessions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from anyio import to_thread
from psycopg import AsyncConnection
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from pydantic_core import from_json
from sqlalchemy import Engine, Executable, text
from sqlalchemy.sql.compiler import Compiled

#: A row as a tuple, in the statement's column order: psycopg builds tuples at about
#: two thirds of the cost of dicts, and a profile decodes a dozen rows.
Row = Sequence[Any]
PING = text("SELECT 1")


@dataclass(frozen=True)
class Read:
    """A statement and its parameters, as ``Reader.fetch`` takes them."""

    statement: Executable
    params: Mapping[str, Any]


class Reader(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def fetch(self, read: Read) -> list[Row]:
        """Every row the statement returns, in order."""


class ThreadReader:
    """For SQLite: the statement on an engine connection, in one worker-thread trip."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _run(self, read: Read) -> list[Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(read.statement, dict(read.params)))

    async def fetch(self, read: Read) -> list[Row]:
        return await to_thread.run_sync(self._run, read)


async def _configure(conn: AsyncConnection[Any]) -> None:
    """Timestamps in UTC, as the ORM's ``UTCDateTime`` hands them out; JSON parsed by
    pydantic-core, five times faster than ``json.loads`` on a record's content."""
    await conn.execute("SET TIME ZONE 'UTC'")
    set_json_loads(from_json, conn)


class PostgresReader:
    """For PostgreSQL: an async psycopg pool; a fetch is one round trip.

    Statements repeat, so psycopg prepares them on each connection after a few runs
    and the server skips parsing and planning from then on.
    """

    def __init__(self, engine: Engine, *, size: int) -> None:
        self.dialect = engine.dialect
        url = engine.url.set(drivername="postgresql")
        self.pool = AsyncConnectionPool(
            url.render_as_string(hide_password=False),
            min_size=size,
            max_size=size,
            kwargs={"autocommit": True},
            configure=_configure,
            open=False,
        )
        self._compiled: dict[Executable, Compiled] = {}

    async def open(self) -> None:
        await self.pool.open(wait=True)

    async def close(self) -> None:
        await self.pool.close()

    def _compile(self, statement: Executable) -> Compiled:
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = statement.compile(dialect=self.dialect)  # type: ignore[attr-defined]
            self._compiled[statement] = compiled
        return compiled

    async def fetch(self, read: Read) -> list[Row]:
        compiled = self._compile(read.statement)
        async with self.pool.connection() as conn:
            cursor = await conn.execute(str(compiled), {**compiled.params, **read.params})
            return await cursor.fetchall()


def reader_for(engine: Engine, *, size: int = 4) -> Reader:
    """``size`` connections on PostgreSQL (``BONAFIDES_READ_POOL_SIZE``)."""
    if engine.dialect.name == "postgresql":
        return PostgresReader(engine, size=size)
    return ThreadReader(engine)
