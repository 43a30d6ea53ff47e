"""An app on a migrated store with the catalogue loaded, and a way to put records in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.context import Context
from bonafides.records import RecordInput
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue

SECRET = "api-test-secret-0123456789"
SAMR_KEY = "samr-key-0123456789abcdef"
MEE_KEY = "mee-key-0123456789abcdef"

Store = Callable[..., None]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        db=db_url,
        secret_key=SECRET,
        department_keys={"samr": SAMR_KEY, "mee": MEE_KEY},
        upload_max_bytes=256 * 1024,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    ctx = Context(settings)
    with ctx.sessions.begin() as s:
        sync_catalogue(s, ctx.catalogue)
    ctx.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def store(settings: Settings) -> Store:
    def put(*items: RecordInput) -> None:
        ctx = Context(settings)
        with ctx.sessions.begin() as s:
            write_records(s, ctx.keys, list(items), actor="test")
        ctx.close()

    return put
