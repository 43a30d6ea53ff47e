"""Soak: the web tier held at 80% of its measured capacity for ten minutes, memory watched.

The store and the server are web_bench's (PostgreSQL filled by COPY, ``bonafides serve``'s
uvicorn with two workers). The request mix is what the public and API clients ask most:
a subject's page and a name search on the portal, the same two through the API, each a
random path of a sample, one in four each.

1. Capacity: wrk keeps ``--connections`` connections busy for ``--capacity-seconds``;
   the rate it reaches is the capacity of this mix on this machine now.
2. Soak: ``--minutes`` at ``--load`` of that rate. wrk (Debian's, not wrk2: it has no
   ``-R``) is paced by its ``delay()`` hook, in chunks of ``--chunk`` seconds; after
   each chunk the pause between a connection's requests is set again from the rate and
   mean latency measured, so the rate holds while the machine's other load comes and goes.
   Every ``--sample`` seconds the resident memory (RSS) of the server's processes is read
   from /proc.

It reports the rate held, the errors (answers other than 2xx/3xx, and failed or timed
out connections; the target is none) and the growth of the server's RSS from the first
minute (the median of its samples, once the workers have warmed up) to the last (the
target is under 5%)::

    .venv/bin/python benchmarks/soak_bench.py --subjects 20000 --minutes 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from rich.console import Console
from rich.table import Table

import web_bench as web

#: wrk runs this: a random path per request, ``SOAK_DELAY_MS`` between a connection's
#: requests (``delay()``), and the figures as one JSON line at the end (microseconds).
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("SOAK_PATHS")) do paths[#paths + 1] = line end
math.randomseed(tonumber(os.getenv("SOAK_SEED")))
local pause = tonumber(os.getenv("SOAK_DELAY_MS"))
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
delay = function()
  return pause
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "micros": %d, "mean": %f, "p50": %d, "p99": %d, "status": %d, ' ..
    '"socket": %d}\\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Chunk:
    requests: int
    seconds: float
    mean_ms: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(port: int, paths: Path, seconds: float, connections: int, delay_ms: int) -> Chunk:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "soak.lua")
        script.write_text(WRK_SCRIPT)
        env = {
            **os.environ,
            "SOAK_PATHS": str(paths),
            "SOAK_SEED": str(int(time.time())),
            "SOAK_DELAY_MS": str(delay_ms),
        }
        # wrk takes whole seconds only.
        args = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
        ]
        args += ["-s", str(script), f"http://127.0.0.1:{port}"]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Chunk(
        figures["requests"],
        figures["micros"] / 1e6,
        figures["mean"] / 1000,
        figures["p50"] / 1000,
        figures["p99"] / 1000,
        figures["status"] + figures["socket"],
    )


def rss_bytes(root: int) -> int:
    """Resident memory of the server and every process under it."""
    total = 0
    for pid in [root, *web._descendants(root, web._processes())]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


@dataclass
class Sampler:
    """RSS of the server's processes every ``every`` seconds, on a thread."""

    root: int
    every: float
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - started, rss_bytes(self.root)))
            self._stop.wait(self.every)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def window(self, first: float, last: float) -> float:
        """The median RSS of the samples taken between ``first`` and ``last`` seconds."""
        inside = [rss for at, rss in self.samples if first <= at <= last]
        return statistics.median(inside) if inside else float("nan")


@dataclass
class Soak:
    capacity: Chunk
    target: float
    chunks: list[Chunk]
    rss_start: float
    rss_end: float
    rss_max: int
    samples: int

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.chunks)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.chunks)

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.chunks)

    @property
    def growth(self) -> float:
        return self.rss_end / self.rss_start - 1


def soak(
    port: int,
    server: int,
    paths: Path,
    args: argparse.Namespace,
    console: Console,
) -> Soak:
    wrk(port, paths, 5, args.connections, 0)  # warm-up: caches, pools, JIT of templates
    capacity = wrk(port, paths, args.capacity_seconds, args.connections, 0)
    target = capacity.rate * args.load
    console.print(
        f"capacity {capacity.rate:,.0f} req/s (p50 {capacity.p50_ms:.1f} ms, "
        f"{capacity.errors} errors); soak at {target:,.0f} req/s for {args.minutes:g} min"
    )
    # A connection's cycle is its request's latency plus the pause: the pause that gives
    # ``target`` over all the connections, from the latency last measured.
    delay = max(0, round(args.connections / target * 1000 - capacity.mean_ms))
    sampler = Sampler(server, args.sample)
    thread = sampler.start()
    chunks: list[Chunk] = []
    ends = time.monotonic() + args.minutes * 60
    try:
        while (left := ends - time.monotonic()) > 1:
            chunk = wrk(port, paths, min(args.chunk, left), args.connections, delay)
            chunks.append(chunk)
            console.print(
                f"  {sum(c.seconds for c in chunks):5.0f} s: {chunk.rate:7,.0f} req/s "
                f"(pause {delay} ms, mean {chunk.mean_ms:.1f} ms), {chunk.errors} errors, "
                f"RSS {sampler.samples[-1][1] / 2**20:,.1f} MiB"
            )
            # Half way to the pause that would have hit the target: latency moves with
            # the rate (and the machine's other load), and a full step overshoots.
            cycle = args.connections / max(chunk.rate, 1e-3) * 1000
            delay = max(0, round(delay + (args.connections / target * 1000 - cycle) / 2))
    finally:
        sampler.stop()
        thread.join()
    span = sampler.samples[-1][0]
    return Soak(
        capacity,
        target,
        chunks,
        rss_start=sampler.window(0, 60),
        rss_end=sampler.window(span - 60, span),
        rss_max=max(rss for _, rss in sampler.samples),
        samples=len(sampler.samples),
    )


COLUMNS = (
    "phase",
    "seconds",
    "requests",
    "req/s",
    "vs capacity",
    "p50 ms",
    "p99 ms",
    "errors",
    "RSS first min MiB",
    "RSS last min MiB",
    "RSS growth",
    "RSS max MiB",
)


def rows(result: Soak) -> list[list[str]]:
    cap, mib = result.capacity, 2**20
    soaked = result.requests / result.seconds if result.seconds else 0.0
    p50 = statistics.median(c.p50_ms for c in result.chunks)
    p99 = max(c.p99_ms for c in result.chunks)
    return [
        [
            "capacity (saturated)",
            f"{cap.seconds:.0f}",
            f"{cap.requests:,}",
            f"{cap.rate:,.0f}",
            "100%",
            f"{cap.p50_ms:.1f}",
            f"{cap.p99_ms:.1f}",
            f"{cap.errors:,}",
            "-",
            "-",
            "-",
            "-",
        ],
        [
            f"soak (target {result.target:,.0f} req/s)",
            f"{result.seconds:.0f}",
            f"{result.requests:,}",
            f"{soaked:,.0f}",
            f"{soaked / cap.rate:.0%}" if cap.rate else "-",
            f"{p50:.1f}",
            f"{p99:.1f}",
            f"{result.errors:,}",
            f"{result.rss_start / mib:,.1f}",
            f"{result.rss_end / mib:,.1f}",
            f"{result.growth:+.1%}",
            f"{result.rss_max / mib:,.1f}",
        ],
    ]


def mix(url: str) -> list[str]:
    """Paths of the four kinds, one in four each: portal and API, profile and search."""
    codes, queries = web.samples(url, 2000, seed=1)
    paths = []
    for code, query in zip(codes, queries, strict=True):
        paths += [
            f"/subjects/{code}",
            f"/search?q={quote(query)}",
            f"/api/v1/subjects/{code}",
            f"/api/v1/search?q={quote(query)}",
        ]
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--records-per-subject", type=int, default=5)
    parser.add_argument("--db", default="postgresql+psycopg:///bonafides_soak_bench")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--load", type=float, default=0.8, help="share of the capacity")
    parser.add_argument("--capacity-seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=float, default=30.0, help="seconds per wrk run")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS reads")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args()
    console = Console()
    if shutil.which("wrk") is None:
        sys.exit("soak_bench: wrk is not installed (scripts/system-packages.sh installs it)")
    web._ensure_database(args.db)
    have = web._loaded(args.db) if web._has_schema(args.db) else 0
    if have != args.subjects:
        web.load(args.db, args.subjects, args.records_per_subject, console)
    web.prewarm(args.db, console)
    port = web._free_port()
    server = web.start_server(args.db, port, args.workers)
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            paths = Path(tmp, "paths.txt")
            paths.write_text("\n".join(mix(args.db)) + "\n")
            result = soak(port, server.pid, paths, args, console)
    finally:
        server.terminate()
        server.wait(timeout=30)
    table = Table(
        title=f"soak_bench: {args.subjects:,} subjects, PostgreSQL, {args.workers} workers, "
        f"{args.connections} connections, {args.load:.0%} of capacity for {args.minutes:g} min"
    )
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "phase" else "right")
    for row in rows(result):
        table.add_row(*row)
    console.print(table)
    met = result.errors == 0 and result.growth < 0.05
    console.print(
        f"{result.samples} RSS samples; load average {load_before[0]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end; targets (0 errors, RSS growth < 5%) "
        + ("met" if met else "NOT met")
    )
    if not args.no_results:
        description = (
            f"`benchmarks/soak_bench.py --subjects {args.subjects} --minutes {args.minutes:g} "
            f"--load {args.load:g} --connections {args.connections}`: the mix of portal and API "
            f"subject pages and name searches, {args.subjects:,} subjects, PostgreSQL, uvicorn "
            f"with {args.workers} workers, wrk paced by its delay() hook in {args.chunk:g} s "
            f"chunks, RSS of the server's processes every {args.sample:g} s "
            f"({result.samples} samples; growth = median of the last minute over the first). "
            f"Load average {load_before[0]:.1f} at the start. Targets: 0 errors, RSS growth "
            f"under 5%: {'met' if met else 'NOT met'}."
        )
        web.append_results("soak_bench", description, COLUMNS, rows(result))


if __name__ == "__main__":
    main()
