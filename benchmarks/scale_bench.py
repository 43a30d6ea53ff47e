"""The scaling curve of the whole-table jobs: PostgreSQL alone, and Spark over the same store.

For each size N (subjects with about 10 records each, the data of ``rules_bench``), on a
PostgreSQL store of its own:

- every list and the grades recomputed by the store's SQL (``lists recompute``) into an
  empty entry table;
- the same by the Spark engine (``lists recompute --engine spark``: the tables read over
  JDBC, evaluated on Spark ``local[2]``, staged over JDBC, one swap) into an empty entry
  table again; the entries and grades it writes are checked equal to the SQL engine's;
- batch screening of a file of every subject's code (all N of them, no sample) for one
  action (``screen``, procurement.bid), by the store's SQL and then with ``--engine
  spark`` (subjects and entries joined on Spark over JDBC, the answers made and stored by
  the store path's code), both over the SQL engine's entries: the two answer files are
  checked byte-identical but for the certificate id, and the two batches' counts equal.

The Spark recompute runs last (it is the longest), so a point cut short has the rest.

It prints seconds and microseconds per subject for each job and size, the CPU seconds each
job cost (this process, the store's PostgreSQL backends, and for Spark the JVM), and each
step's growth against the previous size in both (linear means about the size ratio; the
issue allows 2.2x per doubling). On a shared machine the wall time also measures the
queue for the cores; the CPU seconds are the work::

    .venv/bin/python benchmarks/scale_bench.py --sizes 100000,200000,400000

``--cold`` empties the machine's page cache before each job (it needs root), so every
size starts from the same state: without it a job reads what the previous one left
cached, which is all of a store that fits in memory and some of one that does not.
``--engines sql`` runs the store's own SQL alone, without the JVM. ``--wal GB`` runs
the server as docs/deployment.md asks of a node that runs these jobs (``max_wal_size``
of that many GB, ``checkpoint_timeout`` of 30 minutes; set with ``ALTER SYSTEM`` and a
reload, and put back as they were after the run): with the default 1 GB a job that writes
more WAL than about half of it checkpoints while it runs, and a smaller size's does not,
so the step between them measured the setting. The settings each point ran under are
kept with it and printed.

Stores are kept (``bonafides_scale_bench_<N>``) and reused by later runs unless
``--drop`` is given; loading is not timed. One size per process keeps each point's JVM
fresh: ``--curve FILE`` keeps the points of earlier processes, so the growth is shown
against them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from bonafides.app.rules import recompute
from bonafides.app.screening import screen_file
from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.rules.compile import ENTRY_COLUMNS
from bonafides.rules.loader import packaged_rules
from bonafides.rules.service import CURRENT
from bonafides.settings import Settings
from bonafides.store.db import make_engine
from bonafides.store.tables import Grade, ListEntry
from proc_cpu import BackendSampler, children_cpu
from rules_bench import ACTION, TODAY, Subjects, machine, prepare

RESULTS = Path(__file__).with_name("RESULTS.md")
#: The Spark JVM's heap unless BONAFIDES_SPARK_DRIVER_MEMORY says otherwise: the default
#: 1 GB ran out at 400,000 subjects.
DRIVER_MEMORY = "6g"
console = Console(width=200)


@dataclass
class Point:
    subjects: int
    records: int
    entries: int
    grades: int
    sql_s: float
    #: The Spark figures are None where the point ran the store's SQL alone (``--engines``).
    spark_s: float | None
    #: CPU seconds of the Spark JVM during the Spark recompute and the Spark screening.
    spark_cpu: float | None
    #: Whether Spark's results equalled the SQL engine's (None: Spark did not run).
    same: bool | None
    #: The screening's counts (listed, clear, unknown, ...) by the SQL engine.
    screened: dict[str, int]
    screen_sql_s: float
    screen_spark_s: float | None
    screen_cpu: float | None
    screen_same: bool | None
    #: CPU seconds of each job: this process plus the store's backends (plus the JVM for
    #: Spark). Points measured before these were kept have none.
    sql_total_cpu: float | None = None
    spark_total_cpu: float | None = None
    screen_sql_total_cpu: float | None = None
    screen_spark_total_cpu: float | None = None
    #: GB the machine read from disk during each recompute (``pgpgin``): whether the store
    #: still fitted the page cache beside the JVM. Earlier points have none.
    sql_read_gb: float | None = None
    spark_read_gb: float | None = None
    #: Whether each job started with the machine's page cache emptied (``--cold``).
    cold: bool = False
    #: Wall seconds of each SQL screening when it ran more than once (``--screenings``);
    #: ``screen_sql_s`` and its CPU are then the median run's.
    screen_sql_runs: list[float] = field(default_factory=list)
    #: Seconds until each SQL job's writes were on disk after it returned (``_flush``);
    #: earlier points have none.
    sql_flush_s: float | None = None
    screen_sql_flush_s: float | None = None
    #: Wall seconds of each SQL recompute when it ran more than once (``--recomputes``);
    #: ``sql_s``, its CPU, read and flush are then the median run's.
    sql_runs: list[float] = field(default_factory=list)
    #: The server's WAL and buffer settings during the point (``_server``); earlier
    #: points have none.
    server: str | None = None


ROLE = "bonafides_scale_bench"
PASSWORD = "scale-bench-password"


def _store(admin_url: str, subjects: int, prefix: str = ROLE) -> str:
    """A database of its own (``<prefix>_<N>``), owned by a role with a password (named
    ``prefix``): Spark's JDBC driver comes over TCP, as a cluster's executors would (the
    Unix socket's peer login is not open to it), and both engines use that same URL."""
    name = f"{prefix}_{subjects}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": prefix}
        ).first():
            conn.execute(text(f"CREATE ROLE {prefix} LOGIN PASSWORD '{PASSWORD}'"))
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}" OWNER {prefix}'))
    admin.dispose()
    url = make_url(admin_url).set(
        database=name, username=prefix, password=PASSWORD, host="127.0.0.1"
    )
    return url.render_as_string(hide_password=False)


#: What a job writes: emptied before each job, so every job of every size starts from the
#: same state (the feed's events too, which each recompute adds to).
WRITTEN = ("check_lines", "checks", "grades", "list_entries", "rule_runs", "feed_events")
#: What a batch screening writes, emptied between two runs of it.
SCREENING_WRITES = ("check_lines", "checks")


def _clear(ctx: Context, admin_url: str) -> None:
    """Empty what the jobs write, then vacuum it and checkpoint, untimed: otherwise the next
    job paid autovacuum's pass over the rows deleted here (its workers serve this database,
    so their CPU counted) and the flush of the last job's dirty pages."""
    with ctx.engine.begin() as conn:
        for table in WRITTEN:
            conn.execute(text(f"DELETE FROM {table}"))
    _settle(ctx, admin_url)


def _clear_screening(ctx: Context, admin_url: str) -> float:
    """Empty what a screening wrote (its certificate and lines), vacuum and checkpoint,
    so that the next screening writes into the tables the first one found; returns the
    seconds."""
    started = time.perf_counter()
    with ctx.engine.begin() as conn:
        for table in SCREENING_WRITES:
            conn.execute(text(f"DELETE FROM {table}"))
    _settle(ctx, admin_url)
    return time.perf_counter() - started


def _flush(admin_url: str) -> float:
    """Checkpoint, then sync the machine's dirty pages; returns the seconds.

    Taken right after a SQL job, which starts from a synced, checkpointed store: what is
    then left to write is the job's own. A job's figure ends at its commit; a small job's
    writes mostly wait in the page cache until after it, a large one's pass the kernel's
    writeback threshold and are paid during it (at 4M the check lines' COPY wrote 3.1 GB
    while running against 0.9 GB at 2M). The job plus this is what each size costs whole.
    """
    started = time.perf_counter()
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    admin.dispose()
    os.sync()
    return time.perf_counter() - started


def _settle(ctx: Context, admin_url: str) -> float:
    """Vacuum and analyse what a recompute wrote, then checkpoint; returns the seconds.

    Shown beside the jobs, in no job's figure: left to autovacuum, the pass over millions
    of new entries and events ran during the screening that followed (its workers serve
    this database, so their CPU counted as the screening's), a larger share of it the
    larger the store, and was cut short when the next size's run emptied the tables.
    """
    started = time.perf_counter()
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM (ANALYZE) {', '.join(WRITTEN)}"))
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    admin.dispose()
    return time.perf_counter() - started


#: What docs/deployment.md asks of a node running whole-store jobs, less what only a
#: restart applies (``shared_buffers``): ``--wal`` sets the WAL limit itself.
JOB_NODE_TIMEOUT = "30min"
SHOWN_SETTINGS = ("max_wal_size", "checkpoint_timeout", "shared_buffers")


def _server(admin_url: str) -> str:
    """The settings a point ran under, as the server reports them."""
    admin = make_engine(admin_url)
    with admin.connect() as conn:
        shown = [
            f"{name} {conn.execute(text(f'SHOW {name}')).scalar_one()}" for name in SHOWN_SETTINGS
        ]
    admin.dispose()
    return ", ".join(shown)


@contextmanager
def _job_node(admin_url: str, wal_gb: int | None) -> Iterator[None]:
    """The server with ``max_wal_size`` of ``wal_gb`` GB and ``checkpoint_timeout`` of
    ``JOB_NODE_TIMEOUT`` (nothing changed without ``wal_gb``), then as it was: a setting
    that was in ``postgresql.auto.conf`` gets its value back, any other is reset."""
    if wal_gb is None:
        yield
        return
    wanted = {"max_wal_size": f"{wal_gb}GB", "checkpoint_timeout": JOB_NODE_TIMEOUT}
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        kept: dict[str, str] = dict(
            conn.execute(
                text(
                    "SELECT name, setting FROM pg_file_settings WHERE applied "
                    "AND sourcefile LIKE '%postgresql.auto.conf' AND name = ANY(:names)"
                ),
                {"names": list(wanted)},
            ).all()
        )
        for name, value in wanted.items():
            conn.execute(text(f"ALTER SYSTEM SET {name} = '{value}'"))
        conn.execute(text("SELECT pg_reload_conf()"))
    try:
        yield
    finally:
        with admin.connect() as conn:
            for name in wanted:
                if name in kept:
                    conn.execute(text(f"ALTER SYSTEM SET {name} = '{kept[name]}'"))
                else:
                    conn.execute(text(f"ALTER SYSTEM RESET {name}"))
            conn.execute(text("SELECT pg_reload_conf()"))
        admin.dispose()


def _empty_page_cache() -> None:
    """Write the dirty pages out and drop the machine's page cache (root only), so that a
    job starts from the same state at every size. Otherwise a job read what the previous
    one left cached: all of a store that fits in memory, an arbitrary part of one that
    does not, so the step from the last size that fits to the first that does not
    measured the machine's memory as much as the job."""
    os.sync()
    try:
        DROP_CACHES.write_text("3\n")
    except OSError as error:
        raise SystemExit(f"--cold needs to write {DROP_CACHES} (root): {error}") from error


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def _read_gb() -> float:
    """GB read from disk by the whole machine so far (``pgpgin`` counts KB)."""
    for line in Path("/proc/vmstat").read_text().splitlines():
        if line.startswith("pgpgin "):
            return int(line.split()[1]) / 1024**2
    return 0.0


def _drop(admin_url: str, subjects: int, prefix: str = ROLE) -> None:
    """Drop a size's store after its point (a 1M store takes about 11 GB)."""
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{subjects}" WITH (FORCE)'))
    admin.dispose()


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


@dataclass
class Cost:
    seconds: float
    #: The Spark JVM's CPU seconds.
    jvm: float
    #: This process, the store's backends and the JVM.
    cpu: float
    #: GB read from disk by the machine.
    read_gb: float
    #: Seconds until what the job wrote was on disk, after it returned (``_flush``).
    flush: float = 0.0


class _Meter:
    """Wall and CPU seconds of one job: this process, its JVM, the store's backends."""

    def __init__(self, ctx: Context) -> None:
        url = ctx.engine.url
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._backends = BackendSampler(conninfo, str(url.database))

    def __enter__(self) -> _Meter:
        self._jvm, self._own = children_cpu(os.getpid()), time.process_time()
        self._read = _read_gb()
        self._backends.__enter__()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._started
        self._backends.__exit__(None, None, None)
        self.jvm = children_cpu(os.getpid()) - self._jvm
        self.cpu = time.process_time() - self._own + self.jvm + self._backends.seconds
        self.read_gb = _read_gb() - self._read

    def cost(self) -> Cost:
        return Cost(self.seconds, self.jvm, self.cpu, self.read_gb)


def _run(ctx: Context, engine: str, admin_url: str, cold: bool = False) -> Cost:
    """One recompute into empty tables."""
    _clear(ctx, admin_url)
    if cold:
        _empty_page_cache()
    with _Meter(ctx) as meter, UnitOfWork(ctx.sessions) as unit:
        recompute(unit, ctx, packaged_rules(), as_of=TODAY, full=True, actor="bench", engine=engine)
    return meter.cost()


def _codes(subjects: Subjects, work: Path) -> Path:
    """A file of every subject's code, as an inquirer would send it."""
    source = work / f"codes-{subjects.count}.csv"
    with source.open("w", encoding="utf-8") as handle:
        handle.write("code\n")
        handle.writelines(f"{subjects.code(i)}\n" for i in range(1, subjects.count + 1))
    return source


def _screen(
    ctx: Context, source: Path, engine: str, cold: bool = False
) -> tuple[Cost, dict[str, int], str]:
    """One batch screening, its counts, and the digest of its answer file with the
    certificate id taken out (the one thing that differs)."""
    out = source.with_name(f"answers-{engine}.csv")
    if cold:
        _empty_page_cache()
    with _Meter(ctx) as meter:
        report = screen_file(
            ctx,
            source,
            action=ACTION,
            inquirer="bench",
            purpose="benchmark",
            as_of=TODAY,
            out=out,
            engine=engine,
        )
    digest = hashlib.sha256(out.read_bytes().replace(report.cert_id.encode(), b"CERT"))
    out.unlink()
    return meter.cost(), dict(report.counts), digest.hexdigest()


def measure(
    admin_url: str,
    size: int,
    seed: int,
    work: Path,
    prefix: str = ROLE,
    *,
    spark: bool = True,
    cold: bool = False,
    screenings: int = 1,
    recomputes: int = 1,
) -> Point:
    ctx, records = prepare(_store(admin_url, size, prefix), Subjects(size), seed)
    source = _codes(Subjects(size), work)
    server = _server(admin_url)
    console.print(f"{size:,} subjects: PostgreSQL {server}")

    def heard(step: str, seconds: float) -> None:
        """Each step as it ends: a point cut short by a deadline still tells something."""
        console.print(f"{size:,} subjects: {step} {seconds:.1f} s; load {os.getloadavg()[0]:.1f}")

    screen_spark: Cost | None = None
    spark_run: Cost | None = None
    same: bool | None = None
    screen_same: bool | None = None
    try:
        # The longest job last, so that a point cut short has the others.
        recomputed: list[Cost] = []
        by_sql: tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]] = (set(), set())
        for run in range(recomputes):
            cost = _run(ctx, "sql", admin_url, cold)
            cost.flush = _flush(admin_url)
            heard(
                f"recompute SQL (CPU {cost.cpu:.0f} s, read {cost.read_gb:.1f} GB; its writes "
                f"on disk {cost.flush:.1f} s later)",
                cost.seconds,
            )
            stored = _stored(ctx)
            if recomputed and stored != by_sql:
                raise SystemExit(f"{size:,} subjects: SQL recompute {run + 1} wrote otherwise")
            by_sql = stored
            recomputed.append(cost)
        sql = _median(recomputed)
        heard("settle what the recompute wrote (VACUUM, CHECKPOINT)", _settle(ctx, admin_url))
        # Both screenings read the SQL engine's entries, current, so neither recomputes.
        runs: list[Cost] = []
        answered: tuple[dict[str, int], str] | None = None
        for run in range(screenings):
            if run:
                heard("empty what the screening wrote", _clear_screening(ctx, admin_url))
            cost, screened, sql_digest = _screen(ctx, source, "sql", cold)
            if answered is not None and (screened, sql_digest) != answered:
                raise SystemExit(f"{size:,} subjects: SQL screening {run + 1} answered otherwise")
            answered = (screened, sql_digest)
            cost.flush = _flush(admin_url)
            heard(
                f"screen SQL (CPU {cost.cpu:.0f} s; its writes on disk {cost.flush:.1f} s later)",
                cost.seconds,
            )
            runs.append(cost)
        screen_sql = _median(runs)
        if spark:
            screen_spark, spark_counts, spark_digest = _screen(ctx, source, "spark", cold)
            screen_same = (screened, sql_digest) == (spark_counts, spark_digest)
            heard(
                f"screen Spark (CPU {screen_spark.cpu:.0f} s, JVM {screen_spark.jvm:.0f} s)",
                screen_spark.seconds,
            )
            spark_run = _run(ctx, "spark", admin_url, cold)
            heard(
                f"recompute Spark (CPU {spark_run.cpu:.0f} s, JVM {spark_run.jvm:.0f} s, read "
                f"{spark_run.read_gb:.1f} GB)",
                spark_run.seconds,
            )
            same = by_sql == _stored(ctx)
        _clear(ctx, admin_url)
    finally:
        ctx.close()
        source.unlink()
    return Point(
        size,
        records,
        len(by_sql[0]),
        len(by_sql[1]),
        sql.seconds,
        None if spark_run is None else spark_run.seconds,
        None if spark_run is None else spark_run.jvm,
        same,
        screened,
        screen_sql.seconds,
        None if screen_spark is None else screen_spark.seconds,
        None if screen_spark is None else screen_spark.jvm,
        screen_same,
        sql.cpu,
        None if spark_run is None else spark_run.cpu,
        screen_sql.cpu,
        None if screen_spark is None else screen_spark.cpu,
        sql.read_gb,
        None if spark_run is None else spark_run.read_gb,
        cold,
        [run.seconds for run in runs] if screenings > 1 else [],
        sql.flush,
        screen_sql.flush,
        [run.seconds for run in recomputed] if recomputes > 1 else [],
        server,
    )


def _median(runs: list[Cost]) -> Cost:
    """The run of median wall time (the lower middle one of an even number): on a shared
    machine one run can stall on the disk for a minute, and a single figure per size then
    measures the stall, not the code."""
    return sorted(runs, key=lambda cost: cost.seconds)[(len(runs) - 1) // 2]


def _growth(points: list[Point], i: int, attr: str) -> str:
    if i == 0:
        return ""
    before, now = points[i - 1], points[i]
    if getattr(now, attr) is None or getattr(before, attr) is None or before.cold != now.cold:
        return "–"
    ratio = getattr(now, attr) / getattr(before, attr)
    return f"{ratio:.2f}x for {now.subjects / before.subjects:.1f}x"


def _cpu(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.0f} s"


def _per_subject(seconds: float | None, subjects: int) -> str:
    return "–" if seconds is None else f"{seconds / subjects * 1e6:.0f} µs"


def _seconds(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.1f} s"


def _equal(same: bool | None) -> str:
    return "–" if same is None else "yes" if same else "NO"


def rows(points: list[Point]) -> list[tuple[str, ...]]:
    """Two rows per size: the recompute and the batch screening."""
    out: list[tuple[str, ...]] = []
    for i, p in enumerate(points):
        listed = p.screened.get("measures_apply", 0)
        for job, result, sql, spark, jvm, same in (
            ("recompute", f"{p.entries:,} entries / {p.grades:,} grades", "sql", "spark",
             p.spark_cpu, p.same),
            ("screen", f"{p.subjects:,} lines, {listed:,} listed", "screen_sql",
             "screen_spark", p.screen_cpu, p.screen_same),
        ):  # fmt: skip
            sql_s, spark_s = getattr(p, f"{sql}_s"), getattr(p, f"{spark}_s")
            sql_cpu, spark_cpu = f"{sql}_total_cpu", f"{spark}_total_cpu"
            out.append(
                (
                    f"{job} (cold)" if p.cold else job,
                    f"{p.subjects:,}",
                    f"{p.records:,}",
                    result,
                    f"{sql_s:.1f} s",
                    _per_subject(sql_s, p.subjects),
                    _growth(points, i, f"{sql}_s"),
                    _cpu(getattr(p, sql_cpu)),
                    _growth(points, i, sql_cpu),
                    _seconds(spark_s),
                    _per_subject(spark_s, p.subjects),
                    _growth(points, i, f"{spark}_s"),
                    _cpu(jvm),
                    _cpu(getattr(p, spark_cpu)),
                    _growth(points, i, spark_cpu),
                    "–" if spark_s is None else f"{spark_s / sql_s:.2f}",
                    _equal(same),
                )
            )
    return out


HEADERS = (
    "job",
    "subjects",
    "records",
    "result",
    "PostgreSQL",
    "per subject",
    "growth",
    "CPU",
    "CPU growth",
    "Spark local[2]",
    "per subject",
    "growth",
    "JVM CPU",
    "CPU",
    "CPU growth",
    "Spark / PG",
    "equal",
)


def write_results(points: list[Point], command: str, load: str, cpu: str) -> None:
    lines = [
        "",
        f"## scale_bench: lists, grades and batch screening, PostgreSQL and Spark "
        f"({dt.date.today().isoformat()})",
        "",
        f"`{command}`. Machine: {machine()}"
        f"{'; Spark local[2] on the same cores' if any(p.spark_s for p in points) else ''}. "
        "Load average "
        f"{load} during the run (other processes shared the cores). CPU seconds of this "
        f"process and its children (the JVM): {cpu}. JVM CPU: the Spark JVM's CPU seconds "
        "during that job alone; CPU: this process, the store's PostgreSQL backends (looked "
        "at twice a second) and the JVM during that job.",
        "",
        *_settings(points),
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---:|" * len(HEADERS),
        *("| " + " | ".join(row) + " |" for row in rows(points)),
        "",
        *_reads(points),
        *_screenings(points),
        *_durable(points),
    ]
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def _settings(points: list[Point]) -> list[str]:
    """The server settings the points ran under, where they were kept."""
    shown = [f"{p.subjects:,}: {p.server}" for p in points if p.server]
    if not shown:
        return []
    if len({p.server for p in points}) == 1 and len(shown) == len(points):
        return [f"PostgreSQL at every size: {points[0].server}.", ""]
    return ["PostgreSQL settings: " + "; ".join(shown) + ".", ""]


def _durable(points: list[Point]) -> list[str]:
    """Each SQL job with the time its writes took to reach the disk after it, and that
    whole's growth from the size before."""
    shown = [p for p in points if p.sql_flush_s is not None and p.screen_sql_flush_s is not None]
    if not shown:
        return []
    parts = []
    for i, p in enumerate(shown):
        whole = (p.sql_s + (p.sql_flush_s or 0), p.screen_sql_s + (p.screen_sql_flush_s or 0))
        text = (
            f"{p.subjects:,}: recompute {p.sql_s:.1f} + {p.sql_flush_s:.1f} = {whole[0]:.1f} s, "
            f"screening {p.screen_sql_s:.1f} + {p.screen_sql_flush_s:.1f} = {whole[1]:.1f} s"
        )
        if i:
            before = shown[i - 1]
            was = (
                before.sql_s + (before.sql_flush_s or 0),
                before.screen_sql_s + (before.screen_sql_flush_s or 0),
            )
            text += f" ({whole[0] / was[0]:.2f}x and {whole[1] / was[1]:.2f}x)"
        parts.append(text)
    return [
        "Each SQL job until its writes were on disk (a checkpoint and `sync` right after "
        f"it, the job first): {'; '.join(parts)}.",
        "",
    ]


def _screenings(points: list[Point]) -> list[str]:
    """Each SQL job where a size ran several, the median one in the table."""
    lines: list[str] = []
    for job, attr in (("recomputes", "sql_runs"), ("screenings", "screen_sql_runs")):
        runs = [
            f"{p.subjects:,}: " + ", ".join(f"{seconds:.1f}" for seconds in getattr(p, attr)) + " s"
            for p in points
            if getattr(p, attr)
        ]
        if runs:
            lines += [f"SQL {job}, the median in the table: {'; '.join(runs)}.", ""]
    return lines


def _reads(points: list[Point]) -> list[str]:
    """What each size's recomputes read from disk, where it was measured."""
    read = [
        f"{p.subjects:,}: SQL {p.sql_read_gb:.1f} GB"
        + ("" if p.spark_read_gb is None else f", Spark {p.spark_read_gb:.1f} GB")
        for p in points
        if p.sql_read_gb is not None
    ]
    if not read:
        return []
    return [
        "Read from disk (the machine's `pgpgin`) during the recomputes: " + "; ".join(read) + ".",
        "",
    ]


def _load_curve(path: Path | None) -> list[Point]:
    if path is None or not path.exists():
        return []
    return [Point(**point) for point in json.loads(path.read_text(encoding="utf-8"))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", default="100000,200000,400000", help="Subjects, comma-separated."
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default="postgresql+psycopg:///postgres", help="Admin URL.")
    parser.add_argument("--no-results", action="store_true", help="Do not append to RESULTS.md.")
    parser.add_argument(
        "--drop", action="store_true", help="Drop each size's store after its point."
    )
    parser.add_argument(
        "--curve",
        type=Path,
        help="JSON file of earlier points (one size per process): read, extended, rewritten.",
    )
    parser.add_argument(
        "--prefix",
        default=ROLE,
        help="Name of the stores (<prefix>_<N>) and of the role that owns them.",
    )
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp"), help="Directory for the codes and answers."
    )
    parser.add_argument(
        "--engines",
        choices=("sql,spark", "sql"),
        default="sql,spark",
        help="sql: the store's own SQL alone (no JVM), for its curve on its own.",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="Empty the machine's page cache before each job (root): every size starts "
        "from the same state, whether or not its store fits in memory.",
    )
    parser.add_argument(
        "--screenings",
        type=int,
        default=1,
        help="SQL screenings per size, each into emptied tables; the median run counts.",
    )
    parser.add_argument(
        "--wal",
        type=int,
        metavar="GB",
        help="Run the server with max_wal_size of GB and checkpoint_timeout of 30 min, as "
        "docs/deployment.md asks of a node running these jobs; restored after the run.",
    )
    parser.add_argument(
        "--recomputes",
        type=int,
        default=1,
        help="SQL recomputes per size, each into emptied tables; the median run counts.",
    )
    args = parser.parse_args(argv)
    spark = args.engines == "sql,spark"
    memory = Settings().spark_driver_memory or DRIVER_MEMORY
    if spark:
        from bonafides.spark.session import local_session

        local_session("local[2]", app="scale-bench", partitions=8, driver_memory=memory)
    start = os.getloadavg()[1]
    points = _load_curve(args.curve)
    with _job_node(args.pg, args.wal):
        for size in (int(s) for s in args.sizes.split(",")):
            point = measure(
                args.pg,
                size,
                args.seed,
                args.work,
                args.prefix,
                spark=spark,
                cold=args.cold,
                screenings=args.screenings,
                recomputes=args.recomputes,
            )
            points.append(point)
            if args.curve is not None:
                args.curve.write_text(json.dumps([asdict(p) for p in points], indent=1))
            if args.drop:
                _drop(args.pg, size, args.prefix)
            console.print(
                f"{size:,} subjects: recompute SQL {point.sql_s:.1f} s, Spark "
                f"{_seconds(point.spark_s)} (JVM CPU {_cpu(point.spark_cpu)}), {point.entries:,} "
                f"entries, {point.grades:,} grades, equal: {_equal(point.same)}; screen SQL "
                f"{point.screen_sql_s:.1f} s, Spark {_seconds(point.screen_spark_s)} (JVM CPU "
                f"{_cpu(point.screen_cpu)}), {point.screened}, equal: "
                f"{_equal(point.screen_same)}; load {os.getloadavg()[0]:.1f}, "
                f"JVM CPU so far {children_cpu(os.getpid()):.0f} s (heap {memory})"
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
        f"{children_cpu(os.getpid()):.0f} s in the JVM"
    )
    console.print(cpu)
    if not args.no_results:
        end = os.getloadavg()[1]
        flags = (
            ("" if spark else " --engines sql")
            + (" --cold" if args.cold else "")
            + (f" --screenings {args.screenings}" if args.screenings > 1 else "")
            + (f" --recomputes {args.recomputes}" if args.recomputes > 1 else "")
            + (f" --wal {args.wal}" if args.wal is not None else "")
        )
        command = f"benchmarks/scale_bench.py --sizes {args.sizes}{flags}"
        write_results(points, command, f"{start:.1f}–{end:.1f}", cpu)


if __name__ == "__main__":
    main()
