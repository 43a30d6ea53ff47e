"""The API on both stores: health, a subject's public file, problem+json errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.context import Context
from bonafides.records import RecordInput, RecordStatus
from bonafides.settings import InsecureSettingsError, Settings
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from tests import factories

SECRET = "api-test-secret-0123456789"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(db=db_url, secret_key=SECRET)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    ctx = Context(settings)
    with ctx.sessions.begin() as s:
        sync_catalogue(s, ctx.catalogue)
    ctx.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _store(settings: Settings, *items: RecordInput) -> None:
    ctx = Context(settings)
    with ctx.sessions.begin() as s:
        write_records(s, ctx.keys, list(items), actor="test")
    ctx.close()


def test_health(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_subject_shows_only_what_is_public_today(client: TestClient, settings: Settings) -> None:
    who = factories.org()
    today = dt.date.today()
    current = factories.penalty(who, decision_date=today - dt.timedelta(days=30))
    expired = factories.penalty(who, decision_date=today - dt.timedelta(days=800))
    revoked = factories.penalty(
        who, decision_date=today - dt.timedelta(days=10), status=RecordStatus.REVOKED
    )
    _store(settings, current, expired, revoked)
    response = client.get(f"/api/v1/subjects/{who.code}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == who.name
    assert [r["decision_no"] for r in body["records"]] == [current.decision_no]


def test_minor_has_no_public_records(client: TestClient, settings: Settings) -> None:
    child = factories.person(birth=dt.date.today() - dt.timedelta(days=365 * 15))
    _store(settings, factories.penalty(child, decision_date=dt.date.today()))
    body = client.get(f"/api/v1/subjects/{child.code}").json()
    assert body["records"] == []
    assert child.code not in str(body)


def test_errors_are_problem_json(client: TestClient) -> None:
    bad = client.get("/api/v1/subjects/91110000600037341M")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "check" in bad.json()["title"]
    unknown = client.get("/api/v1/subjects/91110000600037341L")
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "no such subject"


def test_refuses_default_secret_outside_demo() -> None:
    with pytest.raises(InsecureSettingsError):
        create_app(Settings(db="sqlite://", demo=False))
