"""A store with public, non-public, ended and minors' data, for exports, on both stores."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bonafides.context import Context
from bonafides.records import RecordInput, RecordStatus, SubjectRef
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import ListEntry, Record, RecordVersion, Subject
from tests import factories
from tests.security.world import record_of

TODAY = factories.office_today()
SECRET = "export-test-secret-0123456789"
MINOR_NAME = "李小明"
ADULT_NAME = "张三丰"


@dataclasses.dataclass
class World:
    firm: SubjectRef
    adult: SubjectRef
    minor: SubjectRef
    public_ids: set[int]
    hidden_ids: set[int]
    entry_ids: set[int]
    hidden_entry_ids: set[int]
    decision_nos: dict[str, str]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(db=db_url, secret_key=SECRET, data_dir=tmp_path / "data")


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context(settings)
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def defaulter(who: SubjectRef, days_ago: int) -> RecordInput:
    return record_of(
        "courts.defaulter", who, source="spc", decided=TODAY - dt.timedelta(days=days_ago)
    )


def ids_of(ctx: Context, decision_nos: list[str]) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.execute(
            select(Record.decision_no, Record.id).where(Record.decision_no.in_(decision_nos))
        )
        return {str(no): int(ident) for no, ident in rows.all()}


def age_everything(ctx: Context, days: int = 3) -> None:
    """Make every version and entry look written ``days`` ago, so a delta since today
    holds only what a test changes afterwards."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with ctx.sessions.begin() as session:
        session.execute(update(RecordVersion).values(changed_at=then))
        session.execute(update(ListEntry).values(created_at=then))
        session.execute(
            update(ListEntry).where(ListEntry.superseded_at.is_not(None)).values(superseded_at=then)
        )


@pytest.fixture
def world(ctx: Context) -> World:
    firm = factories.org(region="330106", name="杭州失信测试有限公司")
    adult = factories.person(region="110105", name=ADULT_NAME)
    minor = factories.person(birth=TODAY - dt.timedelta(days=365 * 15), name=MINOR_NAME)
    shop = factories.org(name='=HYPERLINK("http://evil")有限公司')
    items = {
        "firm": defaulter(firm, 10),
        "adult": defaulter(adult, 40),
        "minor": defaulter(minor, 5),
        "penalty": factories.penalty(shop, decision_date=TODAY - dt.timedelta(days=30)),
        # Past its publication period (a year for a general penalty).
        "ended": factories.penalty(factories.org(), decision_date=TODAY - dt.timedelta(days=800)),
        # Restricted: authorities with a purpose only.
        "restricted": record_of(
            "procuratorate.bribery_record",
            factories.org(),
            source="spp",
            decided=TODAY - dt.timedelta(days=20),
        ),
        "revoked": defaulter(factories.org(), 50),
    }
    items["revoked"] = dataclasses.replace(items["revoked"], status=RecordStatus.REVOKED)
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, list(items.values()), actor="test")
    numbers = {name: item.decision_no for name, item in items.items()}
    ids = ids_of(ctx, list(numbers.values()))
    with ctx.sessions.begin() as session:
        minor_id, minor_record = session.execute(
            select(Subject.id, Record.id)
            .join(Record, Record.subject_id == Subject.id)
            .where(Subject.name == MINOR_NAME)
        ).one()
        # The evaluator never lists a minor; an entry planted anyway must not be exported.
        planted = ListEntry(
            list_code="courts.defaulters",
            line=1,
            subject_id=minor_id,
            trigger_record_id=minor_record,
            valid_from=TODAY - dt.timedelta(days=5),
            valid_until=TODAY + dt.timedelta(days=700),
            until_basis="term",
            record_ids=str(minor_record),
            reason="courts.defaulters#1: planted",
            status="current",
            evaluator="rules-v1",
            rules_version="test",
            created_at=dt.datetime.now(dt.UTC),
        )
        session.add(planted)
        session.flush()
        entries = dict(
            session.execute(
                select(ListEntry.trigger_record_id, ListEntry.id).where(
                    ListEntry.status == "current"
                )
            ).all()
        )
    public = {"firm", "adult", "penalty"}
    return World(
        firm=firm,
        adult=adult,
        minor=minor,
        public_ids={ids[numbers[n]] for n in public},
        hidden_ids={ids[numbers[n]] for n in numbers if n not in public},
        entry_ids={entries[ids[numbers["firm"]]], entries[ids[numbers["adult"]]]},
        hidden_entry_ids={planted.id},
        decision_nos=numbers,
    )
