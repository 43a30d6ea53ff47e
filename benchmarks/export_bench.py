"""Open-data export to Parquet against a raw dump of the same rows, on both stores.

N public records (``--subjects`` companies with ``--records-per-subject`` each) are
exported with ``bonafides.app.exports.make_export`` (Parquet, snapshot). The baseline,
measured in the same run, is the cheapest way to get the same rows out of the same store:
on PostgreSQL ``COPY (SELECT ...) TO STDOUT`` of the export's own statement (the same
columns and the same public rule) into a file; on SQLite that statement's rows fetched and
written as CSV. Target: the export within 2x of the baseline. Memory: the growth of the
process's peak RSS during the export (batches of 5,000 rows; it should not grow with N).
CPU seconds of each beside its wall time (this process, plus on PostgreSQL the server
backends of the store's database), since on a shared machine wall time is mostly waiting::

    .venv/bin/python benchmarks/export_bench.py --subjects 50000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bonafides.app.exports import make_export
from bonafides.catalogue import load_catalogue
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.exchange.sinks import ExportFormat
from bonafides.rules.loader import rules_for
from bonafides.settings import Settings
from bonafides.store.db import migrate
from bonafides.store.disclosure import record_is_public
from bonafides.store.exports import RECORD_COLUMNS
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import Record, RecordType, Subject
from proc_cpu import backends, process_cpu, spent
from web_bench import SECRET, _ensure_database, _psycopg_url, append_results
from web_bench import load as load_postgres

TODAY = dt.date.today()
PG_URL = "postgresql+psycopg:///bonafides_export_bench"


def _statement(today: dt.date) -> object:
    """The export's own read of public records, without the batching."""
    return (
        select(*RECORD_COLUMNS)
        .select_from(Record)
        .join(RecordType, RecordType.code == Record.type_code)
        .join(Subject, Subject.id == Record.subject_id)
        .where(record_is_public(today))
    )


def _sql(dialect: object, today: dt.date) -> str:
    return str(
        _statement(today).compile(  # type: ignore[attr-defined]
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
    )


def load_sqlite(path: Path, subjects: int, per_subject: int, console: Console) -> None:
    """The same shape of data as web_bench's PostgreSQL load, by executemany."""
    url = f"sqlite:///{path}"
    ctx = Context(Settings(db=url, secret_key=SECRET))
    migrate(ctx.engine)
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    ctx.close()
    catalogue = load_catalogue()
    types = [
        (t.code, next(s for s in (*t.sources, "samr") if s != "*"))
        for t in catalogue.types
        if t.disclosure.value == "public" and t.publication.published
    ]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO subjects (id, key, kind, code_display, name, region, status, created_at, "
        "updated_at) VALUES (?, ?, 'legal_person', ?, ?, '110105', 'active', ?, ?)",
        (
            (sid, code, code, f"北京基准测试{sid}有限公司", now, now)
            for sid in range(1, subjects + 1)
            for code in [make_uscc("9", "1", "110105", f"{sid:08d}")]
        ),
    )

    def records() -> object:
        for sid in range(1, subjects + 1):
            for k in range(per_subject):
                type_code, source = types[(sid + k) % len(types)]
                decided = TODAY - dt.timedelta(days=(sid * 7 + k) % 700)
                number = f"BENCH-{sid}-{k}"
                content = json.dumps({"decision_no": number, "decision_date": decided.isoformat()})
                yield (
                    sid, type_code, source, number, "", decided.isoformat(), now, "active",
                    "《中华人民共和国行政处罚法》", (decided + dt.timedelta(days=730)).isoformat(),
                    (decided + dt.timedelta(days=1825)).isoformat(), 1, content, f"{sid:064x}", now,
                )  # fmt: skip

    conn.executemany(
        "INSERT INTO records (subject_id, type_code, source, decision_no, party, decision_date, "
        "received_at, status, legal_basis, published_until, retention_until, version, content, "
        "content_digest, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        records(),  # type: ignore[arg-type]
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    console.print(f"sqlite store loaded in {time.perf_counter() - started:.0f} s")


def _backends(url: str) -> dict[int, float]:
    """The store's backends (a floor: parallel workers that end between looks are missed)."""
    return backends(_psycopg_url(url), [url.rsplit("/", 1)[1]])


def _records(url: str) -> int:
    with psycopg.connect(_psycopg_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM records").fetchone()
        return int(row[0]) if row else 0


def baseline_postgres(url: str, out: Path) -> tuple[float, int, float]:
    """Seconds, rows and CPU seconds (this process and the server backend)."""
    sql = _sql(postgresql.dialect(), TODAY)  # type: ignore[no-untyped-call]
    with psycopg.connect(_psycopg_url(url)) as conn:
        backend = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        started, cpu, server = time.perf_counter(), time.process_time(), process_cpu(backend)
        rows = 0
        with out.open("wb") as f, conn.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT") as copy:
            for block in copy:
                f.write(block)
                rows += bytes(block).count(b"\n")
        spent = time.perf_counter() - started
        cpu = time.process_time() - cpu + process_cpu(backend) - server
    return spent, rows, cpu


def baseline_sqlite(path: Path, out: Path) -> tuple[float, int, float]:
    sql = _sql(sqlite.dialect(), TODAY)
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    conn = sqlite3.connect(path)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        cursor = conn.execute(sql)
        while batch := cursor.fetchmany(5000):
            writer.writerows(batch)
            rows += len(batch)
    conn.close()
    return time.perf_counter() - started, rows, time.process_time() - cpu


def export(url: str, out: Path) -> tuple[float, int, float, float]:
    """Seconds, rows, peak RSS growth (MB) and CPU seconds (with the server's on
    PostgreSQL: the export's backend is still pooled when it is looked at)."""
    ctx = Context(Settings(db=url, secret_key=SECRET, data_dir=out))
    rules_for(ctx.catalogue)  # parsed once per process (YAML), not per export: not timed
    postgres = ctx.engine.dialect.name == "postgresql"
    server = _backends(url) if postgres else {}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    _, manifest = make_export(ctx, ExportFormat.PARQUET, out=out)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    if postgres:
        cpu += spent(server, _backends(url))
    ctx.close()
    return took, int(manifest["files"]["records.parquet"]["rows"]), grown, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=50_000)
    parser.add_argument("--records-per-subject", type=int, default=2)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--db", default=PG_URL, help="PostgreSQL store (made and filled).")
    parser.add_argument("--results", action="store_true", help="Append to RESULTS.md.")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep a PostgreSQL store that has the rows already."
    )
    args = parser.parse_args()
    console = Console()
    table = Table(
        "store", "rows", "baseline", "baseline s", "export s", "rows/s", "export / baseline",
        "baseline CPU s", "export CPU s", "CPU export / baseline", "peak RSS growth MB",
    )  # fmt: skip
    cells = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for store in args.stores.split(","):
            if store == "sqlite":
                path = work / "bench.db"
                load_sqlite(path, args.subjects, args.records_per_subject, console)
                url = f"sqlite:///{path}"
                base_s, base_rows, base_cpu = baseline_sqlite(path, work / "baseline.csv")
                name = "SELECT to CSV"
            else:
                url = args.db
                _ensure_database(url)
                ctx = Context(Settings(db=url, secret_key=SECRET))
                migrate(ctx.engine)
                ctx.close()
                if not args.reuse or _records(url) != args.subjects * args.records_per_subject:
                    load_postgres(url, args.subjects, args.records_per_subject, console)
                base_s, base_rows, base_cpu = baseline_postgres(url, work / "baseline.copy")
                name = "COPY (SELECT) TO"
            spent, rows, grown, cpu = export(url, work / f"out-{store}")
            assert rows == base_rows, (rows, base_rows)
            row = [
                store, f"{rows:,}", name, f"{base_s:.2f}", f"{spent:.2f}",
                f"{rows / spent:,.0f}", f"{spent / base_s:.2f}x", f"{base_cpu:.2f}",
                f"{cpu:.2f}", f"{cpu / base_cpu:.2f}x", f"{grown:.0f}",
            ]  # fmt: skip
            table.add_row(*row)
            cells.append(row)
    console.print(table)
    if args.results:
        append_results(
            "export_bench",
            f"`benchmarks/export_bench.py --subjects {args.subjects} --records-per-subject "
            f"{args.records_per_subject}`: a Parquet snapshot of every public record against "
            "a raw dump of the same statement's rows, target within 2x. CPU: this process "
            "plus, on PostgreSQL, the server backends.",
            [str(c.header) for c in table.columns],
            cells,
        )


if __name__ == "__main__":
    main()
