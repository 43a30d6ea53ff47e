"""Readiness on both stores: ready when migrated, not ready one migration behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from bonafides.settings import Settings
from bonafides.store.db import alembic_config, make_engine, migrate


def test_ready_on_a_migrated_store(client: TestClient) -> None:
    response = client.get("/api/v1/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


@pytest.fixture
def one_migration_behind(client: TestClient, settings: Settings) -> Iterator[None]:
    """The store is set up at the heads first (the client syncs the catalogue, which needs
    the newest columns), then taken back one step, as a host finds it when its code is
    newer than the store. The SQLite store is a copy already; the PostgreSQL one is shared
    by the run, so it is brought back to the heads afterwards."""
    engine = make_engine(settings.db)
    command.downgrade(alembic_config(engine), "-1")
    try:
        yield
    finally:
        migrate(engine)
        engine.dispose()


@pytest.mark.usefixtures("one_migration_behind")
def test_not_ready_one_migration_behind(client: TestClient, settings: Settings) -> None:
    response = client.get("/api/v1/ready")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert [c["check"] for c in body["checks"]] == ["migrations"]
    engine = make_engine(settings.db)
    script = ScriptDirectory.from_config(alembic_config(engine))
    engine.dispose()
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    assert previous in body["detail"], "it names the revision the store is at"
    assert "bonafides init" in body["detail"]


def test_not_ready_when_the_store_is_unreachable() -> None:
    from bonafides.readiness import failures

    engine = make_engine("postgresql://nobody:secret@127.0.0.1:1/none")
    try:
        failed = failures(engine)
    finally:
        engine.dispose()
    assert [(f.check, f.reason) for f in failed] == [("store", "the store is unreachable")]
