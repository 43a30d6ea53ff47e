"""Reading the change feed beside a plain ``SELECT ... WHERE id > ? ORDER BY id LIMIT``.

On each store: a few thousand decisions are written through the real write path (so the
events are the ones the platform writes, payloads and all), then the events are copied
until there are ``--events`` of them. Every reader pages through the whole feed, a
thousand events a page:

- baseline: the plain statement over ``feed_events``, rows fetched, nothing else (on
  SQLite also with the payload decoded from its JSON text, which the feed must do and
  PostgreSQL's driver does in the baseline already);
- the feed as the public reads it (``bonafides.app.feed.read`` anonymously: the public
  filter, content fields and names stripped per event);
- the feed as an operator reads it (everything; each page of non-public events audited
  and linked to its subjects).

Events per second, and the ratio to the baseline (target: at least 0.5)::

    .venv/bin/python benchmarks/feed_bench.py --events 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from bonafides.app import feed as feed_app
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.records import RecordInput, SubjectKind, SubjectRef
from bonafides.security.roles import ANONYMOUS, ROLE_SCOPES, Principal, Role
from bonafides.settings import Settings
from bonafides.store.db import make_engine, migrate
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import FeedEvent

RESULTS = Path(__file__).with_name("RESULTS.md")
SECRET = "feed-bench-secret-0123456789abcdef"
PAGE = 1000
COPY_COLUMNS = (
    "kind, occurred_at, origin, subject_id, subject_code, record_id, record_version, "
    "list_entry_id, source, disclosure, is_public, tombstone, payload"
)
PLAIN = f"SELECT id, {COPY_COLUMNS} FROM feed_events WHERE id > :after ORDER BY id LIMIT {PAGE}"
OPERATOR = Principal(
    role=Role.OPERATOR, username="bench", scopes=ROLE_SCOPES[Role.OPERATOR], via="cli"
)
console = Console()


def decisions(count: int) -> list[RecordInput]:
    """Public penalties and, one in four, a shared tax grade: the public reader skips those."""
    today = dt.date.today()
    items = []
    for n in range(1, count + 1):
        code = make_uscc("9", "1", "330106", f"{n:08d}")
        firm = SubjectRef(code, SubjectKind.LEGAL_PERSON, f"杭州测试{n}有限公司", region="330106")
        shared = n % 4 == 0
        decided = today - dt.timedelta(days=30)
        number = f"浙测〔2026〕{n}号"
        content: dict[str, Any] = {"subject_name": firm.name, "decision_no": number}
        content.update(
            {"grade": "B", "evaluation_year": decided.year - 1}
            if shared
            else {"penalty_category": "fine", "fine_amount_10k_yuan": "1.5", "severity": "general"}
        )
        items.append(
            RecordInput(
                type_code="tax.credit_grade" if shared else "market.penalty",
                source="sta" if shared else "samr",
                decision_no=number,
                decision_date=decided,
                subject=firm,
                content=content,
                raw={k: str(v) for k, v in content.items()},
                severity=None if shared else "general",
                legal_basis="bench",
                published_until=today + dt.timedelta(days=300),
                retention_until=today + dt.timedelta(days=3000),
            )
        )
    return items


def fill(ctx: Context, events: int, written: int) -> int:
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    items = decisions(written)
    for start in range(0, len(items), 1000):
        with ctx.sessions.begin() as session:
            write_records(session, ctx.keys, items[start : start + 1000], actor="bench")
    with ctx.engine.begin() as conn:
        have = conn.execute(select(func.count()).select_from(FeedEvent)).scalar_one()
        names = {c["name"] for c in inspect(conn).get_columns("feed_events")}
        # Every column the write path fills (the public payload and the head, where the
        # code keeps them).
        kept = [name for name in ("public_payload", "head_text") if name in names]
        columns = ", ".join([COPY_COLUMNS, *kept])
        while have < events:
            copied = f"INSERT INTO feed_events ({columns}) SELECT {columns} FROM feed_events ORDER BY id LIMIT {events - have}"  # noqa: E501
            conn.execute(text(copied))
            have = conn.execute(select(func.count()).select_from(FeedEvent)).scalar_one()
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE feed_events"))
    return int(have)


def timed(read_page: Callable[[int], tuple[int, int]]) -> tuple[int, float, float]:
    """Page through the feed; ``read_page(after)`` returns (events read, next cursor).
    Wall and CPU seconds: on a shared machine the CPU time is the steadier figure."""
    total = 0
    after = 0
    started = time.perf_counter()
    cpu = time.process_time()
    while True:
        count, after_next = read_page(after)
        total += count
        if after_next == after:
            break
        after = after_next
    return total, time.perf_counter() - started, time.process_time() - cpu


def measure(ctx: Context) -> list[tuple[str, int, float, float]]:
    rows: list[tuple[str, int, float, float]] = []
    with ctx.engine.connect() as conn:

        def plain(after: int) -> tuple[int, int]:
            found = conn.execute(text(PLAIN), {"after": after}).all()
            return len(found), (found[-1][0] if found else after)

        rows.append(("plain SELECT (baseline)", *timed(plain)))
        if conn.dialect.name == "sqlite":
            # SQLite hands JSON back as text; PostgreSQL's driver decodes it in the
            # baseline already. This row shows what decoding alone costs.
            def decoded(after: int) -> tuple[int, int]:
                found = conn.execute(text(PLAIN), {"after": after}).all()
                for row in found:
                    json.loads(row[-1])
                return len(found), (found[-1][0] if found else after)

            rows.append(("plain SELECT, payload decoded", *timed(decoded)))

    def reader(principal: Principal, answer: bool = False) -> Callable[[int], tuple[int, int]]:
        def read_page(after: int) -> tuple[int, int]:
            with ctx.sessions.begin() as session:
                page = feed_app.read(session, ctx.catalogue, principal, after=after, limit=PAGE)
            if answer:
                as_api(page)
            return len(page.events), page.next_cursor

        return read_page

    rows.append(("feed, anonymous (public events)", *timed(reader(ANONYMOUS))))
    rows.append(("feed, anonymous, as the API answers", *timed(reader(ANONYMOUS, True))))
    rows.append(("feed, operator (all, audited)", *timed(reader(OPERATOR))))
    rows.append(("feed, operator, as the API answers", *timed(reader(OPERATOR, True))))
    return rows


def as_api(page: Any) -> str:
    """The page as ``GET /api/v1/feed`` sends it: JSON text (before the payloads were
    passed on as text, the API built its answer from the decoded events)."""
    if hasattr(page, "to_json_text"):
        return str(page.to_json_text())
    from bonafides.api.feed import EventOut, FeedOut

    out = FeedOut(
        events=[EventOut(**e.to_json()) for e in page.events],
        next_cursor=page.next_cursor,
        more=page.more,
    )
    return json.dumps(out.model_dump(), ensure_ascii=False, separators=(",", ":"))


def run_store(url: str, events: int, written: int) -> list[tuple[str, int, float, float]]:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    ctx = Context(Settings(db=url, secret_key=SECRET, demo=True))
    try:
        have = fill(ctx, events, written)
        console.print(f"{make_url(url).get_backend_name()}: {have:,} events")
        return measure(ctx)
    finally:
        ctx.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--subjects", type=int, default=None, help="Alias of --events.")
    parser.add_argument("--written", type=int, default=4_000, help="Decisions written first.")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql+psycopg:///postgres", help="Admin URL.")
    parser.add_argument("--no-results", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args(argv)
    events = args.subjects or args.events
    table = Table(title=f"feed_bench: {events:,} events, pages of {PAGE}")
    columns = ("store", "reader", "events", "seconds", "events/s", "/ baseline", "CPU s")
    for column in (*columns, "/ baseline (CPU)", "target"):
        table.add_column(column, justify="right" if column not in ("store", "reader") else "left")
    lines = []
    for store in args.stores.split(","):
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                measured = run_store(f"sqlite:///{tmp}/feed.db", events, args.written)
        else:
            name = f"bonafides_feed_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                measured = run_store(url, events, args.written)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        base_rate = measured[0][1] / measured[0][2]
        base_cpu = measured[0][1] / measured[0][3]
        for label, count, seconds, cpu in measured:
            rate = count / seconds
            base = label.endswith("(baseline)")
            ratio = "" if base else f"{rate / base_rate:.2f}"
            ratio_cpu = "" if base else f"{count / cpu / base_cpu:.2f}"
            target = "" if label.startswith("plain") else "≥ 0.5"
            row = [store, label, f"{count:,}", f"{seconds:.2f}", f"{rate:,.0f}", ratio]
            row += [f"{cpu:.2f}", ratio_cpu, target]
            table.add_row(*row)
            lines.append("| " + " | ".join(row) + " |")
    console.print(table)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {load:.1f}"
    console.print(machine)
    if not args.no_results:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(
                f"\n### feed_bench {dt.date.today()} ({events:,} events; {machine})\n\n"
                "| store | reader | events | seconds | events/s | / baseline | CPU s "
                "| / baseline (CPU) | target |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---|\n" + "\n".join(lines) + "\n"
            )


if __name__ == "__main__":
    main()
