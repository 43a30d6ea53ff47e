"""Fixtures for rule and screening tests: a store with the catalogue loaded, and decisions
written through the real write path (so list entries are refreshed on the way)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bonafides.context import Context
from bonafides.records import RecordInput, SubjectRef
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue

_numbers = itertools.count(1)

Write = Callable[..., RecordInput]


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def decision(
    type_code: str,
    subject: SubjectRef,
    decided: dt.date,
    *,
    source: str = "spc",
    severity: str | None = None,
    **content: Any,
) -> RecordInput:
    number = f"测试〔2025〕{next(_numbers)}号"
    body = {
        "subject_name": subject.name,
        "decision_no": number,
        "decision_date": decided.isoformat(),
        **content,
    }
    if severity is not None:
        body["severity"] = severity
    return RecordInput(
        type_code=type_code,
        source=source,
        decision_no=number,
        decision_date=decided,
        subject=subject,
        content=body,
        severity=severity,
        legal_basis="test",
    )


@pytest.fixture
def write(ctx: Context) -> Write:
    """Store one decision as a department would (refreshing list entries on the way)."""

    def store(type_code: str, subject: SubjectRef, decided: dt.date, **kw: Any) -> RecordInput:
        item = decision(type_code, subject, decided, **kw)
        with ctx.sessions.begin() as session:
            write_records(session, ctx.keys, [item], actor=item.source)
        return item

    return store
