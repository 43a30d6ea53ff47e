"""Ingest against the raw load it stands on, on each store (issue 14's measuring stick).

A clean department file of valid penalties (``market.penalty`` from ``bj_amr``, headed with
the national dual-publicity Chinese column names, UTF-8) is written once. For each store,
in the same run:

- raw load: the same file read by ``csv`` and written to a plain table of text columns —
  SQLite ``executemany`` in one transaction, PostgreSQL ``COPY ... FROM STDIN``;
- ingest: ``bonafides ingest`` (the command a department's clerk types) into a fresh,
  initialised store, in a child process whose peak RSS is read from ``wait4``;
- resubmission of the same file (every row unchanged);
- a file with a share of its rows amended (another fine amount, same decision numbers);
- the schema floor: the rows the first ingest stored (subjects, their names, records,
  versions, feed events: ``FLOOR_TABLES``) written again into a fresh, initialised store
  by the fastest means — SQLite ``executemany`` into a temporary table, PostgreSQL
  ``COPY`` into one, then ``INSERT ... SELECT`` into the real table with all its indexes,
  constraints, foreign keys and triggers — and, for the cost of those, into bare copies
  of the same tables without any. What no ingest design can beat on this schema.

The target (issue 14) is ingest at half the raw load's rows/s or better, the resubmission
at least as fast as the first load, and peak memory under 1 GiB for 10M rows::

    .venv/bin/python benchmarks/ingest_bench.py --rows 1000000 --subjects 200000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from bonafides.catalogue import load_catalogue
from bonafides.codes import make_uscc
from web_bench import _ensure_database, _psycopg_url, append_results

TYPE = "market.penalty"
SOURCE = "bj_amr"
AUTHORITY = "北京市市场监督管理局"
AUTHORITY_USCC = make_uscc("1", "1", "110000", "00002113")
SECRET = "ingest-bench-secret-key"
BONAFIDES = Path(sys.executable).with_name("bonafides")
COLUMNS = (
    "store",
    "run",
    "rows",
    "seconds",
    "rows/s",
    "raw load rows/s",
    "ingest / raw",
    "ingest / floor",
    "target",
    "peak RSS MB",
    "CPU s (bonafides)",
)
VIOLATIONS = (
    ("虚假宣传", "《中华人民共和国反不正当竞争法》第二十条"),
    ("未按规定公示年度报告", "《企业信息公示暂行条例》第十七条"),
    ("销售不合格产品", "《中华人民共和国产品质量法》第四十九条"),
    ("无照经营", "《无证无照经营查处办法》第十三条"),
    ("价格违法", "《中华人民共和国价格法》第四十条"),
)
NAME_PARTS = ("华信", "永泰", "宏达", "金桥", "瑞丰", "恒通", "德润", "鑫源", "海川", "安和")
TRADES = ("商贸", "科技", "建材", "食品", "物流", "医药", "餐饮", "电子")


@dataclass
class Measured:
    store: str
    run: str
    rows: int
    seconds: float
    raw_rate: float | None = None
    floor_rate: float | None = None
    rss_mb: float | None = None
    target: str = ""
    #: CPU seconds of the bonafides process, or of the bench's own for SQLite's raw load
    #: and floor (PostgreSQL's own work is not in it): on a shared machine steadier than
    #: the wall time.
    cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def cells(self) -> list[str]:
        ratio = f"{self.rate / self.raw_rate:.3f}" if self.raw_rate else ""
        return [
            self.store,
            self.run,
            f"{self.rows:,}",
            f"{self.seconds:.1f}",
            f"{self.rate:,.0f}",
            f"{self.raw_rate:,.0f}" if self.raw_rate else "",
            ratio,
            f"{self.rate / self.floor_rate:.3f}" if self.floor_rate else "",
            self.target,
            f"{self.rss_mb:,.0f}" if self.rss_mb else "",
            f"{self.cpu:.1f}" if self.cpu else "",
        ]


def _header() -> list[str]:
    """The file's columns: the Chinese name of every required field, as a template has."""
    rtype = load_catalogue().type(TYPE)
    names = {"uscc", "fine_amount_10k_yuan"}
    return [spec.column_zh for spec in rtype.fields if spec.required or spec.name in names]


def write_file(path: Path, rows: int, subjects: int, seed: int, amend: float = 0.0) -> None:
    """``rows`` valid penalties over ``subjects`` organisations; with ``amend``, that share
    of the rows (drawn with their own seed) carries another fine amount."""
    rtype = load_catalogue().type(TYPE)
    by_zh = {spec.column_zh: spec for spec in rtype.fields}
    header = _header()
    rnd = random.Random(seed)
    amender = random.Random(seed + 1)
    start = dt.date(2024, 1, 2)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            who = rnd.randrange(subjects)
            code = make_uscc("9", "1", f"{110101 + who % 17:06d}", f"{who:08d}")
            name = (
                f"北京{NAME_PARTS[who % 10]}{NAME_PARTS[who // 10 % 10]}"
                f"{TRADES[who % 8]}有限公司{who}"
            )
            violation, basis = VIOLATIONS[rnd.randrange(len(VIOLATIONS))]
            fine = rnd.randrange(1, 500) / 10
            if amend and amender.random() < amend:
                fine += 1
            day = start + dt.timedelta(days=rnd.randrange(700))
            values = {
                "subject_name": name,
                "subject_category": "法人及非法人组织",
                "uscc": code,
                "decision_no": f"京市监处罚〔{day.year}〕{i + 1}号",
                "decision_date": day.isoformat(),
                "violation_type": violation,
                "violation_facts": f"当事人{violation}，经查属实。",
                "penalty_basis": basis,
                "penalty_category": "fine",
                "penalty_content": f"罚款人民币{fine:.1f}万元",
                "fine_amount_10k_yuan": f"{fine:.1f}",
                "authority": AUTHORITY,
                "authority_uscc": AUTHORITY_USCC,
                "data_source_unit": AUTHORITY,
                "data_source_unit_uscc": AUTHORITY_USCC,
            }
            out = []
            for column in header:
                spec = by_zh[column]
                if spec.name in values:
                    out.append(values[spec.name])
                elif spec.type.value == "date":
                    out.append(day.isoformat())
                else:
                    out.append("1")
            writer.writerow(out)


def raw_sqlite(path: Path, work: Path) -> tuple[float, float]:
    """Seconds (and CPU seconds) to read the file with ``csv`` and insert it with one
    ``executemany``."""
    db = work / "raw.db"
    db.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(db)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        cols = ", ".join(f"c{i} TEXT" for i in range(len(header)))
        conn.execute(f"CREATE TABLE raw ({cols})")
        marks = ", ".join("?" * len(header))
        with conn:
            conn.executemany(f"INSERT INTO raw VALUES ({marks})", reader)
    conn.close()
    return time.perf_counter() - started, time.process_time() - cpu


def raw_postgres(path: Path, url: str) -> float:
    """Seconds to COPY the file into a plain table of text columns."""
    header = _header()
    _ensure_database(url)
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS ingest_bench_raw")
        cols = ", ".join(f"c{i} text" for i in range(len(header)))
        conn.execute(f"CREATE TABLE ingest_bench_raw ({cols})")
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor().copy(
                "COPY ingest_bench_raw FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
            path.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE ingest_bench_raw")
    return seconds


#: The tables a clean penalty file's ingest fills, parents first (the FTS index of names
#: on SQLite follows ``subject_names`` by its triggers). Batches and audit events are a
#: few rows per chunk, left out.
FLOOR_TABLES = ("subjects", "subject_names", "records", "record_versions", "feed_events")


@dataclass
class Floor:
    """Seconds of the schema floor: all, and per table into the real table (stage + insert)
    and into its bare copy; on PostgreSQL the foreign-key checks' share from EXPLAIN ANALYZE."""

    seconds: float = 0.0
    #: CPU seconds of this process (SQLite's work; 0 on PostgreSQL, whose work is the server's).
    cpu: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    real: dict[str, float] = field(default_factory=dict)
    bare: dict[str, float] = field(default_factory=dict)
    fk: dict[str, float] = field(default_factory=dict)


def _sqlite_columns(conn: sqlite3.Connection, name: str) -> list[str]:
    """The columns an INSERT names (generated and hidden ones left out)."""
    return [row[1] for row in conn.execute(f"PRAGMA table_xinfo({name})") if row[6] == 0]


def keep_sqlite(db: Path, work: Path) -> Path:
    """The rows the ingest stored, copied aside before the next runs add to them."""
    kept = work / "floor_rows.db"
    kept.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("ATTACH DATABASE ? AS kept", (str(kept),))
    for name in FLOOR_TABLES:
        cols = ", ".join(_sqlite_columns(conn, name))
        conn.execute(f"CREATE TABLE kept.{name} AS SELECT {cols} FROM main.{name} ORDER BY id")
    conn.commit()
    conn.close()
    return kept


def floor_sqlite(kept: Path, url: str) -> Floor:
    """Each table's rows read from ``kept`` and ``executemany``-d into a temporary table,
    then one ``INSERT ... SELECT`` into the real table; one transaction, the pragmas the
    store's engine sets. Then the same into bare copies (no index, key or trigger)."""
    db = Path(url.removeprefix("sqlite:///"))
    floor = Floor()
    for bare in (False, True):
        conn = sqlite3.connect(db, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        source = sqlite3.connect(kept)
        for name in FLOOR_TABLES:
            floor.rows[name] = source.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        started, cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        for name in FLOOR_TABLES:
            # CPU seconds: SQLite works in this process, and on a shared machine its CPU
            # time is steadier than the wall time.
            begun = time.process_time()
            cols = _sqlite_columns(source, name)
            listed = ", ".join(cols)
            target = f"bare_{name}" if bare else name
            if bare:
                conn.execute(f"CREATE TABLE {target} AS SELECT {listed} FROM {name} WHERE 0")
            conn.execute(f"CREATE TEMP TABLE stage_{name} AS SELECT {listed} FROM {name} WHERE 0")
            marks = ", ".join("?" * len(cols))
            conn.executemany(
                f"INSERT INTO stage_{name} VALUES ({marks})",
                source.execute(f"SELECT {listed} FROM {name}"),
            )
            conn.execute(f"INSERT INTO {target} ({listed}) SELECT {listed} FROM stage_{name}")
            conn.execute(f"DROP TABLE stage_{name}")
            (floor.bare if bare else floor.real)[name] = time.process_time() - begun
        conn.execute("COMMIT")
        if not bare:
            floor.seconds = time.perf_counter() - started
            floor.cpu = time.process_time() - cpu
        source.close()
        conn.close()
    return floor


def keep_postgres(url: str, work: Path) -> Path:
    """The rows the ingest stored, one COPY file a table, before the next runs add to them."""
    folder = work / "floor_rows"
    folder.mkdir(exist_ok=True)
    with psycopg.connect(_psycopg_url(url)) as conn:
        for name in FLOOR_TABLES:
            cols = ", ".join(_pg_columns(conn, name))
            with (
                conn.cursor().copy(
                    f"COPY (SELECT {cols} FROM {name} ORDER BY id) TO STDOUT"
                ) as copy,
                (folder / f"{name}.copy").open("wb") as handle,
            ):
                for block in copy:
                    handle.write(block)
    return folder


def _pg_columns(conn: psycopg.Connection[Any], name: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
        (name,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def floor_postgres(folder: Path, url: str) -> Floor:
    """Each table's rows COPY-ed into a temporary table, then one ``INSERT ... SELECT``
    into the real table under EXPLAIN ANALYZE (its foreign-key triggers' time); one
    transaction. Then the same into bare copies (no index, key or trigger)."""
    floor = Floor()
    for bare in (False, True):
        with psycopg.connect(_psycopg_url(url)) as conn:
            started = time.perf_counter()
            for name in FLOOR_TABLES:
                begun = time.perf_counter()
                cols = ", ".join(_pg_columns(conn, name))
                target = f"bare_{name}" if bare else name
                if bare:
                    conn.execute(f"CREATE TABLE {target} AS SELECT {cols} FROM {name} WITH NO DATA")
                conn.execute(
                    f"CREATE TEMP TABLE stage_{name} ON COMMIT DROP AS "
                    f"SELECT {cols} FROM {name} WITH NO DATA"
                )
                with (
                    conn.cursor().copy(f"COPY stage_{name} FROM STDIN") as copy,
                    (folder / f"{name}.copy").open("rb") as handle,
                ):
                    while block := handle.read(1 << 20):
                        copy.write(block)
                plan = conn.execute(
                    f"EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO {target} ({cols}) "
                    f"OVERRIDING SYSTEM VALUE SELECT {cols} FROM stage_{name}"
                ).fetchone()
                (floor.bare if bare else floor.real)[name] = time.perf_counter() - begun
                if not bare and plan is not None:
                    triggers = plan[0][0].get("Triggers", [])
                    floor.fk[name] = (
                        sum(
                            t["Time"]
                            for t in triggers
                            if "RI_Constraint" in t.get("Trigger Name", "")
                        )
                        / 1000
                    )
                    floor.rows[name] = int(plan[0][0]["Plan"]["Plans"][0]["Actual Rows"])
            conn.commit()
            if not bare:
                floor.seconds = time.perf_counter() - started
    return floor


FLOOR_COLUMNS = ("store", "table", "rows", "real s", "bare s", "real − bare s", "FK checks s")


def floor_cells(store: str, floor: Floor) -> list[list[str]]:
    rows, real, bare, fk = floor.rows, floor.real, floor.bare, floor.fk
    return [
        [
            store,
            name,
            f"{rows.get(name, 0):,}",
            f"{real[name]:.2f}",
            f"{bare[name]:.2f}",
            f"{real[name] - bare[name]:.2f}",
            f"{fk[name]:.2f}" if name in fk else "",
        ]
        for name in FLOOR_TABLES
    ]


def _env(url: str, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BONAFIDES_DB=url,
        BONAFIDES_SECRET_KEY=SECRET,
        BONAFIDES_DEMO="1",
        BONAFIDES_DATA_DIR=str(work / "data"),
    )
    return env


def _child(args: list[str], url: str, work: Path) -> tuple[float, float, int, float]:
    """Run a bonafides command; (seconds, peak RSS in MB, exit code, CPU seconds)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BONAFIDES), *args],
        env=_env(url, work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"bonafides {' '.join(args)} failed ({proc.returncode}): {stderr}")
    return seconds, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def fresh_store(store: str, work: Path, pg: str) -> str:
    if store == "sqlite":
        db = work / "ingest.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    else:
        url = pg
        with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    _child(["init"], url, work)
    return url


def ingest(path: Path, url: str, report: Path) -> tuple[float, float, dict[str, int], float]:
    """Seconds, peak RSS, the report's counts and CPU seconds of one ``bonafides ingest``."""
    seconds, rss, code, cpu = _child(
        ["ingest", str(path), "--type", TYPE, "--source", SOURCE, "--report", str(report)],
        url,
        report.parent,
    )
    if code != 0:
        raise SystemExit(f"ingest rejected rows of a clean file: see {report}")
    counts: dict[str, int] = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return seconds, rss, counts, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=None, help="rows (default 5 per subject, or 200,000)"
    )
    parser.add_argument(
        "--subjects", type=int, default=None, help="distinct subjects (default rows / 5)"
    )
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--db", default="postgresql+psycopg:///bonafides_ingest_bench")
    parser.add_argument("--amend", type=float, default=0.1, help="share of amended rows")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--work", type=Path, default=None, help="folder for files and stores")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    parser.add_argument(
        "--new-only",
        action="store_true",
        help="only the first load of the file: no resubmission, no amended file, no floor "
        "(a large run on a machine short of disk: the floor copies the store twice)",
    )
    args = parser.parse_args()
    args.rows = args.rows or (5 * args.subjects if args.subjects else 200_000)
    subjects = args.subjects or max(1, args.rows // 5)
    console = Console(width=160)
    work = args.work or Path(tempfile.mkdtemp(prefix="ingest_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    first, amended = work / "penalties.csv", work / "penalties_amended.csv"
    started = time.perf_counter()
    write_file(first, args.rows, subjects, args.seed)
    if not args.new_only:
        write_file(amended, args.rows, subjects, args.seed, amend=args.amend)
    size = first.stat().st_size / 2**20
    console.print(
        f"wrote {args.rows:,} rows over {subjects:,} subjects ({size:,.0f} MB each) "
        f"in {time.perf_counter() - started:.1f} s to {work}"
    )
    results: list[Measured] = []
    floors: dict[str, Floor] = {}
    for store in args.stores.split(","):
        raw, raw_cpu = (
            raw_sqlite(first, work) if store == "sqlite" else (raw_postgres(first, args.db), 0.0)
        )
        raw_rate = args.rows / raw
        results.append(Measured(store, "raw load (baseline)", args.rows, raw, cpu=raw_cpu))
        url = fresh_store(store, work, args.db)
        runs: list[Measured] = []
        kept: Path | None = None
        plan = [
            ("ingest, new file", first, "≥ 0.5"),
            ("resubmitted, all unchanged", first, "≥ first load"),
            (f"{args.amend:.0%} of rows amended", amended, ""),
        ]
        for run, path, target in plan[:1] if args.new_only else plan:
            seconds, rss, counts, cpu = ingest(path, url, work / "report.json")
            runs.append(
                Measured(
                    store, run, args.rows, seconds, raw_rate, rss_mb=rss, target=target, cpu=cpu
                )
            )
            console.print(f"{store}: {run}: {seconds:.1f} s, {counts}")
            if kept is None and not args.new_only:
                kept = (
                    keep_sqlite(work / "ingest.db", work)
                    if store == "sqlite"
                    else keep_postgres(url, work)
                )
        if kept is None:
            results.extend(runs)
            continue
        url = fresh_store(store, work, args.db)
        floor = floor_sqlite(kept, url) if store == "sqlite" else floor_postgres(kept, url)
        floors[store] = floor
        results.append(
            Measured(
                store,
                "schema floor (baseline)",
                args.rows,
                floor.seconds,
                raw_rate,
                cpu=floor.cpu,
            )
        )
        for measured in runs:
            measured.floor_rate = args.rows / floor.seconds
        results.extend(runs)
        console.print(f"{store}: schema floor: {floor.seconds:.1f} s")
    table = Table(title=f"ingest_bench: {args.rows:,} penalties over {subjects:,} subjects")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("store", "run") else "right")
    for measured in results:
        table.add_row(*measured.cells())
    console.print(table)
    parts = Table(
        title="schema floor by table: seconds into the real table and its bare copy "
        "(SQLite: CPU s; PostgreSQL: wall s)"
    )
    for column in FLOOR_COLUMNS:
        parts.add_column(column, justify="left" if column in ("store", "table") else "right")
    part_rows = [row for store, floor in floors.items() for row in floor_cells(store, floor)]
    for row in part_rows:
        parts.add_row(*row)
    console.print(parts)
    if not args.no_results:
        description = (
            f"`benchmarks/ingest_bench.py --rows {args.rows} --subjects {subjects}`: a clean "
            f"CSV of {args.rows:,} `{TYPE}` rows ({size:,.0f} MB, UTF-8, Chinese headers) "
            f"over {subjects:,} subjects, `bonafides ingest` in a child process against "
            "the raw load of the same file (SQLite executemany, PostgreSQL COPY)."
        )
        append_results("ingest_bench", description, COLUMNS, [m.cells() for m in results])
        append_results(
            "ingest_bench schema floor by table",
            "Each table of the floor (see above): stage + INSERT ... SELECT into the real "
            "table, and into a bare copy of it (no index, key or trigger); SQLite in CPU "
            "seconds of this process, PostgreSQL in wall seconds, with the foreign-key "
            "triggers' time from EXPLAIN ANALYZE of the real INSERT.",
            FLOOR_COLUMNS,
            part_rows,
        )


if __name__ == "__main__":
    main()
