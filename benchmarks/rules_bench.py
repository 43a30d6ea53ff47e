"""Lists, screening and checks at scale, each beside a plain SQL join over the same tables.

With N subjects and about 10N records on each store, measures:

- full recomputation of every list in SQL (``bonafides lists recompute``), first into an
  empty entry table and again with nothing changed; baseline: a join that selects every
  record of a list type with its subject into a temporary table;
- batch screening of all N subjects for one action (``bonafides screen``, CSV in and
  out, every line certified); baseline: the same codes loaded and joined with subjects and
  list entries, rows fetched, nothing answered or stored;
- single checks in process (``screening.check``: evaluate, certify, audit); baseline: the
  subject's records fetched by one join. p50/p99 per call and checks per second;
- grades of all organisations as of today, in SQL.

Data is generated here (simple, reproducible; the synthetic generator is not needed) and
bulk loaded with COPY on PostgreSQL and executemany on SQLite; a store of the same size is
reused by later runs::

    .venv/bin/python benchmarks/rules_bench.py --subjects 100000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bonafides.app.screening import check, screen_file
from bonafides.catalogue import load_catalogue
from bonafides.codes import make_resident_id, make_uscc, mask_id
from bonafides.context import Context
from bonafides.rules.loader import packaged_rules
from bonafides.rules.service import load_file_by_key, recompute_grades, recompute_lists
from bonafides.screening.common import key_and_shown
from bonafides.screening.service import answer_from_file
from bonafides.security.identifiers import IdentifierVault
from bonafides.settings import Settings
from bonafides.store.db import make_engine, migrate
from bonafides.store.reference import sync_catalogue

RESULTS = Path(__file__).with_name("RESULTS.md")
SECRET = "rules-bench-secret-0123456789abcdef"
ACTION = "procurement.bid"
NOW = dt.datetime(2026, 6, 30, 8, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 30)
console = Console()

#: Record types and their share of all records: mostly everyday decisions, a few percent
#: that put subjects on lists, as in a real platform.
ORG_TYPES: dict[str, float] = {
    "general.licence": 30,
    "market.penalty": 16,
    "general.penalty": 12,
    "tax.penalty": 9,
    "market.spot_check_result": 9,
    "tax.credit_grade": 6,
    "environment.penalty": 4,
    "food_drug.penalty": 3,
    "production_safety.penalty": 3,
    "courts.consumption_restriction": 2,
    "environment.credit_rating": 2,
    "general.commendation": 1,
    "customs.credit_grade": 1,
    "tax.a_grade_taxpayer": 0.5,
    "courts.defaulter": 0.4,
    "market.abnormal_operations": 0.4,
    "tax.major_violation": 0.1,
    "market.serious_violation_list": 0.1,
    "labour.wage_arrears": 0.1,
    "procurement.serious_violation": 0.05,
    "production_safety.dishonest_list": 0.05,
    "tendering.bid_rigging": 0.05,
    "tendering.fraudulent_bid": 0.05,
    "construction.blacklist": 0.05,
}
PERSON_TYPES: dict[str, float] = {
    "general.penalty": 35,
    "market.penalty": 25,
    "tax.penalty": 25,
    "courts.consumption_restriction": 10,
    "courts.defaulter": 4,
    "labour.wage_arrears": 1,
}
SEVERITY = ["minor"] * 5 + ["general"] * 4 + ["serious"]
STATUSES = ["active"] * 95 + ["repaired"] * 2 + ["revoked"] * 2 + ["expired"]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Subjects:
    count: int
    person_share: float = 0.1

    def is_person(self, i: int) -> bool:
        return i % int(1 / self.person_share) == 7

    def code(self, i: int) -> str:
        if self.is_person(i):
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000)
            return make_resident_id("330106", birth, i % 1000)
        return make_uscc("9", "1", "330106", f"{i:08d}")


def _content(
    rnd: random.Random, type_code: str, name: str, no: str, decided: dt.date
) -> tuple[dict[str, Any], str | None]:
    body: dict[str, Any] = {
        "subject_name": name,
        "decision_no": no,
        "decision_date": decided.isoformat(),
    }
    severity = None
    if type_code.endswith("penalty") or type_code == "general.penalty":
        severity = rnd.choice(SEVERITY)
        body["severity"] = severity
        if rnd.random() < 0.1:
            body["penalty_category"] = "licence_revocation"
    if type_code == "courts.defaulter":
        body["performance"] = rnd.choice(["none", "partial"])
        if rnd.random() < 0.2:
            body["listing_until"] = (
                decided + dt.timedelta(days=rnd.randint(300, 1500))
            ).isoformat()
    elif type_code == "tax.credit_grade":
        body["grade"] = rnd.choice("AABBBMMCD")
        body["evaluation_year"] = decided.year - 1
    elif type_code == "environment.credit_rating":
        body["rating"] = rnd.choice(["green", "green", "blue", "yellow", "red"])
    elif type_code == "customs.credit_grade":
        body["credit_grade"] = rnd.choice(
            ["advanced_certified", "general_certified", "general", "dishonest"]
        )
    elif type_code in ("procurement.serious_violation",):
        body["ban_until"] = (decided + dt.timedelta(days=rnd.randint(200, 1200))).isoformat()
    elif (
        type_code
        in (
            "market.abnormal_operations",
            "market.serious_violation_list",
            "labour.wage_arrears",
            "production_safety.dishonest_list",
            "construction.blacklist",
        )
        and rnd.random() < 0.3
    ):
        body["removal_date"] = (decided + dt.timedelta(days=rnd.randint(30, 1400))).isoformat()
    return body, severity


def generate(
    subjects: Subjects, seed: int, vault: IdentifierVault
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Chunks of (subject rows, record rows, version rows), ids assigned here."""
    rnd = random.Random(seed)
    cat = load_catalogue()
    org_types, org_weights = zip(*ORG_TYPES.items(), strict=True)
    person_types, person_weights = zip(*PERSON_TYPES.items(), strict=True)
    sources = {
        t.code: [s for s in t.sources if s != "*"] or ["samr", "mof", "mee"] for t in cat.types
    }
    record_id = 0
    version_id = 0
    start = dt.date(2020, 1, 1).toordinal()
    span = TODAY.toordinal() - start
    subject_rows: list[tuple[Any, ...]] = []
    record_rows: list[tuple[Any, ...]] = []
    version_rows: list[tuple[Any, ...]] = []
    for i in range(1, subjects.count + 1):
        person = subjects.is_person(i)
        code = subjects.code(i)
        name = f"张{i}" if person else f"杭州测试{i}有限公司"
        subject_rows.append(
            (
                i,
                vault.lookup_key(code) if person else code,
                "natural_person" if person else "legal_person",
                mask_id(code) if person else code,
                name,
                "330106",
                "active",
                dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000 + 18 * 366) if person else None,
                NOW,
                NOW,
            )
        )
        kinds = (person_types, person_weights) if person else (org_types, org_weights)
        picked = rnd.choices(kinds[0], weights=kinds[1], k=rnd.randint(0, 20))
        for type_code in picked:
            record_id += 1
            decided = dt.date.fromordinal(start + rnd.randrange(span))
            source = rnd.choice(sources[type_code])
            no = f"B{record_id}"
            body, severity = _content(rnd, type_code, name, no, decided)
            status = rnd.choice(STATUSES)
            content = json.dumps(body, ensure_ascii=False)
            received = dt.datetime.combine(decided, dt.time(9), dt.UTC)
            record_rows.append(
                (
                    record_id,
                    i,
                    type_code,
                    source,
                    no,
                    "",
                    decided,
                    received,
                    status,
                    severity,
                    "bench",
                    1 if status == "active" else 2,
                    content,
                    "0" * 64,
                    received,
                )
            )
            version_id += 1
            version_rows.append(
                (version_id, record_id, i, 1, "active", decided, content, received, "received")
            )
            if status != "active":
                version_id += 1
                changed = received + dt.timedelta(
                    days=rnd.randint(1, 700), hours=rnd.randint(0, 23)
                )
                version_rows.append(
                    (version_id, record_id, i, 2, status, decided, content, changed, status)
                )
        if len(subject_rows) >= 20_000:
            yield subject_rows, record_rows, version_rows
            subject_rows, record_rows, version_rows = [], [], []
    if subject_rows:
        yield subject_rows, record_rows, version_rows


SUBJECT_COLUMNS = (
    "id", "key", "kind", "code_display", "name", "region", "status", "adult_from",
    "created_at", "updated_at",
)  # fmt: skip
RECORD_COLUMNS = (
    "id", "subject_id", "type_code", "source", "decision_no", "party", "decision_date",
    "received_at", "status", "severity", "legal_basis", "version", "content", "content_digest",
    "updated_at",
)  # fmt: skip
VERSION_COLUMNS = (
    "id", "record_id", "subject_id", "version", "status", "decision_date", "content",
    "changed_at", "reason",
)  # fmt: skip


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def load(engine: Engine, subjects: Subjects, seed: int, vault: IdentifierVault) -> int:
    """Bulk load the generated data; returns the number of records."""
    records = 0
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        for subject_rows, record_rows, version_rows in generate(subjects, seed, vault):
            records += len(record_rows)
            version_full = [
                (*row[:6], None, row[6], "{}", "0" * 64, None, row[7], "bench", row[8])
                for row in version_rows
            ]
            version_cols = (
                *VERSION_COLUMNS[:6], "legal_basis", "content", "raw", "content_digest",
                "catalogue_version", "changed_at", "changed_by", "reason",
            )  # fmt: skip
            batches = (
                ("subjects", SUBJECT_COLUMNS, subject_rows),
                ("records", RECORD_COLUMNS, record_rows),
                ("record_versions", version_cols, version_full),
            )
            if isinstance(driver, psycopg.Connection):
                with driver.cursor() as cursor:
                    for table, columns, rows in batches:
                        names = ", ".join(columns)
                        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
            else:
                assert isinstance(driver, sqlite3.Connection)
                for table, columns, rows in batches:
                    marks = ", ".join("?" for _ in columns)
                    driver.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        [tuple(_sqlite_value(v) for v in row) for row in rows],
                    )
            raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("subjects", "records", "record_versions"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        else:
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done on a live store: without it the first query to
        # touch the freshly copied rows also writes their hint bits, and is timed for it.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    return records


def prepare(url: str, subjects: Subjects, seed: int, partitions: int = 0) -> tuple[Context, int]:
    """A migrated store holding exactly this data set, loaded now or reused."""
    engine = make_engine(url)
    migrate(engine, partitions=partitions)
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM subjects")).scalar_one()
        records = conn.execute(text("SELECT count(*) FROM records")).scalar_one()
    ctx = Context(Settings(db=url, secret_key=SECRET, demo=True))
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    if have != subjects.count:
        if have:
            raise SystemExit(f"{url} holds {have:,} subjects, not {subjects.count:,}: remove it")
        started = time.perf_counter()
        records = load(engine, subjects, seed, ctx.vault)
        console.print(
            f"loaded {subjects.count:,} subjects, {records:,} records in "
            f"{time.perf_counter() - started:.0f} s"
        )
    engine.dispose()
    with ctx.engine.begin() as conn:
        for table in ("check_lines", "checks", "grades", "list_entries", "rule_runs"):
            conn.execute(text(f"DELETE FROM {table}"))
    return ctx, records


# --------------------------------------------------------------------------- measurements


@dataclass
class Row:
    store: str
    what: str
    ours: str
    baseline: str
    ratio: str
    target: str


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _list_types() -> list[str]:
    rules = packaged_rules()
    return sorted(
        {
            t
            for rule in rules.lists.values()
            for line in rule.entry
            for t in rules.types_of(line.match)
        }
    )


def _highest(ctx: Context, table: str, key: str = "id") -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT coalesce(max({key}), 0) FROM {table}")).scalar_one())


def _floor(ctx: Context, copies: Sequence[tuple[str, str, str, str]]) -> float:
    """Seconds to write rows a job wrote again, by the fastest means the store has: one
    ``INSERT ... SELECT`` per table from the rows themselves, into the real table with
    its indexes, keys and triggers, in one transaction rolled back. ``copies`` names each
    table, the columns written (what a job sets), the values (those columns, or what
    stands for them where a key must differ) and the rows (a condition on it).

    No design that stores these rows in this schema can write them faster: the gap
    between a job and its join plus this floor is what the job's own work costs. On
    PostgreSQL the rolled-back rows are vacuumed away after, so later runs do not read
    them."""
    raw = ctx.engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        for table, columns, values, rows in copies:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {values} FROM {table} WHERE {rows}"
            )
        seconds = time.perf_counter() - started
        raw.rollback()
    finally:
        raw.close()
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM {', '.join(table for table, *_ in copies)}"))
    return seconds


#: What a recompute writes to an entry and to its event; the ids are the store's.
ENTRY_WRITTEN = (
    "list_code, line, subject_id, trigger_record_id, valid_from, valid_until, until_basis, "
    "record_ids, reason, status, evaluator, rules_version, created_at"
)
EVENT_WRITTEN = (
    "kind, occurred_at, origin, subject_id, subject_code, record_id, record_version, "
    "list_entry_id, source, disclosure, is_public, tombstone, payload, public_payload, head_text"
)
LINE_WRITTEN = "line, code_display, subject_id, status, digest, answer"


def bench_recompute(ctx: Context, store: str) -> list[Row]:
    def run() -> Any:
        with ctx.sessions.begin() as session:
            return recompute_lists(session, zone=ctx.settings.timezone)

    entries_before, events_before = _highest(ctx, "list_entries"), _highest(ctx, "feed_events")
    cold, result = _timed(run)
    floor = _floor(
        ctx,
        [
            ("list_entries", ENTRY_WRITTEN, ENTRY_WRITTEN, f"id > {entries_before}"),
            ("feed_events", EVENT_WRITTEN, EVENT_WRITTEN, f"id > {events_before}"),
        ],
    )
    warm, again = _timed(run)
    types = ", ".join(f"'{t}'" for t in _list_types())

    def plain() -> None:
        with ctx.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TEMPORARY TABLE plain_join AS SELECT r.subject_id, r.id, "
                    "r.decision_date, s.kind FROM records r JOIN subjects s ON s.id = r.subject_id "
                    f"WHERE r.type_code IN ({types}) AND r.status IN "
                    "('active', 'under_objection', 'corrected')"
                )
            )
            conn.execute(text("DROP TABLE plain_join"))

    base, _ = _timed(plain)

    def grades() -> Any:
        with ctx.sessions.begin() as session:
            return recompute_grades(session, as_of=TODAY, zone=ctx.settings.timezone)

    graded_s, graded = _timed(grades)
    return [
        Row(store, f"recompute all lists ({result.entries:,} entries)", f"{cold:.1f} s",
            f"{base:.1f} s", f"{cold / base:.1f}×", "≤ 120 s"),
        Row(store, f"floor: its {result.added:,} entries and their events written again",
            f"{floor:.1f} s", f"{base:.1f} s", f"{cold / (base + floor):.1f}× join + floor", ""),
        Row(store, f"recompute again, unchanged (+{again.added}/-{again.superseded})",
            f"{warm:.1f} s", f"{base:.1f} s", f"{warm / base:.1f}×", ""),
        Row(store, f"grades of organisations ({graded.grades:,})", f"{graded_s:.1f} s", "", "", ""),
    ]  # fmt: skip


def bench_batch(ctx: Context, store: str, subjects: Subjects, work: Path) -> list[Row]:
    source = work / "codes.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code"])
        writer.writerows([subjects.code(i)] for i in range(1, subjects.count + 1))
    out = work / "results.csv"
    checks_before = _highest(ctx, "checks")
    seconds, report = _timed(
        lambda: screen_file(
            ctx, source, action=ACTION, inquirer="bench", purpose="benchmark", as_of=TODAY, out=out
        )
    )
    keys = [
        (pos, ctx.vault.lookup_key(c) if subjects.is_person(pos) else c)
        for pos, c in ((i, subjects.code(i)) for i in range(1, subjects.count + 1))
    ]
    lists = ", ".join(f"'{c}'" for c in packaged_rules().lists_for(ACTION))

    def plain() -> int:
        raw = ctx.engine.raw_connection()
        try:
            driver = raw.driver_connection
            cursor = raw.cursor()
            cursor.execute("CREATE TEMPORARY TABLE plain_input (pos INTEGER, key VARCHAR(80))")
            if isinstance(driver, psycopg.Connection):
                with (
                    driver.cursor() as cur,
                    cur.copy("COPY plain_input (pos, key) FROM STDIN") as copy,
                ):
                    for row in keys:
                        copy.write_row(row)
            else:
                cursor.executemany("INSERT INTO plain_input VALUES (?, ?)", keys)
            cursor.execute(
                "SELECT i.pos, s.id, e.list_code, e.valid_until, e.record_ids FROM plain_input i "
                "JOIN subjects s ON s.key = i.key LEFT JOIN list_entries e ON e.subject_id = s.id "
                f"AND e.status = 'current' AND e.list_code IN ({lists}) "
                f"AND e.valid_from <= '{TODAY}' AND e.valid_until >= '{TODAY}'"
            )
            rows = len(cursor.fetchall())
            cursor.execute("DROP TABLE plain_input")
            raw.commit()
            return rows
        finally:
            raw.close()

    base, _ = _timed(plain)
    # The batch's lines again under a check id no batch has (the key is check and line).
    floor = _floor(
        ctx,
        [
            (
                "check_lines",
                f"check_id, {LINE_WRITTEN}",
                f"-check_id, {LINE_WRITTEN}",
                f"check_id > {checks_before}",
            )
        ],
    )
    counts = ", ".join(f"{n:,} {s}" for s, n in report.counts.items() if n)
    return [
        Row(store, f"screen {subjects.count:,} subjects for {ACTION} ({counts})",
            f"{seconds:.1f} s", f"{base:.1f} s", f"{seconds / base:.1f}×", "≤ 30 s"),
        Row(store, f"floor: its {subjects.count:,} check lines written again",
            f"{floor:.1f} s", f"{base:.1f} s", f"{seconds / (base + floor):.1f}× join + floor",
            ""),
    ]  # fmt: skip


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def bench_checks(ctx: Context, store: str, subjects: Subjects, count: int) -> list[Row]:
    rnd = random.Random(7)
    picks = [subjects.code(rnd.randint(1, subjects.count)) for _ in range(count)]
    # The batch before this left a million lines in SQLite's log; its background
    # checkpoint is another job's cost, so the checks start once it is done.
    deadline = time.monotonic() + 120
    while ctx.checkpointer and not ctx.checkpointer.caught_up() and time.monotonic() < deadline:
        time.sleep(0.1)
    for code in picks[:20]:
        check(ctx, code, ACTION, as_of=TODAY, inquirer="bench", purpose="warm-up")
    samples = []
    started = time.perf_counter()
    for code in picks:
        t = time.perf_counter()
        check(ctx, code, ACTION, as_of=TODAY, inquirer="bench", purpose="benchmark")
        samples.append(time.perf_counter() - t)
    rate = count / (time.perf_counter() - started)
    p50, p99 = _percentiles(samples)
    base_samples = []
    query = text(
        "SELECT r.id, r.type_code, r.status, r.decision_date, r.content FROM subjects s "
        "JOIN records r ON r.subject_id = s.id WHERE s.key = :key"
    )
    with ctx.engine.connect() as conn:
        for code in picks:
            key = ctx.keys.key_for_code(code)
            t = time.perf_counter()
            conn.execute(query, {"key": key}).all()
            base_samples.append(time.perf_counter() - t)
    b50, b99 = _percentiles(base_samples)
    rules = packaged_rules()
    evaluated = []
    with ctx.sessions() as session:
        for code in picks:
            t = time.perf_counter()
            key, shown = key_and_shown(code, ctx.keys)
            found = load_file_by_key(session, key, ctx.settings.timezone)
            answer_from_file(rules, ACTION, TODAY, shown, found)
            evaluated.append(time.perf_counter() - t)
    e50, e99 = _percentiles(evaluated)
    commits = []
    with ctx.engine.connect() as conn:
        for _ in picks[:500]:
            t = time.perf_counter()
            conn.execute(text("UPDATE audit_head SET last_id = last_id WHERE id = 1"))
            conn.commit()
            commits.append(time.perf_counter() - t)
    c50, c99 = _percentiles(commits)
    return [
        Row(store, f"single check, certified and audited ({rate:,.0f} checks/s)",
            f"{p50:.2f} / {p99:.2f} ms", f"{b50:.2f} / {b99:.2f} ms", f"{p99 / b99:.1f}×",
            "p99 ≤ 5 ms"),
        Row(store, "single check, evaluation only (read file, rules, answer)",
            f"{e50:.2f} / {e99:.2f} ms", f"{b50:.2f} / {b99:.2f} ms", f"{e99 / b99:.1f}×",
            "p99 ≤ 5 ms"),
        Row(store, "floor: one durable commit of a one-row update", f"{c50:.2f} / {c99:.2f} ms",
            "", "", ""),
    ]  # fmt: skip


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        ram = f"{int(memory) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        ram = "RAM unknown"
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL (local socket)"
    )


def table(rows: list[Row], title: str) -> Table:
    out = Table(title=title)
    for column in ("store", "measure", "bonafides", "plain SQL join", "ratio", "target"):
        out.add_column(column, justify="left" if column in ("store", "measure") else "right")
    for row in rows:
        out.add_row(row.store, row.what, row.ours, row.baseline, row.ratio, row.target)
    return out


def write_results(
    rows: list[Row], subjects: int, records: dict[str, int], command: str, load: str
) -> None:
    lines = [
        "",
        f"## rules_bench: lists, screening, checks ({dt.date.today().isoformat()})",
        "",
        f"`{command}` — {subjects:,} subjects, "
        + ", ".join(f"{n:,} records on {s}" for s, n in records.items())
        + f". Machine: {machine()}. Load average {load} during the run (other processes "
        "shared the cores, and latencies are inflated by as much).",
        "",
        "| store | measure | bonafides | plain SQL join | ratio | target |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r.store} | {r.what} | {r.ours} | {r.baseline} | {r.ratio} | {r.target} |"
            for r in rows
        ),
        "",
    ]
    with RESULTS.open("a", encoding="utf-8") as handle:
        if RESULTS.stat().st_size == 0:
            handle.write("# Benchmark results\n")
        handle.write("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checks", type=int, default=2_000, help="Single checks to time.")
    parser.add_argument(
        "--stores",
        default="sqlite,postgresql",
        help="Of sqlite, postgresql and partitioned (PostgreSQL hash-partitioned by subject).",
    )
    parser.add_argument(
        "--partitions", type=int, default=16, help="Partitions of the partitioned store."
    )
    parser.add_argument(
        "--pg-prefix", default="bonafides_rules_bench", help="Names of the PostgreSQL stores."
    )
    parser.add_argument("--pg", default="postgresql+psycopg:///postgres", help="Admin URL.")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "bonafides-bench"
    )
    parser.add_argument("--no-results", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args(argv)
    subjects = Subjects(args.subjects)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    start = os.getloadavg()[1]
    rows: list[Row] = []
    records: dict[str, int] = {}
    for store in args.stores.split(","):
        if store == "sqlite":
            url = f"sqlite:///{args.data_dir / f'rules-{args.subjects}-{args.seed}.db'}"
        else:
            name = f"{args.pg_prefix}_{args.subjects}_{args.seed}"
            if store == "partitioned":
                name += f"_p{args.partitions}"
            admin = make_engine(args.pg).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                if not conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first():
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        partitions = args.partitions if store == "partitioned" else 0
        ctx, records[store] = prepare(url, subjects, args.seed, partitions)
        try:
            with tempfile.TemporaryDirectory(dir=args.data_dir) as work:
                part = bench_recompute(ctx, store)
                part += bench_batch(ctx, store, subjects, Path(work))
                part += bench_checks(ctx, store, subjects, args.checks)
        finally:
            ctx.close()
        console.print(
            table(part, f"{store}: {args.subjects:,} subjects, {records[store]:,} records")
        )
        rows += part
    console.print(table(rows, "rules_bench"))
    if not args.no_results:
        command = (
            f"benchmarks/rules_bench.py --subjects {args.subjects} --checks {args.checks} "
            f"--stores {args.stores}"
            + (f" --partitions {args.partitions}" if "partitioned" in args.stores else "")
        )
        end = os.getloadavg()[1]
        write_results(rows, args.subjects, records, command, f"{start:.1f}–{end:.1f}")


if __name__ == "__main__":
    main()
