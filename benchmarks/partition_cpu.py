"""Server CPU of the whole-table jobs on rules_bench stores, plain beside partitioned.

On a shared two-core machine the wall time of a list recompute moves by a third from run
to run; the CPU time of the PostgreSQL backend that runs it (read from /proc) moves by a
few percent, and it is what the partitioned store adds or saves. For each store named
(``rules_bench`` stores, loaded by it first), interleaved ``--runs`` times (the order
reversed every other run): a full list recompute into an empty entry table, and the
grades of every organisation as of the bench's day, each in a transaction rolled back
afterwards, so the stores are left as found; then the ratio of each later store's CPU
to the first's::

    .venv/bin/python benchmarks/partition_cpu.py \\
        --stores bonafides_rules_bench_100000_1,bonafides_rules_bench_100000_1_p16

A rolled-back job leaves its million dead rows behind, and the next run on that store
pays for them (and for autovacuum beside it): at 1M subjects one tree's runs on one store
moved by a fifth. With ``--copies`` each run is made on a fresh copy of its store
(``CREATE DATABASE ... TEMPLATE``, file by file), dropped afterwards, so every run starts
from the same files.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))

import rules_bench
from bonafides.context import Context
from bonafides.rules.service import recompute_grades, recompute_lists
from bonafides.settings import Settings
from bonafides.store.db import make_engine
from proc_cpu import process_cpu


def lists(session: Session, ctx: Context) -> None:
    recompute_lists(session, zone=ctx.settings.timezone, full=True)


def grades(session: Session, ctx: Context) -> None:
    recompute_grades(session, as_of=rules_bench.TODAY, zone=ctx.settings.timezone)


Job = Callable[[Session, Context], None]
JOBS: dict[str, Job] = {"lists": lists, "grades": grades}


def measure(ctx: Context, job: Job) -> tuple[float, float]:
    """(backend CPU s, wall s) of one job, rolled back."""
    session = ctx.sessions()
    try:
        pid = int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        if job is lists:
            # The emptying is not the job's: start the clock after it.
            session.connection().exec_driver_sql("DELETE FROM list_entries")
        cpu, started = process_cpu(pid), time.perf_counter()
        job(session, ctx)
        return process_cpu(pid) - cpu, time.perf_counter() - started
    finally:
        session.rollback()
        session.close()


def _context(name: str) -> Context:
    url = f"postgresql+psycopg:///{name}"
    return Context(Settings(db=url, secret_key=rules_bench.SECRET, demo=True))


def _admin(statement: str) -> None:
    engine = make_engine("postgresql+psycopg:///postgres")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(statement))
    engine.dispose()


def _on_copy(name: str, runs: dict[str, Job]) -> list[tuple[float, float]]:
    """Each job once on a fresh copy of ``name``, dropped afterwards."""
    copy = f"{name}_run"
    _admin(f'DROP DATABASE IF EXISTS "{copy}"')
    _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{name}" STRATEGY FILE_COPY')
    ctx = _context(copy)
    try:
        return [measure(ctx, run) for run in runs.values()]
    finally:
        ctx.close()
        _admin(f'DROP DATABASE "{copy}"')


def _order(names: list[str], run: int) -> list[str]:
    """The stores in turn, reversed every other run: neither always runs on a machine
    that the other has just warmed (or filled with dirty pages)."""
    return names if run % 2 == 0 else names[::-1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stores", required=True, help="Comma-separated database names.")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--copies", action="store_true", help="Each run on a fresh copy of its store."
    )
    args = parser.parse_args(argv)
    names = args.stores.split(",")
    start = os.getloadavg()[1]
    found: dict[tuple[str, str], list[tuple[float, float]]] = {}
    if args.copies:
        for run in range(args.runs):
            for name in _order(names, run):
                for job, cost in zip(JOBS, _on_copy(name, JOBS), strict=True):
                    found.setdefault((name, job), []).append(cost)
    else:
        contexts = dict(zip(names, (_context(n) for n in names), strict=True))
        try:
            for run in range(args.runs):
                for name in _order(names, run):
                    for job, measured in JOBS.items():
                        found.setdefault((name, job), []).append(measure(contexts[name], measured))
        finally:
            for ctx in contexts.values():
                ctx.close()
    table = Table(title=f"backend CPU per job, load {start:.1f}–{os.getloadavg()[1]:.1f}")
    for column in ("store", "job", "backend CPU s (each run)", "wall s (each run)"):
        table.add_column(column)
    for (name, job), runs in found.items():
        table.add_row(
            name,
            job,
            " / ".join(f"{cpu:.2f}" for cpu, _ in runs),
            " / ".join(f"{wall:.1f}" for _, wall in runs),
        )
    Console().print(table)
    first = names[0]
    for name in names[1:]:
        for job in JOBS:
            ours = [cpu for cpu, _ in found[(name, job)]]
            theirs = [cpu for cpu, _ in found[(first, job)]]
            Console().print(
                f"{name} / {first}, {job}: {statistics.mean(ours) / statistics.mean(theirs):.3f} "
                f"on the means, {statistics.median(ours) / statistics.median(theirs):.3f} on "
                "the medians of backend CPU"
            )


if __name__ == "__main__":
    main()
