"""Principle 2, "everything ends": past its retention date a record is no longer credit
information for anyone but its subject, before any job runs, and ``records expire`` then
records the end as a status."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bonafides.app.screening import check
from bonafides.cli import app
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.records import RecordInput, SubjectRef
from bonafides.rules.records import write_records
from bonafides.security.files import read_subject
from bonafides.security.roles import ROLE_SCOPES, Principal, Role
from bonafides.store.profiles import profile_of
from bonafides.store.tables import AuditEvent, Record, RecordVersion, Subject, SubjectAccess
from bonafides.workflows.retention import expire_records
from tests import factories
from tests.rules.fixtures import decision

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

TODAY = dt.date(2026, 12, 6)
DECIDED = dt.date(2020, 12, 10)
PUBLISHED_UNTIL = dt.date(2023, 12, 10)
RETAINED_UNTIL = dt.date(2025, 12, 10)
MOF_OFFICER = Principal(
    role=Role.INQUIRER,
    username="buyer@mof",
    department="mof",
    scopes=ROLE_SCOPES[Role.INQUIRER],
    via="session",
)


def store_2020_decision(ctx: Context, firm: SubjectRef) -> RecordInput:
    """A 2020 entry in the abnormal operations directory: public until 2023, kept until
    2025, and by its list rule on the serious violation list from 2023 to 2026."""
    item = dataclasses.replace(
        decision("market.abnormal_operations", firm, DECIDED, source="samr"),
        published_until=PUBLISHED_UNTIL,
        retention_until=RETAINED_UNTIL,
    )
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="samr")
    return item


def served(ctx: Context, firm: SubjectRef, principal: Principal, today: dt.date) -> list[str]:
    with ctx.sessions.begin() as session:
        subject = session.scalars(select(Subject)).one()
        assert subject.key == firm.code
        read = read_subject(
            session, ctx.catalogue, principal, subject, purpose="tender 2026-17", today=today
        )
        return [r.decision_no for r in read.profile.records]


def lists_on(ctx: Context, firm: SubjectRef, day: dt.date) -> set[str]:
    answer = check(
        ctx, firm.code, "inspection.frequency", as_of=day, inquirer="t@mof", purpose="p"
    ).answer
    return {e["list"] for m in answer.get("measures", []) for e in m["entries"]}


def test_a_record_past_retention_is_served_to_no_authority(ctx: Context) -> None:
    firm = factories.org()
    item = store_2020_decision(ctx, firm)
    assert served(ctx, firm, MOF_OFFICER, RETAINED_UNTIL) == [item.decision_no]
    assert served(ctx, firm, MOF_OFFICER, TODAY) == []
    with ctx.sessions.begin() as session:
        subject = session.scalars(select(Subject)).one()
        for audience in (Audience.PUBLIC, Audience.AUTHORITY, Audience.OPERATOR):
            seen = profile_of(session, subject, audience=audience, today=TODAY).records
            assert seen == [], audience
        own = profile_of(session, subject, audience=Audience.SUBJECT, today=TODAY).records
        assert [r.decision_no for r in own] == [item.decision_no]


def test_the_deciding_department_does_not_see_it_past_retention_either(ctx: Context) -> None:
    firm = factories.org()
    store_2020_decision(ctx, firm)
    samr = dataclasses.replace(MOF_OFFICER, role=Role.OFFICER, department="samr")
    assert served(ctx, firm, samr, RETAINED_UNTIL - dt.timedelta(days=1)) != []
    assert served(ctx, firm, samr, TODAY) == []


def test_past_publication_within_retention_authorities_see_it_the_public_does_not(
    ctx: Context,
) -> None:
    firm = factories.org()
    item = store_2020_decision(ctx, firm)
    day = dt.date(2024, 6, 1)
    assert served(ctx, firm, MOF_OFFICER, day) == [item.decision_no]
    with ctx.sessions.begin() as session:
        subject = session.scalars(select(Subject)).one()
        assert profile_of(session, subject, audience=Audience.PUBLIC, today=day).records == []


def test_list_entries_end_with_retention_before_any_job_runs(ctx: Context) -> None:
    firm = factories.org()
    store_2020_decision(ctx, firm)
    assert lists_on(ctx, firm, RETAINED_UNTIL) == {"market.serious_violation"}
    assert lists_on(ctx, firm, RETAINED_UNTIL + dt.timedelta(days=1)) == set()
    assert lists_on(ctx, firm, TODAY) == set()


def test_expire_sets_the_status_as_a_version_once(ctx: Context) -> None:
    firms = [factories.org() for _ in range(3)]
    for firm in firms[:2]:
        store_2020_decision(ctx, firm)
    kept = dataclasses.replace(
        decision("market.abnormal_operations", firms[2], DECIDED, source="samr"),
        published_until=PUBLISHED_UNTIL,
        retention_until=TODAY + dt.timedelta(days=1),
    )
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [kept], actor="samr")
        first = expire_records(session, as_of=TODAY, actor="cli:op")
    assert (first.records, first.subjects) == (2, 2)
    with ctx.sessions.begin() as session:
        rows = session.execute(select(Record.decision_no, Record.status)).all()
        statuses = dict(rows)
        assert sorted(statuses.values()) == ["active", "expired", "expired"]
        assert statuses[kept.decision_no] == "active"
        (reason,) = set(
            session.scalars(select(RecordVersion.reason).where(RecordVersion.version == 2))
        )
        assert reason == "retention ended on 2025-12-10"
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "records:retention:expired")
        ).all()
        assert len(events) == 1
        linked = session.scalar(
            select(func.count())
            .select_from(SubjectAccess)
            .where(SubjectAccess.event_id == events[0].id)
        )
        assert linked == 2
        lists = session.scalar(
            select(func.count()).select_from(RecordVersion).where(RecordVersion.version > 1)
        )
        assert lists == 2
    with ctx.sessions.begin() as session:
        again = expire_records(session, as_of=TODAY, actor="cli:op")
    assert (again.records, again.subjects) == (0, 0)
    with ctx.sessions.begin() as session:
        assert session.scalar(select(func.max(RecordVersion.version))) == 2
        tags = session.scalars(select(AuditEvent.tag)).all()
        assert tags.count("records:retention:expired") == 1
    assert lists_on(ctx, firms[0], TODAY) == set()


def test_the_cli_expires_as_of_a_day(ctx: Context, db_url: str) -> None:
    firm = factories.org()
    store_2020_decision(ctx, firm)
    runner = CliRunner()
    args = ["records", "expire", "--db", db_url, "--as-of", "2025-12-10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "0 records" in result.output
    args[-1] = TODAY.isoformat()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 record" in result.output
    with ctx.sessions.begin() as session:
        assert session.scalars(select(Record.status)).one() == "expired"
