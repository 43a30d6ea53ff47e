"""Matching during ingest against a large register on PostgreSQL (issue 15's scale target).

A register of ``--subjects`` generated organisations (a fifth with a former name) is
copied into a fresh PostgreSQL store with COPY, then keyed for matching once
(``bonafides.matching.keys.sync``, what ``register load`` ends with). Then, in this
process, the same ``--rows`` penalties are ingested twice: once with their codes, once
without (名称 only: as registered, the place dropped, in traditional characters,
有限责任公司 for 有限公司, or a name nobody registered), so every row of the second file
is matched by bonafides-names (v2) through the keys in the store. The difference is the
cost of matching; "matching rows/s" is rows over the extra time.

Also measured: what a new process pays before its first match (``StoreMatcher.open``)
against building the whole register in memory (the previous way, at ``--memory``
subjects and extrapolated), and the matching alone (``candidates_for`` over the rows).

    .venv/bin/python benchmarks/match_ingest_bench.py --subjects 1000000 --rows 20000

With ``--template DB`` a run starts from a copy of a database that already holds this
register, keyed (building a million subjects and their keys takes about 20 minutes on a
loaded machine); the fixture and keying rows are then not measured.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import opencc
import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import event

from bonafides.app.ingest import ingest_file
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import load_catalogue
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.matching import keys
from bonafides.matching.model import Query
from bonafides.matching.register import RegisterIndex
from bonafides.matching.store import load_entries
from bonafides.settings import Settings
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue
from bonafides.synth.industries import ENTERPRISE_SECTIONS
from bonafides.synth.names import trade_name
from bonafides.synth.orgnames import enterprise
from bonafides.synth.places import PlaceSampler
from ingest_bench import _header
from proc_cpu import backends
from web_bench import _ensure_database, _psycopg_url, _rows, append_results

TYPE = "market.penalty"
SOURCE = "bj_amr"
AUTHORITY = "北京市市场监督管理局"
AUTHORITY_USCC = make_uscc("1", "1", "110000", "00002113")
SECRET = "match-ingest-bench-secret-key"
TODAY = dt.date(2026, 6, 30)
_S2T = opencc.OpenCC("s2t")
T = TypeVar("T")


def register(n: int, seed: int) -> list[tuple[str, str, str, str | None]]:
    """(code, name, place prefix, former name or None) of ``n`` organisations."""
    rng = random.Random(seed)
    sampler = PlaceSampler()
    sections = sorted(ENTERPRISE_SECTIONS)
    out = []
    for i in range(n):
        place = sampler.draw(rng)
        name, _ = enterprise(rng, place, rng.choice(sections), trade_name(rng))
        former = None
        if i % 5 == 0:
            former, _ = enterprise(rng, place, rng.choice(sections), trade_name(rng))
        out.append(
            (make_uscc("9", "1", place.region, f"{i + 1:08d}"), name, place.prefix_zh, former)
        )
    return out


def copy_register(url: str, entries: list[tuple[str, str, str, str | None]]) -> float:
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).isoformat()
    with psycopg.connect(_psycopg_url(url)) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY subjects (id, key, kind, code_display, name, region, status, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            rows = (
                (sid, code, "legal_person", code, name, code[2:8], "active", now, now)
                for sid, (code, name, _, _) in enumerate(entries, 1)
            )
            for chunk in _rows(rows):
                copy.write(chunk)

        def names() -> Iterator[tuple[object, ...]]:
            for sid, (_, name, _, former) in enumerate(entries, 1):
                yield (sid, name, "zh", "t")
                if former:
                    yield (sid, former, "zh", "f")

        with cur.copy("COPY subject_names (subject_id, name, lang, current) FROM STDIN") as copy:
            for chunk in _rows(names()):
                copy.write(chunk)
        cur.execute("SELECT setval(pg_get_serial_sequence('subjects', 'id'), %s)", (len(entries),))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE subjects, subject_names")
    return time.perf_counter() - started


def spelled(rng: random.Random, name: str, prefix: str) -> str:
    """One way a department writes a registered name, or a name nobody registered."""
    roll = rng.random()
    if roll < 0.3:
        return name
    if roll < 0.5 and name.startswith(prefix):
        return name[len(prefix) :]
    if roll < 0.65:
        return str(_S2T.convert(name))
    if roll < 0.8 and name.endswith("有限公司") and not name.endswith("股份有限公司"):
        return name[: -len("有限公司")] + "有限责任公司"
    if roll < 0.9:
        return f"{prefix}{''.join(trade_name(rng)[0])}商贸有限公司"
    return name


def write_rows(path: Path, picks: list[tuple[str, str]], *, with_code: bool, tag: str) -> None:
    rtype = load_catalogue().type(TYPE)
    by_zh = {spec.column_zh: spec for spec in rtype.fields}
    header = _header()
    rng = random.Random(3)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, (code, name) in enumerate(picks):
            day = dt.date(2024, 1, 2) + dt.timedelta(days=rng.randrange(700))
            fine = rng.randrange(1, 500) / 10
            values = {
                "subject_name": name,
                "subject_category": "法人及非法人组织",
                "uscc": code if with_code else "",
                "decision_no": f"京市监处罚〔{day.year}〕{tag}{i + 1}号",
                "decision_date": day.isoformat(),
                "violation_type": "虚假宣传",
                "violation_facts": "当事人虚假宣传，经查属实。",
                "penalty_basis": "《中华人民共和国反不正当竞争法》第二十条",
                "penalty_category": "fine",
                "penalty_content": f"罚款人民币{fine:.1f}万元",
                "fine_amount_10k_yuan": f"{fine:.1f}",
                "authority": AUTHORITY,
                "authority_uscc": AUTHORITY_USCC,
                "data_source_unit": AUTHORITY,
                "data_source_unit_uscc": AUTHORITY_USCC,
            }
            writer.writerow(
                [
                    values.get(
                        by_zh[c].name, day.isoformat() if by_zh[c].type.value == "date" else "1"
                    )
                    for c in header
                ]
            )


def _from_template(url: str, template: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_psycopg_url(url.rsplit("/", 1)[0] + "/postgres"), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def timed(action: Callable[[], T]) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def server_cpu(url: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``url``'s database: a step's
    difference is the server's share of its work, as long as the step's connections stay
    open (the pool keeps them)."""
    base, name = url.rsplit("/", 1)
    return sum(backends(_psycopg_url(base + "/postgres"), [name]).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--memory", type=int, default=50_000, help="in-memory index size")
    parser.add_argument("--pg", default="postgresql+psycopg:///bonafides_match_bench")
    parser.add_argument(
        "--template",
        help="a database holding this register, already copied and keyed (a previous run's "
        "fixture): the run starts from a copy of it instead of building the register again",
    )
    parser.add_argument("--record", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    console = Console(width=200)
    started_load = os.getloadavg()[0]
    url = args.pg.rsplit("/", 1)[0] + f"/match_ingest_bench_{uuid.uuid4().hex[:6]}"
    if args.template:
        copied, wall, _ = timed(lambda: _from_template(url, args.template))
    else:
        _ensure_database(url)
    ctx = Context(Settings(db=url, secret_key=SECRET))
    migrate(ctx.engine)
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    results: list[list[str]] = []
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(ctx.engine, "before_cursor_execute", count)
    #: (server CPU s, statements) of the last ``measured`` step.
    last: list[tuple[float, int]] = [(0.0, 0)]

    def measured(action: Callable[[], T]) -> tuple[T, float, float]:
        """``timed``, also noting the server's CPU and the statements sent (``last``)."""
        server, sent = server_cpu(url), statements[0]
        result, wall, cpu = timed(action)
        last[0] = (server_cpu(url) - server, statements[0] - sent)
        return result, wall, cpu

    def row(
        what: str,
        n: int | str,
        wall: float,
        cpu: float,
        rate: str = "",
        note: str = "",
        server: tuple[float, int] | None = None,
    ) -> None:
        results.append(
            [
                what,
                f"{n:,}" if isinstance(n, int) else n,
                f"{wall:.1f}",
                f"{cpu:.1f}",
                f"{server[0]:.1f}" if server else "",
                f"{server[1]:,}" if server else "",
                rate,
                note,
            ]
        )
        console.print(results[-1], f"load {os.getloadavg()[0]:.1f}")

    if args.template:
        row(f"register copied from {args.template} (CREATE DATABASE … TEMPLATE)", "-", wall, 0.0)
    entries, wall, cpu = timed(lambda: register(args.subjects, 15))
    assert isinstance(entries, list)
    if not args.template:
        copied = copy_register(url, entries)
        row("register generated and copied (fixture)", len(entries), copied + wall, cpu)

    def sync() -> int:
        with UnitOfWork(ctx.sessions) as unit:
            done = keys.sync(unit.session)
            unit.commit()
        return done

    keyed, wall, cpu = timed(sync)
    with psycopg.connect(_psycopg_url(url)) as conn:
        count, size = conn.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('match_keys')) FROM match_keys"
        ).fetchone()  # type: ignore[misc]
    row(
        "keys synced once (register load's last step)",
        int(keyed),
        wall,
        cpu,
        "",
        f"{count:,} keys, {size}",
    )

    opened, wall, cpu = timed(lambda: keys.StoreMatcher.open(ctx.sessions))
    assert opened is not None
    row("a new process: StoreMatcher.open", "-", wall, cpu)

    def memory() -> RegisterIndex:
        with ctx.sessions() as session:
            return RegisterIndex.build(e for _, e in load_entries(session, upto=args.memory))

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    built, wall, cpu = timed(memory)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    scale = args.subjects / args.memory
    row(
        f"the previous way: index in memory of {args.memory:,} subjects",
        args.memory,
        wall,
        cpu,
        "",
        f"peak RSS +{grown:,.0f} MB; x{scale:.0f} for {args.subjects:,}: "
        f"~{wall * scale:,.0f} s, ~{grown * scale / 1024:,.1f} GB",
    )
    del built

    rng = random.Random(4)
    chosen = rng.sample(range(len(entries)), args.rows)
    coded = [(entries[i][0], entries[i][1]) for i in chosen]
    named = [("", spelled(rng, entries[i][1], entries[i][2])) for i in chosen]
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"match_ingest_{uuid.uuid4().hex[:6]}"
    work.mkdir()
    with_codes, without = work / "with_codes.csv", work / "without.csv"
    write_rows(with_codes, coded, with_code=True, tag="A")
    write_rows(without, named, with_code=False, tag="B")

    queries = [Query(name) for _, name in named]
    _, wall, cpu = measured(lambda: opened.candidates_for(queries))
    row(
        "matching alone: candidates_for over the rows",
        args.rows,
        wall,
        cpu,
        f"{args.rows / wall:,.0f} wall, {args.rows / cpu:,.0f} per CPU s, "
        f"{args.rows / (cpu + last[0][0]):,.0f} per CPU s with the server's",
        server=last[0],
    )

    def ingest(path: Path) -> dict[str, int]:
        return ingest_file(
            ctx, path, type_code=TYPE, source=SOURCE, actor="bench", today=TODAY
        ).counts

    counts, wall_a, cpu_a = measured(lambda: ingest(with_codes))
    server_a = last[0]
    row(
        "ingest with codes (baseline)",
        args.rows,
        wall_a,
        cpu_a,
        f"{args.rows / wall_a:,.0f}",
        str(counts),
        server=server_a,
    )
    counts, wall_b, cpu_b = measured(lambda: ingest(without))
    server_b = last[0]
    assert isinstance(counts, dict)
    row(
        "ingest without codes (every row matched)",
        args.rows,
        wall_b,
        cpu_b,
        f"{args.rows / wall_b:,.0f}",
        f"matched {counts.get('matched', 0):,}, review {counts.get('review', 0):,}",
        server=server_b,
    )
    extra_wall, extra_cpu = max(wall_b - wall_a, 1e-9), max(cpu_b - cpu_a, 1e-9)
    extra_server = (server_b[0] - server_a[0], server_b[1] - server_a[1])
    row(
        "matching during ingest (the difference)",
        args.rows,
        extra_wall,
        extra_cpu,
        f"{args.rows / extra_wall:,.0f} wall, {args.rows / extra_cpu:,.0f} per CPU s, "
        f"{args.rows / max(extra_cpu + extra_server[0], 1e-9):,.0f} per CPU s with the "
        "server's",
        "target ≥ 1,000 rows/s",
        server=extra_server,
    )
    ctx.close()
    columns = (
        "step",
        "subjects or rows",
        "wall s",
        "CPU s (this process)",
        "server CPU s",
        "statements",
        "rows/s",
        "note",
    )
    table = Table(*columns)
    for r in results:
        table.add_row(*r)
    console.print(table)
    console.print(f"load average {os.getloadavg()}")
    if args.record:
        append_results(
            "match_ingest_bench",
            f"`benchmarks/match_ingest_bench.py --subjects {args.subjects} --rows {args.rows} "
            f"--memory {args.memory}"
            + (f" --template {args.template}" if args.template else "")
            + "`: a generated register copied into PostgreSQL, keyed "
            "once; the same penalties ingested with codes and without (every row matched "
            "through match_keys). CPU is this process; server CPU the database's backends "
            f"(from /proc); statements those this process sent. Load average at the start "
            f"{started_load:.1f}.",
            columns,
            results,
        )


if __name__ == "__main__":
    main()
