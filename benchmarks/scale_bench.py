"""The scaling curve of the whole-table jobs: PostgreSQL alone, and Spark over the same store.

For each size N (subjects with about 10 records each, the data of ``rules_bench``), on a
PostgreSQL store of its own:

- every list and the grades recomputed by the store's SQL (``lists recompute``) into an
  empty entry table;
- the same by the Spark engine (``lists recompute --engine spark``: the tables read over
  JDBC, evaluated on Spark ``local[2]``, staged over JDBC, one swap) into an empty entry
  table again; the entries and grades it writes are checked equal to the SQL engine's.

It prints seconds and microseconds per subject for each size, and each step's growth
against the previous size (linear means about the size ratio; the issue allows 2.2x per
doubling)::

    .venv/bin/python benchmarks/scale_bench.py --sizes 100000,200000,400000

Stores are kept (``bonafides_scale_bench_<N>``) and reused by later runs; loading is not
timed. Batch screening is not part of the curve yet: ``screen`` has no Spark engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from bonafides.app.rules import recompute
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.rules.compile import ENTRY_COLUMNS
from bonafides.rules.loader import packaged_rules
from bonafides.rules.service import CURRENT
from bonafides.store.db import make_engine
from bonafides.store.tables import Grade, ListEntry
from rules_bench import TODAY, Subjects, machine, prepare

RESULTS = Path(__file__).with_name("RESULTS.md")
console = Console()


@dataclass
class Point:
    subjects: int
    records: int
    entries: int
    grades: int
    sql_s: float
    spark_s: float
    same: bool


ROLE = "bonafides_scale_bench"
PASSWORD = "scale-bench-password"


def _store(admin_url: str, subjects: int) -> str:
    """A database of its own, owned by a role with a password: Spark's JDBC driver comes
    over TCP, as a cluster's executors would (the Unix socket's peer login is not open to
    it), and both engines use that same URL."""
    name = f"bonafides_scale_bench_{subjects}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).first():
            conn.execute(text(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'"))
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}" OWNER {ROLE}'))
    admin.dispose()
    url = make_url(admin_url).set(database=name, username=ROLE, password=PASSWORD, host="127.0.0.1")
    return url.render_as_string(hide_password=False)


def _clear(ctx: Context) -> None:
    with ctx.engine.begin() as conn:
        for table in ("grades", "list_entries", "rule_runs"):
            conn.execute(text(f"DELETE FROM {table}"))


def _stored(ctx: Context) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    le = ListEntry.__table__.c
    with ctx.sessions() as session:
        entries = {
            tuple(row)
            for row in session.execute(
                select(*(le[n] for n in ENTRY_COLUMNS)).where(le.status == CURRENT)
            )
        }
        grades = {
            tuple(row)
            for row in session.execute(
                select(
                    Grade.scheme, Grade.subject_id, Grade.grade, Grade.line, Grade.record_ids
                ).where(Grade.as_of == TODAY)
            )
        }
    return entries, grades


def _run(ctx: Context, engine: str) -> float:
    _clear(ctx)
    started = time.perf_counter()
    with UnitOfWork(ctx.sessions) as unit:
        recompute(unit, ctx, packaged_rules(), as_of=TODAY, full=True, actor="bench", engine=engine)
    return time.perf_counter() - started


def measure(admin_url: str, size: int, seed: int) -> Point:
    ctx, records = prepare(_store(admin_url, size), Subjects(size), seed)
    try:
        sql_s = _run(ctx, "sql")
        by_sql = _stored(ctx)
        spark_s = _run(ctx, "spark")
        by_spark = _stored(ctx)
    finally:
        ctx.close()
    return Point(
        size,
        records,
        len(by_sql[0]),
        len(by_sql[1]),
        sql_s,
        spark_s,
        by_sql == by_spark,
    )


def _growth(points: list[Point], i: int, attr: str) -> str:
    if i == 0:
        return ""
    before, now = points[i - 1], points[i]
    ratio = getattr(now, attr) / getattr(before, attr)
    return f"{ratio:.2f}x for {now.subjects / before.subjects:.1f}x"


def rows(points: list[Point]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for i, p in enumerate(points):
        out.append(
            (
                f"{p.subjects:,}",
                f"{p.records:,}",
                f"{p.entries:,} / {p.grades:,}",
                f"{p.sql_s:.1f} s",
                f"{p.sql_s / p.subjects * 1e6:.0f} µs",
                _growth(points, i, "sql_s"),
                f"{p.spark_s:.1f} s",
                f"{p.spark_s / p.subjects * 1e6:.0f} µs",
                _growth(points, i, "spark_s"),
                f"{p.spark_s / p.sql_s:.2f}",
                "yes" if p.same else "NO",
            )
        )
    return out


HEADERS = (
    "subjects",
    "records",
    "entries / grades",
    "PostgreSQL",
    "per subject",
    "growth",
    "Spark local[2]",
    "per subject",
    "growth",
    "Spark / PG",
    "equal",
)


def write_results(points: list[Point], command: str, load: str, cpu: str) -> None:
    lines = [
        "",
        f"## scale_bench: lists and grades, PostgreSQL and Spark ({dt.date.today().isoformat()})",
        "",
        f"`{command}`. Machine: {machine()}; Spark local[2] on the same cores. Load average "
        f"{load} during the run (other processes shared the cores). CPU seconds of this "
        f"process and its children (the JVM): {cpu}.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---:|" * len(HEADERS),
        *("| " + " | ".join(row) + " |" for row in rows(points)),
        "",
    ]
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def _children_cpu(pid: int) -> float:
    """CPU seconds of the running child processes (the Spark JVM), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    for child in children:
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick + _children_cpu(int(child))
    return total


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", default="100000,200000,400000", help="Subjects, comma-separated."
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default="postgresql+psycopg:///postgres", help="Admin URL.")
    parser.add_argument("--no-results", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args(argv)
    from bonafides.spark.session import local_session

    local_session("local[2]", app="scale-bench", partitions=8)
    start = os.getloadavg()[1]
    points: list[Point] = []
    for size in (int(s) for s in args.sizes.split(",")):
        points.append(measure(args.pg, size, args.seed))
        point = points[-1]
        console.print(
            f"{size:,} subjects: SQL {point.sql_s:.1f} s, Spark {point.spark_s:.1f} s, "
            f"{point.entries:,} entries, {point.grades:,} grades, "
            f"equal: {'yes' if point.same else 'NO'}; load {os.getloadavg()[0]:.1f}, "
            f"JVM CPU so far {_children_cpu(os.getpid()):.0f} s"
        )
    out = Table(title="scale_bench")
    for header in HEADERS:
        out.add_column(header, justify="right")
    for row in rows(points):
        out.add_row(*row)
    console.print(out)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (
        f"{usage.ru_utime + usage.ru_stime:.0f} s in Python, "
        f"{_children_cpu(os.getpid()):.0f} s in the JVM"
    )
    console.print(cpu)
    if not args.no_results:
        end = os.getloadavg()[1]
        write_results(
            points, f"benchmarks/scale_bench.py --sizes {args.sizes}", f"{start:.1f}–{end:.1f}", cpu
        )


if __name__ == "__main__":
    main()
