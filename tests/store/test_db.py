"""Engines as the settings ask for them."""

from __future__ import annotations

import pytest

from bonafides.context import Context
from bonafides.settings import Settings


def test_the_orm_pool_keeps_the_configured_connections(db_url: str) -> None:
    ctx = Context(Settings(db=db_url, secret_key="db-test-secret-0123456789", db_pool_size=7))
    try:
        if ctx.engine.dialect.name != "postgresql":
            pytest.skip("SQLite opens its file per connection; there is no server to spare")
        pool = ctx.engine.pool
        assert pool.size() == 7  # type: ignore[attr-defined]
        assert pool._max_overflow == 10  # type: ignore[attr-defined]
    finally:
        ctx.close()
