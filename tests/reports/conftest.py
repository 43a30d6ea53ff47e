"""A migrated store with the catalogue, signing keys in a temporary directory, and helpers
that put records, list entries and grades where a report reads them.

Time is fixed: reports are issued at ``NOW`` so publication periods, the five-year limit
and validity come out the same on every run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bonafides.app.reports import issue_report
from bonafides.context import Context
from bonafides.records import RecordInput, RecordStatus, SubjectRef
from bonafides.reports import render
from bonafides.reports.envelope import SignedReport
from bonafides.reports.model import ReportRequest
from bonafides.rules.records import write_records
from bonafides.security.signing import FileKeyStore, keys_dir
from bonafides.settings import Settings, get_settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.subjects import find
from bonafides.store.tables import Grade, ListEntry, Record
from bonafides.store.types import utcnow

SECRET = "reports-test-secret-0123456789"
VERIFY_URL = "https://credit.example.gov.cn/verify"
ZONE = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZONE)
TODAY = NOW.date()


def make_settings(db_url: str, data_dir: Path) -> Settings:
    return Settings(
        db=db_url,
        secret_key=SECRET,
        data_dir=data_dir,
        report_verify_url=VERIFY_URL,
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path / "var")


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment a CLI command reads its settings from."""
    monkeypatch.setenv("BONAFIDES_DB", settings.db)
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BONAFIDES_REPORT_VERIFY_URL", settings.report_verify_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context(settings)
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


@pytest.fixture
def keys(settings: Settings) -> FileKeyStore:
    return FileKeyStore(keys_dir(settings.data_dir))


def put(ctx: Context, *items: RecordInput) -> None:
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, list(items), actor="test")


def record(
    subject: SubjectRef,
    type_code: str,
    *,
    source: str,
    decided: dt.date,
    content: dict[str, Any],
    published_until: dt.date | None = None,
    status: RecordStatus = RecordStatus.ACTIVE,
    decision_no: str | None = None,
) -> RecordInput:
    """A record of any type, its content as given (reports read content, not raw rows)."""
    number = decision_no or f"{source}-{type_code}-{decided.isoformat()}-{subject.code[-6:]}"
    return RecordInput(
        type_code=type_code,
        source=source,
        decision_no=number,
        decision_date=decided,
        subject=subject,
        content={"subject_name": subject.name, "decision_no": number, **content},
        raw={},
        legal_basis=None,
        status=status,
        published_until=published_until,
        retention_until=decided + dt.timedelta(days=3650),
    )


def subject_id(ctx: Context, code: str) -> int:
    with ctx.sessions() as session:
        found = find(session, ctx.keys, code)
        assert found is not None
        return found.id


def record_id(ctx: Context, decision_no: str) -> int:
    from sqlalchemy import select

    with ctx.sessions() as session:
        rid = session.scalar(select(Record.id).where(Record.decision_no == decision_no))
        assert rid is not None
        return rid


def list_entry(
    ctx: Context,
    code: str,
    decision_no: str,
    *,
    list_code: str,
    valid_from: dt.date,
    valid_until: dt.date,
    reason: str = "test#1: listed",
) -> None:
    """An entry as ``bonafides.rules`` stores it, triggered by an existing record."""
    with ctx.sessions.begin() as session:
        session.add(
            ListEntry(
                list_code=list_code,
                line=1,
                subject_id=subject_id(ctx, code),
                trigger_record_id=record_id(ctx, decision_no),
                valid_from=valid_from,
                valid_until=valid_until,
                until_basis="term",
                record_ids=str(record_id(ctx, decision_no)),
                reason=reason,
                status="current",
                evaluator="rules-v1",
                rules_version="test",
                created_at=utcnow(),
            )
        )


def grade(
    ctx: Context,
    code: str,
    *,
    scheme: str,
    value: str,
    as_of: dt.date,
    line: int,
    behind: Sequence[str] = (),
) -> None:
    """A grade as ``bonafides.rules`` stores it, decided by the records numbered ``behind``."""
    ids = ",".join(str(record_id(ctx, number)) for number in behind)
    with ctx.sessions.begin() as session:
        session.add(
            Grade(
                subject_id=subject_id(ctx, code),
                scheme=scheme,
                grade=value,
                as_of=as_of,
                line=line,
                record_ids=ids,
                evaluator="rules-v1",
                rules_version="test",
                computed_at=utcnow(),
            )
        )


def issue(ctx: Context, keys: FileKeyStore, code: str, **kw: Any) -> Any:
    return issue_report(ctx, ReportRequest(code=code, **kw), actor="test", keys=keys, now=NOW)


def same_render(pdf: bytes) -> bytes:
    """A PDF without what differs between two renders of one document: the attachment's
    timestamps, and the file identifier's hash over them."""
    pdf = re.sub(rb"\(D:\d{14}Z\)", b"(D:0)", pdf)
    return re.sub(rb"/ID \[[^]]*\]", b"/ID []", pdf)


def pdf_with_full_ua_sheet(
    monkeypatch: pytest.MonkeyPatch, signed: SignedReport, lang: str
) -> bytes:
    """The document's PDF cascaded with WeasyPrint's whole user-agent sheet."""
    with monkeypatch.context() as patched:
        patched.setattr(render, "_ua_sheet_covers", lambda _root: False)
        return render.render_pdf(signed, lang)
