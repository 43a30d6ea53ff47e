"""CPU seconds of processes on this machine, read from Linux ``/proc``, for the benchmarks.

On a shared two-core machine wall time measures the queue for the cores as much as the
work; the CPU seconds of the processes doing the work (this one, its children such as the
Spark JVM, the PostgreSQL backends serving a database) move by a few percent. The server
runs on the same machine in every benchmark here, so its backends' ``/proc`` entries are
readable.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import psycopg

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds of a process so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children_cpu(pid: int) -> float:
    """CPU seconds of a process's running descendants (the Spark JVM of a PySpark driver)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return sum(process_cpu(int(child)) + children_cpu(int(child)) for child in children)


def backends(conninfo: str, databases: Sequence[str]) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to these databases (the
    look-up's own connection left out). One that ends between two looks is missed (a
    statement's parallel workers, a JDBC connection closed), so differences are floors."""
    with psycopg.connect(conninfo) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
            [list(databases)],
        ).fetchall()
    return {int(pid): process_cpu(int(pid)) for (pid,) in pids}


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends spent between two looks (a new backend from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class BackendSampler:
    """The CPU of a database's backends over a job whose connections come and go (Spark's
    JDBC readers and writers): looked at every ``interval`` seconds from a thread, each
    backend counted at its last look. A backend's CPU after its last look is missed, at
    most ``interval`` seconds' worth."""

    def __init__(self, conninfo: str, database: str, interval: float = 0.5) -> None:
        self._conninfo, self._database, self._interval = conninfo, database, interval
        self._seen: dict[int, float] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _look(self) -> None:
        self._seen.update(backends(self._conninfo, [self._database]))

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            self._look()

    def __enter__(self) -> BackendSampler:
        self._start = backends(self._conninfo, [self._database])
        self._seen = dict(self._start)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._look()

    @property
    def seconds(self) -> float:
        return spent(self._start, self._seen)
