"""Clean rows written as columns store exactly what the row-by-row path stores.

The same files (clean, amended, unchanged, invalid, code-less, matched by name, a decision
twice in one file, one meeting a corrected record, rows of a subject named again) are
ingested into two fresh stores: once as bulk ingest runs (``ChunkWriter.by_columns``), once
with every row checked and written alone. Every stored record, version, digest, feed
event, rejection, review item, match, batch count, note, audit detail and report must be
the same; only the moments written differ.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Table, Text, cast, select

from bonafides.app.ingest import ingest_file
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.context import Context
from bonafides.ingest.service import ChunkWriter
from bonafides.records import RecordStatus
from bonafides.settings import Settings
from bonafides.store.records import change_status
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import (
    AuditEvent,
    Base,
    FeedEvent,
    IngestBatch,
    IngestRejection,
    MatchLink,
    Record,
    RecordVersion,
    ReviewItem,
    Subject,
    SubjectName,
)
from bonafides.store.types import UTCDateTime
from tests import factories
from tests.conftest import _truncate_all

PENALTY = "market.penalty"
#: Stored by the first file, corrected, then sent again with another fine.
CORRECTED = "京罚〔2025〕9号"
MOMENT = re.compile(r'"occurred_at":"[^"]*"')
TABLES: tuple[type[Base], ...] = (
    Subject,
    SubjectName,
    Record,
    RecordVersion,
    FeedEvent,
    IngestRejection,
    ReviewItem,
    IngestBatch,
    MatchLink,
)


def _context(url: str) -> Context:
    ctx = Context(Settings(db=url, secret_key="test-secret-key-123", demo=True))
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    return ctx


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _files(tmp_path: Path, penalty: RecordType) -> list[Path]:
    """A first file and a resubmission mixing every kind of row."""
    today = factories.office_today()
    day = today - dt.timedelta(days=40)
    fine = penalty.content_field("fine_amount_10k_yuan").column_zh
    code = penalty.content_field("uscc").column_zh
    number = penalty.content_field("decision_no").column_zh
    firms = [factories.org() for _ in range(6)]
    first = [
        factories.content_row(
            penalty, firms[i % 4], decision_date=day, decision_no=f"京罚〔2025〕{i}号"
        )
        for i in range(1, 13)
    ]
    first[3][fine] = "12.5"
    bad_code = factories.content_row(penalty, firms[4], decision_date=day)
    bad_code[code] = bad_code[code][:-1] + ("0" if bad_code[code][-1] != "0" else "1")
    future = factories.content_row(penalty, firms[5], decision_date=today + dt.timedelta(days=3))
    codeless = factories.content_row(penalty, factories.org(), decision_date=day)
    codeless[code] = ""
    messy = factories.content_row(penalty, firms[5], decision_date=day)
    messy[number] = " " + messy[number].replace("〔", "[").replace("〕", "]") + " "
    twice = {**first[5], fine: "3.5"}
    rows_a = [*first[:6], bad_code, future, codeless, *first[6:], messy, twice]
    second = [dict(row) for row in first]
    second[1][fine] = "7.0"
    second[8][fine] = "9.9"
    assert second[8][number] == CORRECTED
    fresh = [
        factories.content_row(
            penalty, firms[i], decision_date=day, decision_no=f"京罚〔2026〕{i}号"
        )
        for i in range(3)
    ]
    no_number = factories.content_row(penalty, firms[2], decision_date=day, decision_no="")
    # Named, not coded: matched to the stored subject of that name.
    named = factories.content_row(penalty, firms[0], decision_date=day)
    named[code] = ""
    rows_b = [*second[:7], no_number, *fresh, named, *second[7:], codeless]
    return [_write(tmp_path / "a.csv", rows_a), _write(tmp_path / "b.csv", rows_b)]


def _stored(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the ingest wrote, without the moments it wrote them at."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with ctx.sessions() as session:
        for model in TABLES:
            table = model.__table__
            assert isinstance(table, Table)
            # JSON as the store spells it (the text SQLite keeps, jsonb's own on PostgreSQL).
            kept = [
                cast(c, Text) if isinstance(c.type, JSON) else c
                for c in table.columns
                if not isinstance(c.type, UTCDateTime)
            ]
            rows = session.execute(select(*kept).order_by(*table.primary_key.columns))
            # The head kept as text spells the event's moment too.
            found[table.name] = [
                tuple(MOMENT.sub("", v) if isinstance(v, str) else v for v in row) for row in rows
            ]
        found["audit_events"] = [
            tuple(row)
            for row in session.execute(
                select(
                    AuditEvent.actor,
                    AuditEvent.tag,
                    AuditEvent.object_ref,
                    cast(AuditEvent.detail, Text),
                ).order_by(AuditEvent.id)
            )
        ]
    return found


def _run(url: str, files: list[Path], by_columns: bool) -> tuple[Any, ...]:
    ChunkWriter.by_columns = by_columns
    ctx = _context(url)
    try:
        reports = []
        for n, path in enumerate(files):
            if n == 1:
                # Corrected on objection after the first file: the second's other values
                # for it are held.
                with ctx.sessions.begin() as session:
                    change_status(
                        session,
                        source="samr",
                        decision_no=CORRECTED,
                        status=RecordStatus.CORRECTED,
                        actor="test",
                        reason="objection granted",
                    )
            report = ingest_file(
                ctx, path, type_code=PENALTY, source="samr", actor="test", chunk_rows=7
            ).to_json()
            report.pop("seconds")
            reports.append(report)
        return reports, _stored(ctx)
    finally:
        ctx.close()
        ChunkWriter.by_columns = True


@pytest.fixture
def fresh_store(db_url: str, sqlite_template: Path) -> Any:
    def reset() -> None:
        if db_url.startswith("sqlite"):
            path = Path(db_url.removeprefix("sqlite:///"))
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(sqlite_template, path)
        else:
            _truncate_all(db_url)

    return reset


def test_columns_store_what_rows_store(db_url: str, fresh_store: Any, tmp_path: Path) -> None:
    files = _files(tmp_path, load_catalogue().type(PENALTY))
    reports, stored = _run(db_url, files, by_columns=True)
    fresh_store()
    reports_by_row, stored_by_row = _run(db_url, files, by_columns=False)
    counts = [r["summary"] for r in reports]
    # Each kind of row is there: created, amended (twice in one file, and again by the
    # second file), unchanged, rejected, sent to review, matched by name, held.
    assert counts == [
        {**counts[0], "accepted": 13, "amended": 1, "unchanged": 0, "rejected": 2, "review": 1},
        {**counts[1], "accepted": 4, "amended": 2, "unchanged": 9, "held": 1, "matched": 1},
    ]
    assert stored["feed_events"]
    assert reports == reports_by_row
    for name in stored:
        assert stored[name] == stored_by_row[name], name
