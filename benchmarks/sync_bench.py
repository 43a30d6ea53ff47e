"""A federation sync between two local instances beside COPY TO plus COPY FROM.

On PostgreSQL: a province store gets ``--records`` decisions through the real write path
(events and all) and is served by a real uvicorn process; a nation store pulls it with
``bonafides.app.sync.pull`` over HTTP, batches of ``--batch`` events, each verified and
applied in one transaction (records, versions, list refresh, audit, the nation's own
feed events). The baseline moves the same rows of ``records`` from the province to the
nation with ``COPY (SELECT ...) TO STDOUT`` and ``COPY ... FROM STDIN`` (nothing else:
no versions, no events, no checks). Rows per second of each, and the ratio::

    .venv/bin/python benchmarks/sync_bench.py --records 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bonafides.app.sync import HttpTransport, pull
from bonafides.context import Context
from bonafides.settings import Settings, get_settings
from bonafides.store.db import make_engine, migrate
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import Record

sys.path.insert(0, str(Path(__file__).parent))
from feed_bench import decisions
from proc_cpu import backends, process_cpu, spent

RESULTS = Path(__file__).with_name("RESULTS.md")
SECRET = "sync-bench-secret-0123456789abcdef"
COLUMNS = (
    "subject_id, type_code, source, decision_no, party, decision_date, received_at, status, "
    "severity, legal_basis, published_until, retention_until, version, content, "
    "content_digest, updated_at"
)
console = Console()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bonafides.api.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the province did not start") from None
                time.sleep(0.2)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


#: CPU seconds of the sync, this process (the puller) and the source's server: the
#: machine is shared, so the wall time alone says little.
CPU: dict[str, float] = {}


def _backends(urls: Sequence[str]) -> dict[int, float]:
    """The two stores' backends (a floor: one that ends between two looks is missed)."""
    return backends(_plain(urls[0]), [str(make_url(url).database) for url in urls])


def _as(name: str) -> None:
    os.environ["BONAFIDES_INSTANCE"] = name
    get_settings.cache_clear()


def _key(ctx: Context) -> str:
    from bonafides.security import apikeys
    from bonafides.security.accounts import create_account
    from bonafides.security.roles import Role

    with ctx.sessions.begin() as session:
        account = create_account(
            session,
            ctx.catalogue,
            ctx.keys,
            ctx.clock,
            username="peer",
            role=Role.OPERATOR,
            display_name="peer",
            password=None,
            actor="bench",
        )
        return apikeys.issue_key(
            session, ctx.clock, account, name="sync", scopes=["files:read"], actor="bench"
        ).token


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def copy_baseline(province: str, nation: str) -> tuple[int, float]:
    """Rows moved and seconds; its CPU seconds (this process and both server backends)
    go to ``CPU``."""
    moved = 0
    with psycopg.connect(_plain(province)) as src, psycopg.connect(_plain(nation)) as dst:
        pids = [conn.info.backend_pid for conn in (src, dst)]
        started, cpu = time.perf_counter(), time.process_time()
        servers = sum(process_cpu(p) for p in pids)
        dst.execute(f"CREATE TABLE bench_records AS SELECT {COLUMNS} FROM records WITH NO DATA")
        with (
            src.cursor().copy(f"COPY (SELECT {COLUMNS} FROM records) TO STDOUT") as out,
            dst.cursor().copy(f"COPY bench_records ({COLUMNS}) FROM STDIN") as into,
        ):
            for chunk in out:
                into.write(chunk)
        dst.commit()
        moved = int(dst.execute("SELECT count(*) FROM bench_records").fetchone()[0])  # type: ignore[index]
        took = time.perf_counter() - started
        CPU["baseline"] = time.process_time() - cpu + sum(process_cpu(p) for p in pids) - servers
        dst.execute("DROP TABLE bench_records")
        dst.commit()
    return moved, took


def run(
    province: str, nation: str, records: int, batch: int, folder: Path
) -> list[tuple[str, int, float]]:
    for url in (province, nation):
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
    _as("gd")
    src = Context(Settings(db=province, secret_key=SECRET, data_dir=folder / "gd"))
    try:
        with src.sessions.begin() as session:
            sync_catalogue(session, src.catalogue)
        items = decisions(records)
        for start in range(0, len(items), 1000):
            with src.sessions.begin() as session:
                write_records(session, src.keys, items[start : start + 1000], actor="bench")
        key = _key(src)
    finally:
        src.close()
    rows = [("COPY TO + COPY FROM (baseline)", *copy_baseline(province, nation))]
    env = {
        "BONAFIDES_DB": province,
        "BONAFIDES_SECRET_KEY": SECRET,
        "BONAFIDES_DATA_DIR": str(folder / "gd"),
        "BONAFIDES_INSTANCE": "gd",
    }
    _as("nation")
    dst = Context(Settings(db=nation, secret_key=SECRET, data_dir=folder / "nation"))
    try:
        with dst.sessions.begin() as session:
            sync_catalogue(session, dst.catalogue)
        with serving(env) as (url, pid):
            served, backends_ = process_cpu(pid), _backends([province, nation])
            started, cpu = time.perf_counter(), time.process_time()
            pull(dst, HttpTransport(url, key), url, actor="bench", limit=batch)
            took = time.perf_counter() - started
            CPU["puller"] = time.process_time() - cpu
            CPU["source"] = process_cpu(pid) - served
            CPU["PostgreSQL (both stores)"] = spent(backends_, _backends([province, nation]))
        with dst.sessions() as session:
            held = int(session.scalar(select(func.count()).select_from(Record)) or 0)
    finally:
        dst.close()
    rows.append((f"bonafides sync, batches of {batch}", held, took))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--pg", default="postgresql+psycopg:///postgres", help="Admin URL.")
    parser.add_argument("--no-results", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args(argv)
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    names = [f"bonafides_sync_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        urls = [
            make_url(args.pg).set(database=n).render_as_string(hide_password=False) for n in names
        ]
        with tempfile.TemporaryDirectory() as folder:
            measured = run(urls[0], urls[1], args.records, args.batch, Path(folder))
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    table = Table(title=f"sync_bench: {args.records:,} records, PostgreSQL to PostgreSQL")
    for column in ("how", "rows", "seconds", "rows/s", "/ baseline"):
        table.add_column(column, justify="left" if column == "how" else "right")
    base = measured[0][1] / measured[0][2]
    lines = []
    for label, count, seconds in measured:
        rate = count / seconds
        row = (label, f"{count:,}", f"{seconds:.2f}", f"{rate:,.0f}", f"{rate / base:.3f}")
        table.add_row(*row)
        lines.append("| " + " | ".join(row) + " |")
    console.print(table)
    load = os.getloadavg()[0]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {load:.1f}"
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in CPU.items())
    machine = f"{machine}; CPU seconds of the baseline and of the sync's processes: {cpu}"
    console.print(machine)
    if not args.no_results:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(
                f"\n### sync_bench {dt.date.today()} ({args.records:,} records; {machine})\n\n"
                "| how | rows | seconds | rows/s | / baseline |\n"
                "|---|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n"
            )


if __name__ == "__main__":
    main()
