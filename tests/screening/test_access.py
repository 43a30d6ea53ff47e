"""A batch screening is in the access log of each subject it screened: who, when, why.

What a subject sees (``store.access.access_log``, which the API, the /me page and the full
report read through ``events_about``) is pinned here line for line, on both stores and the
partitioned one, and the chain pins which subjects a batch screened.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from bonafides.app.screening import check, screen_file
from bonafides.context import Context
from bonafides.records import SubjectRef
from bonafides.security import audit
from bonafides.store.access import access_log, events_about
from bonafides.store.tables import AuditEvent, Check, CheckLine, Subject
from tests import factories
from tests.rules.fixtures import Write
from tests.screening.test_batch import codes_file

pytestmark = pytest.mark.partitioned

DAY = dt.date(2026, 1, 15)


def _id(ctx: Context, subject: SubjectRef) -> int:
    with ctx.sessions() as session:
        found = session.scalar(select(Subject.id).where(Subject.code_display == subject.code))
    assert found is not None
    return found


def _event(ctx: Context, cert: str) -> AuditEvent:
    with ctx.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.object_ref == f"certificate {cert}")
        ).one()
        session.expunge(event)
    return event


def _seen(ctx: Context, subject_id: int, **kw: Any) -> list[tuple[Any, ...]]:
    with ctx.sessions() as session:
        return [
            (e.id, e.at, e.actor, e.department, e.tag, e.purpose, e.what, e.action)
            for e in access_log(session, subject_id, **kw)
        ]


def _screen(ctx: Context, path: Path, **kw: Any) -> str:
    return screen_file(ctx, path, action="procurement.bid", as_of=DAY, **kw).cert_id


def test_a_subject_sees_each_batch_that_screened_it_as_it_did(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    listed, clean, bystander = factories.org(), factories.org(), factories.org()
    write("courts.defaulter", listed, dt.date(2025, 6, 1), performance="none")
    write("market.penalty", clean, dt.date(2025, 6, 1), source="samr", severity="minor")
    write("market.penalty", bystander, dt.date(2025, 6, 1), source="samr", severity="minor")
    first = codes_file(
        tmp_path / "a.csv",
        [clean.code, listed.code, clean.code, "not a code", factories.org().code],
    )
    cert_a = _screen(ctx, first, inquirer="user:buyer@mof", purpose="投标审查 7", department="mof")
    single = check(
        ctx, listed.code, "procurement.bid", as_of=DAY, inquirer="key:3:bank", purpose="贷款"
    )
    second = codes_file(tmp_path / "b.csv", [listed.code])
    cert_b = _screen(ctx, second, inquirer="user:clerk@ndrc", purpose="tender 8", department=None)
    a, b = _event(ctx, cert_a), _event(ctx, cert_b)
    with ctx.sessions() as session:
        one = session.scalars(select(AuditEvent).where(AuditEvent.subject_id.is_not(None))).all()
    by_single = [e for e in one if e.object_ref == f"certificate {single.cert_id}"]
    assert len(by_single) == 1
    s = by_single[0]
    tag, bid = "screening:check:issued", "procurement.bid"

    assert _seen(ctx, _id(ctx, listed)) == [
        (b.id, b.at, "user:clerk@ndrc", None, tag, "tender 8", f"certificate {cert_b}.2", bid),
        (s.id, s.at, "key:3:bank", None, tag, "贷款", f"certificate {single.cert_id}", bid),
        (a.id, a.at, "user:buyer@mof", "mof", tag, "投标审查 7", f"certificate {cert_a}.3", bid),
        *_seen(ctx, _id(ctx, listed), before_id=a.id),
    ]
    assert _seen(ctx, _id(ctx, clean), since=a.at) == [
        (a.id, a.at, "user:buyer@mof", "mof", tag, "投标审查 7", f"certificate {cert_a}.2", bid)
    ]
    assert not [row for row in _seen(ctx, _id(ctx, bystander)) if row[4] == tag]
    assert _seen(ctx, _id(ctx, listed), before_id=b.id, limit=1) == [
        (s.id, s.at, "key:3:bank", None, tag, "贷款", f"certificate {single.cert_id}", bid)
    ]
    with ctx.sessions() as session:
        about = events_about(_id(ctx, clean))
        rows = session.execute(about.where(about.selected_columns.tag == tag)).all()
        assert [(r.id, r.what, r.detail["department"]) for r in rows] == [
            (a.id, f"certificate {cert_a}.2", "mof")
        ]
        assert audit.verify(session).ok


def test_the_chain_pins_the_subjects_a_batch_screened(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    """The subjects of a batch are its lines: a line taken out of the store directly no
    longer matches the subjects digest of the batch's chained event."""
    listed, clean = factories.org(), factories.org()
    write("courts.defaulter", listed, dt.date(2025, 6, 1), performance="none")
    cert = _screen(
        ctx,
        codes_file(tmp_path / "a.csv", [clean.code, listed.code]),
        inquirer="u",
        purpose="p",
    )
    event = _event(ctx, cert)
    with ctx.sessions() as session:
        assert audit.verify(session).ok
        stored = session.scalars(select(Check).where(Check.cert_id == cert)).one()
    with ctx.engine.begin() as conn:
        conn.execute(delete(CheckLine).where(CheckLine.check_id == stored.id, CheckLine.line == 3))
    with ctx.sessions() as session:
        report = audit.verify(session)
    assert (report.first_broken, report.reason) == (
        event.id,
        "its subject links do not match its subjects digest",
    )


def test_a_batch_naming_no_stored_subject_is_in_no_log(ctx: Context, tmp_path: Path) -> None:
    """Every line unknown or invalid: each is answered, and no subject is linked."""
    codes = [factories.org().code, factories.org().code, "not a code"]
    report = screen_file(
        ctx,
        codes_file(tmp_path / "a.csv", codes),
        action="procurement.bid",
        as_of=DAY,
        inquirer="u",
        purpose="p",
    )
    assert report.counts == {"measures_apply": 0, "clear": 0, "unknown": 2, "invalid": 1}
    event = _event(ctx, report.cert_id)
    assert event.detail["subjects"] == 0
    with ctx.sessions() as session:
        assert audit.verify(session).ok


def test_only_lines_naming_a_subject_are_indexed_by_subject(ctx: Context) -> None:
    """A batch's unknown and invalid lines name no subject: the subject index leaves them
    out (a batch of unknown codes then writes no index entry per line), and a subject's
    lines are still found through it (on a partitioned store, through each partition's
    copy of it)."""
    found = select(CheckLine.check_id, CheckLine.line).where(CheckLine.subject_id == 5)
    with ctx.sessions.begin() as session:
        conn = session.connection()
        query = str(found.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            definition = session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_check_lines_subject_id'")
            )
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}"))
            )
        else:
            definition = session.scalar(
                text(
                    "SELECT string_agg(DISTINCT indexdef, ' ') FROM pg_indexes "
                    "WHERE indexname LIKE 'ix_check_lines_subject_id%'"
                )
            )
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(row[0]) for row in conn.execute(text(f"EXPLAIN {query}")))
    assert "subject_id IS NOT NULL" in str(definition).replace("(", "").replace(")", "")
    assert "ix_check_lines_subject_id" in plan or "_subject_id_check_id_line_idx" in plan
