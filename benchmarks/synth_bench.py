"""Synthetic data generator benchmark: files for N subjects, against raw CSV write speed.

Each measurement runs in a fresh child process so its wall time and peak memory are its
own. The baseline, measured in the same run, writes the same number of rows of one fixed,
pre-built row with Python's csv module: the floor any generator writing CSV sits on.

    .venv/bin/python benchmarks/synth_bench.py --subjects 1000000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TODAY = dt.date(2026, 1, 15)

#: A typical licence row (23 columns) for the baseline.
FIXED_ROW = [
    "杭州鑫源贸易有限公司",
    "法人及非法人组织",
    "91330106MA2H3K7Q4X",
    "王伟",
    "身份证",
    "330106198001011234",
    "",
    "",
    "准予行政许可决定书",
    "杭市监许〔2024〕12345号",
    "普通",
    "食品经营许可证",
    "JY13301062412345",
    "经营项目：预包装食品销售（含冷藏冷冻食品）；散装食品销售",
    "2024-05-06",
    "2024-05-06",
    "2029-05-05",
    "杭州市市场监督管理局",
    "113301004591582075",
    "有效",
    "杭州市市场监督管理局",
    "113301004591582075",
    "",
]


def _peaks() -> dict[str, int]:
    """Peak resident memory in KiB of this process and of its largest finished child."""
    return {
        "self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def _child_synth(subjects: int, seed: int, fmt: str, out: Path, workers: int | None) -> None:
    from bonafides.synth.files import write_dataset

    started = time.perf_counter()
    summary = write_dataset(
        out, subjects=subjects, seed=seed, fmt=fmt, today=TODAY, workers=workers
    )
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.iterdir())
    print(
        json.dumps({"rows": sum(summary.values()), "seconds": seconds, "bytes": size, **_peaks()})
    )


def _child_baseline(rows: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "baseline.csv"
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"c{i}" for i in range(len(FIXED_ROW))])
        for _ in range(rows):
            writer.writerow(FIXED_ROW)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "bytes": path.stat().st_size, **_peaks()}))


def _run(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {memory:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", default="csv", choices=("csv", "jsonl", "parquet"))
    parser.add_argument("--workers", type=int, default=None, help="default: usable cores")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--child", choices=("synth", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "synth":
        _child_synth(args.subjects, args.seed, args.format, args.out, args.workers)
        return
    if args.child == "baseline":
        _child_baseline(args.rows, args.out)
        return

    with tempfile.TemporaryDirectory(prefix="synth-bench-") as scratch:
        out = args.out or Path(scratch)
        common = ["--subjects", str(args.subjects), "--seed", str(args.seed)]
        workers = ["--workers", str(args.workers)] if args.workers else []
        synth = _run(
            [
                *common,
                "--format",
                args.format,
                "--out",
                str(out / "synth"),
                *workers,
                "--child",
                "synth",
            ]
        )
        baseline = _run(
            ["--rows", str(synth["rows"]), "--out", str(out / "baseline"), "--child", "baseline"]
        )

    table = Table(
        title=f"synthetic data: {args.subjects:,} subjects, {args.format}, seed {args.seed}"
    )
    for column in ("run", "rows written", "seconds", "rows/s", "MB written", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, result in (("write_dataset", synth), ("csv baseline (fixed row)", baseline)):
        peak = max(result["self_kib"], result["children_kib"]) / 1024
        table.add_row(
            name,
            f"{result['rows']:,}",
            f"{result['seconds']:.1f}",
            f"{result['rows'] / result['seconds']:,.0f}",
            f"{result['bytes'] / 2**20:,.0f}",
            f"{peak:,.0f}",
        )
    console = Console()
    console.print(table)
    console.print(
        f"write_dataset: main process peak {synth['self_kib'] / 1024:,.0f} MB, largest worker "
        f"{synth['children_kib'] / 1024:,.0f} MB; parent's RUSAGE_CHILDREN peak "
        f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MB"
    )
    console.print(f"machine: {_machine()}")


if __name__ == "__main__":
    main()
