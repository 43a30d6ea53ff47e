"""A decision taken while a person was a minor is never public, also after the 18th birthday.

The rule is about the age at the decision (principle 5): every public read path (the
file, search by name and by code, list pages and their CSV, the headline count) hides it,
on both stores, as the rules engine already leaves it off every list.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.codes import parse_resident_id
from bonafides.context import Context
from bonafides.records import SubjectRef
from bonafides.settings import Settings
from bonafides.store.tables import ListEntry, Record, Subject
from tests import factories
from tests.api.conftest import Store
from tests.security.world import record_of

TODAY = factories.office_today()
DEFAULTERS = "/api/v1/lists/courts.defaulters"
NAME = "周少年"


def _grown_up() -> tuple[SubjectRef, dt.date]:
    """A person who turned 18 ninety days ago and a day half a year back, when a minor."""
    birth = dt.date(TODAY.year - 18, TODAY.month, 1) - dt.timedelta(days=90)
    who = factories.person(birth=birth, name=NAME)
    assert who.adult_from is not None
    assert who.adult_from == parse_resident_id(who.code).adult_from
    decided = who.adult_from - dt.timedelta(days=90)
    assert who.adult_from <= TODAY
    return who, decided


def _plant_entry(settings: Settings, decided: dt.date) -> None:
    """An entry for the decision written straight into the store: the evaluator never
    lists it, and the read paths must hide one regardless."""
    ctx = Context(settings)
    try:
        with ctx.sessions.begin() as session:
            subject_id, record_id = session.execute(
                select(Subject.id, Record.id)
                .join(Record, Record.subject_id == Subject.id)
                .where(Subject.name == NAME)
            ).one()
            session.add(
                ListEntry(
                    list_code="courts.defaulters",
                    line=1,
                    subject_id=subject_id,
                    trigger_record_id=record_id,
                    valid_from=decided,
                    valid_until=TODAY + dt.timedelta(days=700),
                    until_basis="term",
                    record_ids=str(record_id),
                    reason="courts.defaulters#1: planted",
                    status="current",
                    evaluator="rules-v1",
                    rules_version="test",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    finally:
        ctx.close()


def test_a_decision_taken_as_a_minor_stays_off_every_public_path(
    client: TestClient, store: Store, settings: Settings
) -> None:
    who, decided = _grown_up()
    firm = factories.org(name="杭州公开测试有限公司")
    store(
        record_of("courts.defaulter", who, source="spc", decided=decided),
        record_of("courts.defaulter", firm, source="spc", decided=TODAY - dt.timedelta(days=5)),
    )
    _plant_entry(settings, decided)

    profile = client.get(f"/api/v1/subjects/{who.code}")
    assert profile.status_code == 404, profile.text
    assert NAME not in profile.text
    assert client.get("/api/v1/search", params={"q": NAME}).json()["hits"] == []
    assert client.get("/api/v1/search", params={"q": who.code}).json()["hits"] == []

    page = client.get(f"{DEFAULTERS}/entries", params={"limit": 200}).json()
    assert page["total"] == 1
    assert client.get(DEFAULTERS).json()["entries_in_force"] == 1
    download = client.get(f"{DEFAULTERS}/entries.csv").content.decode("utf-8-sig")
    assert "周*" not in download
    assert len(download.splitlines()) == 2

    headline = client.get("/api/v1/statistics").json()["headline"]
    assert headline["public_records"] == 1


def test_the_headline_count_leaves_out_minors_records(client: TestClient, store: Store) -> None:
    child = factories.person(birth=TODAY - dt.timedelta(days=365 * 15), name="赵小红")
    firm = factories.org()
    store(
        factories.penalty(child, decision_date=TODAY - dt.timedelta(days=2)),
        factories.penalty(firm, decision_date=TODAY - dt.timedelta(days=2)),
    )
    assert client.get("/api/v1/statistics").json()["headline"]["public_records"] == 1


def test_monthly_statistics_leave_out_decisions_taken_as_minors(
    client: TestClient, store: Store
) -> None:
    first = TODAY.replace(day=1)
    child = factories.person(birth=TODAY - dt.timedelta(days=365 * 15), name="赵小红")
    firm = factories.org()
    store(
        factories.penalty(child, decision_date=first),
        factories.penalty(firm, decision_date=first),
    )
    months = client.get("/api/v1/statistics", params={"months": 1}).json()["by_field_month"]
    assert months == [{"field": "market", "month": first.strftime("%Y-%m"), "records": 1}]


def test_the_rules_engine_leaves_the_decision_off_every_list(
    client: TestClient, store: Store, settings: Settings
) -> None:
    who, decided = _grown_up()
    store(record_of("courts.defaulter", who, source="spc", decided=decided))
    ctx = Context(settings)
    try:
        with ctx.sessions() as session:
            assert session.scalars(select(ListEntry)).all() == []
    finally:
        ctx.close()
