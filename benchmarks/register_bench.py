"""``bonafides register load`` on each store: a first load, a reload, a load with changes.

A register export of generated organisations (companies, social organisations, public
institutions; a third with former names, legacy registration numbers, statuses in the
usual spellings) is written once as UTF-8 CSV. For each store, in one process, into a
fresh migrated database:

- the first load (every subject new to the platform);
- the same file again (every row unchanged: nothing may be written);
- a file where 10% of the subjects were renamed and 5% deregistered.

::

    .venv/bin/python benchmarks/register_bench.py --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bonafides.app.register import load_register
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.db import make_engine, migrate
from web_bench import _ensure_database, append_results

HEADER = (
    "统一社会信用代码",
    "名称",
    "曾用名",
    "英文名称",
    "市场主体类型",
    "法定代表人",
    "登记状态",
    "成立日期",
    "登记机关",
    "住所",
    "注册号",
    "组织机构代码",
)
KINDS = (("9", "1", "有限责任公司"), ("5", "1", "社会团体"), ("1", "2", "事业单位"))
TRADES = "华信恒通宏达瑞丰嘉禾鼎盛金泰永安新华光明中天东方"


def rows(n: int, seed: int = 15) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        authority, kind, entity = KINDS[i % 10 % 3] if i % 10 < 3 else KINDS[0]
        code = make_uscc(authority, kind, "110105", f"{i + 1:08d}")
        trade = "".join(rng.choice(TRADES) for _ in range(3))
        name = f"北京{trade}{i}科技有限公司"
        out.append(
            {
                "统一社会信用代码": code,
                "名称": name,
                "曾用名": f"北京{trade}{i}商贸有限公司" if i % 3 == 0 else "",
                "英文名称": f"Beijing {i} Co., Ltd." if i % 4 == 0 else "",
                "市场主体类型": entity,
                "法定代表人": "张" + rng.choice("伟芳娜敏静丽强磊"),
                "登记状态": rng.choice(
                    ("存续", "在业", "存续（在营、开业、在册）", "吊销，未注销")
                ),
                "成立日期": f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-15",
                "登记机关": "北京市朝阳区市场监督管理局",
                "住所": f"北京市朝阳区建国路{i}号",
                "注册号": f"110105{i:09d}" if i % 2 == 0 else "",
                "组织机构代码": "",
            }
        )
    return out


def changed(base: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for i, row in enumerate(base):
        row = dict(row)
        if i % 10 == 0:
            row["曾用名"] = row["名称"]
            row["名称"] = row["名称"].replace("科技", "智能科技")
        elif i % 20 == 1:
            row["登记状态"] = "注销"
        out.append(row)
    return out


def write(path: Path, data: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(data)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql+psycopg:///bonafides_register_bench")
    parser.add_argument("--record", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    console = Console()
    base = rows(args.rows)
    results: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        first = write(Path(tmp) / "register.csv", base)
        second = write(Path(tmp) / "register-changed.csv", changed(base))
        pg = args.pg.rsplit("/", 1)[0] + f"/register_bench_{uuid.uuid4().hex[:6]}"
        for store, url in (("sqlite", f"sqlite:///{tmp}/bench.db"), ("postgresql", pg)):
            if store == "postgresql":
                _ensure_database(url)
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            ctx = Context(Settings(db=url, secret_key="register-bench-secret-key"))
            for label, path in (
                ("first load", first),
                ("same file again", first),
                ("10% renamed, 5% deregistered", second),
            ):
                started, cpu = time.perf_counter(), time.process_time()
                report = load_register(ctx, path, source="samr", actor="bench")
                seconds = time.perf_counter() - started
                cpu = time.process_time() - cpu
                results.append(
                    [
                        store,
                        label,
                        f"{report.counts['rows']:,}",
                        f"{report.counts['changed']:,}",
                        f"{sum(report.events.values()):,}",
                        f"{seconds:.1f}",
                        f"{report.counts['rows'] / seconds:,.0f}",
                        f"{cpu:.1f}",
                        f"{report.counts['rows'] / cpu:,.0f}",
                    ]
                )
                console.print(results[-1])
            ctx.close()
    columns = (
        "store",
        "run",
        "rows",
        "changed",
        "events",
        "seconds",
        "rows/s",
        "CPU s (this process)",
        "rows per CPU s",
    )
    table = Table(*columns)
    for row in results:
        table.add_row(*row)
    console.print(table)
    if args.record:
        append_results(
            "register_bench",
            f"`benchmarks/register_bench.py --rows {args.rows}`: a generated register export "
            "(UTF-8 CSV, Chinese headers) loaded in process into a fresh store; the CPU "
            "column is this process only (PostgreSQL's own work is not in it).",
            columns,
            results,
        )


if __name__ == "__main__":
    main()
