"""Portal/API load benchmark: subject profile and name search against a trivial endpoint.

The real app runs under uvicorn with two worker processes on PostgreSQL; wrk (a client
in C, from Debian's package, so that the load costs the two shared cores little) keeps
``--connections`` HTTP/1.1 connections busy on loopback for ``--seconds`` per endpoint,
each request a random path of the sample. The baseline, measured in the same run, is
``/api/v1/health``: one ``SELECT 1`` through the same stack and the same connection pool,
the ceiling that the two real endpoints are held against. Each run also reports the CPU
time the server's workers and PostgreSQL spent per request, read from /proc: on shared
cores that is steadier than the rate, and it is what sizing a deployment needs.

The store is filled once with COPY (subjects, names and records; no version rows, which
no read touches) and reused by later runs of the same size::

    .venv/bin/python benchmarks/web_bench.py --subjects 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from bonafides.catalogue import load_catalogue
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue

RESULTS = Path(__file__).with_name("RESULTS.md")
SECRET = "web-bench-secret-0123456789abcdef"
TODAY = dt.date.today()

_CITIES = [
    ("杭州", "330106"), ("宁波", "330203"), ("温州", "330302"), ("南京", "320102"),
    ("苏州", "320505"), ("无锡", "320214"), ("合肥", "340102"), ("福州", "350102"),
    ("厦门", "350203"), ("济南", "370102"), ("青岛", "370202"), ("郑州", "410102"),
    ("武汉", "420102"), ("长沙", "430102"), ("广州", "440103"), ("深圳", "440303"),
    ("成都", "510104"), ("重庆", "500103"), ("西安", "610102"), ("北京", "110105"),
]  # fmt: skip
_TRADE = "鑫源恒达华信博远天成瑞丰宏图金泰永安嘉和盛世隆昌中联新创汇通宇航祥云佳美锦程东方"
_TRADE += "长江海纳明德正元凯旋众诚信达同仁德润方圆"
_SECTORS = [
    "贸易", "科技", "建设工程", "食品", "物流", "医药", "化工", "电子", "纺织", "餐饮管理",
    "房地产开发", "机械制造", "农业开发", "文化传媒", "环保科技", "汽车销售", "建材", "服装",
]  # fmt: skip
_FORMS = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"]


def _name(rnd: random.Random, city: str) -> str:
    trade = "".join(rnd.sample(_TRADE, 2))
    return f"{city}{trade}{rnd.choice(_SECTORS)}{rnd.choice(_FORMS)}"


def _typo(rnd: random.Random, name: str) -> str:
    """The name with one character replaced, as a clerk might mistype it: inside the name
    where it is long enough, anywhere in a short one (a person's two or three hanzi)."""
    i = rnd.randrange(2, len(name) - 2) if len(name) > 4 else rnd.randrange(len(name))
    return name[:i] + rnd.choice(_TRADE) + name[i + 1 :]


# --------------------------------------------------------------------------- the store


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres", drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def _loaded(url: str) -> int:
    with psycopg.connect(_psycopg_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM subjects").fetchone()
        return int(row[0]) if row else 0


def _rows(rows: Iterator[tuple[object, ...]]) -> Iterator[bytes]:
    """Tab-separated COPY text, a chunk at a time."""
    buffer = io.StringIO()
    for n, row in enumerate(rows, 1):
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
        if n % 20_000 == 0:
            yield buffer.getvalue().encode()
            buffer = io.StringIO()
    yield buffer.getvalue().encode()


def load(
    url: str, subjects: int, records_per_subject: int, console: Console, partitions: int = 0
) -> None:
    """Subjects with a current and a former name and their records, by COPY."""
    started = time.perf_counter()
    settings = Settings(db=url, secret_key=SECRET)
    ctx = Context(settings)
    migrate(ctx.engine, partitions=partitions)
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    ctx.close()
    catalogue = load_catalogue()
    types = [
        (t.code, next(s for s in (*t.sources, "samr") if s != "*"))
        for t in catalogue.types
        if t.disclosure.value == "public" and t.publication.published
    ]
    rnd = random.Random(7)
    now = dt.datetime.now(dt.UTC).isoformat()
    with psycopg.connect(_psycopg_url(url)) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE subjects, subject_names, records RESTART IDENTITY CASCADE")
        subject_rows = []
        name_rows = []
        for sid in range(1, subjects + 1):
            city, region = rnd.choice(_CITIES)
            name = _name(rnd, city)
            code = make_uscc("9", "1", region, f"{sid:08d}")
            subject_rows.append(
                (sid, code, "legal_person", code, None, name, None, region, None, "active")
            )
            name_rows.append((sid, name, "zh", "t"))
            if sid % 5 == 0:
                former = _name(rnd, city)
                while former == name:
                    former = _name(rnd, city)
                name_rows.append((sid, former, "zh", "f"))
        with cur.copy(
            "COPY subjects (id, key, kind, code_display, code_cipher, name, name_en, region, "
            "industry, status, created_at, updated_at) FROM STDIN"
        ) as copy:
            for chunk in _rows((*r, now, now) for r in subject_rows):
                copy.write(chunk)
        with cur.copy("COPY subject_names (subject_id, name, lang, current) FROM STDIN") as copy:
            for chunk in _rows(iter(name_rows)):
                copy.write(chunk)
        console.print(f"subjects and names copied in {time.perf_counter() - started:.0f} s")

        def record_rows() -> Iterator[tuple[object, ...]]:
            for sid in range(1, subjects + 1):
                for k in range(records_per_subject):
                    type_code, source = types[(sid + k) % len(types)]
                    decided = TODAY - dt.timedelta(days=rnd.randrange(0, 700))
                    number = f"BENCH-{sid}-{k}"
                    content = json.dumps(
                        {"decision_no": number, "decision_date": decided.isoformat()}
                    )
                    yield (
                        sid, type_code, source, number, decided, now, "active", None,
                        "《中华人民共和国行政处罚法》", decided + dt.timedelta(days=730),
                        decided + dt.timedelta(days=1825), 1, content, f"{sid:064x}", now,
                    )  # fmt: skip

        columns = (
            "subject_id, type_code, source, decision_no, decision_date, received_at, status, "
            "severity, legal_basis, published_until, retention_until, version, content, "
            "content_digest, updated_at"
        )
        cur.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'records' AND column_name = 'party'"
        )
        # One subject per decision number here, so the party that tells them apart is empty.
        party = cur.fetchone() is not None
        rows = ((*r, "") for r in record_rows()) if party else record_rows()
        with cur.copy(f"COPY records ({columns}{', party' if party else ''}) FROM STDIN") as copy:
            for chunk in _rows(rows):
                copy.write(chunk)
        cur.execute("SELECT setval(pg_get_serial_sequence('subjects', 'id'), %s)", (subjects,))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE subjects, subject_names, records")
    console.print(f"store loaded in {time.perf_counter() - started:.0f} s")


def prewarm(url: str, console: Console) -> None:
    """Read the tables and indexes the endpoints use into memory, as a server that has run
    a while has them; otherwise the first seconds measure the disk."""
    started = time.perf_counter()
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        relations = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND ("
            "c.relname IN ('subjects', 'subject_names', 'records', 'record_types') "
            "OR c.relname LIKE 'ix_subject%' OR c.relname LIKE 'uq_subject%' "
            "OR c.relname LIKE 'ix_records%' OR c.relname LIKE 'pk_subject%' "
            # A partitioned store's records are in its partitions and their indexes.
            "OR c.relname ~ '^records_p[0-9]+(_subject_id_type_code_idx)?$')"
        ).fetchall()
        for (relation,) in relations:
            conn.execute("SELECT pg_prewarm(%s, 'read')", (relation,))
    console.print(
        f"{len(relations)} relations read into memory in {time.perf_counter() - started:.0f} s"
    )


def samples(url: str, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Codes for the profile requests and misspelt names for the searches."""
    rnd = random.Random(seed)
    with psycopg.connect(_psycopg_url(url)) as conn:
        rows = conn.execute(
            "SELECT code_display, name FROM subjects TABLESAMPLE SYSTEM (5) LIMIT %s", (n,)
        ).fetchall()
    codes = [str(code) for code, _ in rows]
    queries = [_typo(rnd, str(name)) for _, name in rows]
    return codes, queries


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(port: int, workers: int) -> None:
    """The server as ``bonafides serve`` runs it (``bonafides.api.server``), quieter."""
    from bonafides.api.server import run

    run("127.0.0.1", port, workers=workers, log_level="warning", access_log=False)


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BONAFIDES_DB": url,
        "BONAFIDES_SECRET_KEY": SECRET,
        # Every request comes from one address here; the per-address limit is not measured.
        "BONAFIDES_SEARCH_RATE_PER_MINUTE": str(10**9),
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--workers", str(workers)], env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within 60 s")


# --------------------------------------------------------------------------- the client

#: wrk runs this: a random path of the list per request, and the figures as one JSON
#: line at the end. Latencies are wrk's own, in microseconds, per request.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WEB_BENCH_PATHS")) do paths[#paths + 1] = line end
math.randomseed(tonumber(os.getenv("WEB_BENCH_SEED")))
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "micros": %d, "p50": %d, "p95": %d, "p99": %d, "status": %d, ' ..
    '"socket": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Run:
    name: str
    requests: int = 0
    seconds: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    #: Answers other than 2xx/3xx, and connections that failed or timed out.
    errors: int = 0
    #: CPU seconds the server's workers and PostgreSQL spent per request, in ms.
    server_cpu: float = 0.0
    db_cpu: float = 0.0
    #: Connections per worker, busiest first (``_split``).
    split: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process started in between counts whole."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def _postgres() -> list[int]:
    return [pid for pid, (_, comm) in _processes().items() if comm == "postgres"]


def _split(port: int, workers: list[int]) -> str:
    """How the client's connections are spread over the workers, busiest first.

    The workers share one listening socket and a worker that wakes first accepts a
    whole burst of new connections, so an even split is luck; the rate follows it.
    """
    ss = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    held = [int(pid) for pid in re.findall(r"pid=(\d+)", ss) if int(pid) in workers]
    return "/".join(str(held.count(w)) for w in sorted(workers, key=held.count, reverse=True))


def _processes() -> dict[int, tuple[int, str]]:
    """Every process's parent and command name, from /proc."""
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split(") ", 1)
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[int(entry.name)] = (int(rest.split()[1]), name.split(" (", 1)[1])
    return found


def _descendants(root: int, table: dict[int, tuple[int, str]]) -> list[int]:
    out, todo = [], [root]
    while todo:
        parent = todo.pop()
        children = [pid for pid, (ppid, _) in table.items() if ppid == parent]
        out += children
        todo += children
    return out


def measure(
    name: str, port: int, paths: list[str], seconds: float, connections: int, server: int
) -> Run:
    """``seconds`` of wrk on ``connections`` connections, after two seconds of warm-up."""
    with tempfile.TemporaryDirectory() as tmp:
        script, listing = Path(tmp, "bench.lua"), Path(tmp, "paths.txt")
        script.write_text(WRK_SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "WEB_BENCH_PATHS": str(listing), "WEB_BENCH_SEED": "1"}
        url = f"http://127.0.0.1:{port}"

        def wrk(duration: float, conns: int) -> str:
            args = ["wrk", "-t1", f"-c{conns}", f"-d{duration:g}s", "-s", str(script), url]
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
            return done.stdout

        wrk(2, connections)
        workers = [
            pid
            for pid in _descendants(server, _processes())
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        before = _cpu_seconds(workers), _cpu_seconds(_postgres())
        args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url]
        with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True) as client:
            time.sleep(min(1.0, seconds / 2))
            split = _split(port, workers)
            out, _ = client.communicate()
        if client.returncode != 0:
            raise RuntimeError(f"wrk failed with exit code {client.returncode}")
        after = _cpu_seconds(workers), _cpu_seconds(_postgres())
    figures = json.loads(out.strip().splitlines()[-1])
    n = max(figures["requests"], 1)
    return Run(
        name,
        requests=figures["requests"],
        seconds=figures["micros"] / 1e6,
        p50=figures["p50"] / 1000,
        p95=figures["p95"] / 1000,
        p99=figures["p99"] / 1000,
        errors=figures["status"] + figures["socket"],
        server_cpu=_spent(before[0], after[0]) / n * 1000,
        db_cpu=_spent(before[1], after[1]) / n * 1000,
        split=split,
    )


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records-per-subject", type=int, default=10)
    parser.add_argument("--db", default="postgresql+psycopg:///bonafides_web_bench")
    parser.add_argument("--seconds", type=float, default=15.0, help="per endpoint")
    # Sixteen keeps both workers busy (connections are not spread evenly between them)
    # without letting queueing alone decide the p99 that the target pairs with the rate.
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--partitions",
        type=int,
        default=0,
        help="hash-partition the new store by subject (BONAFIDES_PG_PARTITIONS)",
    )
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workers)
        return
    console = Console()
    if shutil.which("wrk") is None:
        sys.exit("web_bench: wrk is not installed (scripts/system-packages.sh installs it)")
    _ensure_database(args.db)
    have = _loaded(args.db) if _has_schema(args.db) else 0
    if have and have != args.subjects:
        # Loading empties the tables first: a store of other data (another bench's, a
        # half-finished load) is never overwritten unasked.
        sys.exit(
            f"web_bench: {args.db} holds {have:,} subjects, not {args.subjects:,}: "
            "drop it or name another --db"
        )
    if have != args.subjects:
        load(args.db, args.subjects, args.records_per_subject, console, args.partitions)
    else:
        console.print(f"reusing the store with {have:,} subjects")
    prewarm(args.db, console)
    codes, queries = samples(args.db, 2000, seed=1)
    port = _free_port()
    server = start_server(args.db, port, args.workers)
    try:
        endpoints = [
            ("health (SELECT 1)", ["/api/v1/health"]),
            ("subject profile", [f"/api/v1/subjects/{c}" for c in codes]),
            ("name search (one typo)", [f"/api/v1/search?q={quote(q)}" for q in queries]),
        ]
        # Throughput with the server saturated, then latency with one request in flight
        # per worker, where queueing does not hide what a request costs.
        pid = server.pid
        runs = [measure(n, port, p, args.seconds, args.connections, pid) for n, p in endpoints]
        runs += [
            measure(f"{n}, {args.workers} conn.", port, p, args.seconds, args.workers, pid)
            for n, p in endpoints
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    table = Table(
        title=f"web_bench: {args.subjects:,} subjects, "
        f"{args.subjects * args.records_per_subject:,} records, PostgreSQL, "
        f"{args.workers} workers, {args.connections} connections (then {args.workers}), "
        f"{args.seconds:.0f} s each"
    )
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for i, run in enumerate(runs):
        table.add_row(*_cells(run, _baseline(runs, i)))
    console.print(table)
    if not args.no_results:
        _append_results(args, runs)


COLUMNS = (
    "endpoint",
    "requests",
    "req/s",
    "vs baseline",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "errors",
    "server CPU ms/req",
    "PostgreSQL CPU ms/req",
    "connections per worker",
)


def _cells(run: Run, baseline: float) -> list[str]:
    return [
        run.name,
        f"{run.requests:,}",
        f"{run.rate:,.0f}",
        f"{run.rate / baseline:.0%}" if baseline else "-",
        f"{run.p50:.1f}",
        f"{run.p95:.1f}",
        f"{run.p99:.1f}",
        f"{run.errors:,}",
        f"{run.server_cpu:.2f}",
        f"{run.db_cpu:.2f}",
        run.split,
    ]


def _baseline(runs: list[Run], index: int) -> float:
    """The health run measured at the same concurrency as ``runs[index]``."""
    half = len(runs) // 2
    return runs[0 if index < half else half].rate


def _setting(url: str, name: str) -> str:
    with psycopg.connect(_psycopg_url(url)) as conn:
        row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else "?"


def _has_schema(url: str) -> bool:
    with psycopg.connect(_psycopg_url(url)) as conn:
        row = conn.execute("SELECT to_regclass('public.subjects') IS NOT NULL").fetchone()
        return bool(row and row[0])


def append_results(
    bench: str, description: str, columns: Sequence[str], rows: Iterable[Sequence[str]]
) -> None:
    """A section of RESULTS.md: which bench on which day, what ran where, its table."""
    lines = [
        "",
        f"## {bench} ({dt.date.today().isoformat()})",
        "",
        f"{description} Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the "
        "end (the machine is shared).",
        "",
        "| " + " | ".join(columns) + " |",
        "|---" + "|---:" * (len(columns) - 1) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _append_results(args: argparse.Namespace, runs: list[Run]) -> None:
    description = (
        f"`benchmarks/web_bench.py --subjects {args.subjects} --records-per-subject "
        f"{args.records_per_subject} --seconds {args.seconds:g} --connections "
        f"{args.connections}"
        + (f" --partitions {args.partitions}" if args.partitions else "")
        + f"`: {args.subjects:,} subjects "
        f"({args.subjects // 5:,} with a former name), "
        f"{args.subjects * args.records_per_subject:,} records, PostgreSQL "
        f"(shared_buffers {_setting(args.db, 'shared_buffers')}), uvicorn with "
        f"{args.workers} workers, wrk on the same machine."
    )
    rows = [_cells(run, _baseline(runs, i)) for i, run in enumerate(runs)]
    append_results("web_bench", description, COLUMNS, rows)


if __name__ == "__main__":
    main()
