"""Downstream consumers on both stores: registered by operators, acknowledging tombstones
by cursor, and reported while they hold removed data, with since when.

The change feed's events are written here directly, with the flags the feed gives them
(``bonafides.store.feed``): only its public tombstones are removals a consumer holds.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from typer.testing import CliRunner

from bonafides.api.app import create_app
from bonafides.app.consumers import acknowledge, register, report
from bonafides.cli import app as cli
from bonafides.context import Context
from bonafides.security.clock import FixedClock
from bonafides.security.roles import Role
from bonafides.settings import Settings, get_settings
from bonafides.store.feed import TOMBSTONES
from bonafides.store.tables import FeedEvent
from bonafides.workflows.common import ConflictError, ForbiddenError, InvalidError
from tests.security.world import World as AccountsWorld

NOW = dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC)


def feed(ctx: Context, *events: tuple[str, dt.datetime]) -> None:
    """Public feed events, ids 1, 2, ... in order."""
    with ctx.sessions.begin() as session:
        session.execute(
            insert(FeedEvent),
            [
                {
                    "kind": kind,
                    "occurred_at": at,
                    "origin": "local",
                    "disclosure": "public",
                    "is_public": True,
                    "tombstone": kind in TOMBSTONES,
                    "payload": {},
                }
                for kind, at in events
            ],
        )


@pytest.fixture
def fed(ctx: Context) -> Context:
    ctx.clock = FixedClock(NOW)
    feed(
        ctx,
        ("record.published", NOW - dt.timedelta(days=9)),  # 1
        ("record.revoked", NOW - dt.timedelta(days=8)),  # 2
        ("record.amended", NOW - dt.timedelta(days=7)),  # 3
        ("record.repaired", NOW - dt.timedelta(days=5)),  # 4
        ("list_entry.ended", NOW - dt.timedelta(days=2)),  # 5
    )
    return ctx


def test_report_shows_who_holds_removed_data_and_since_when(fed: Context) -> None:
    slow = register(fed, actor="test", name="mirror.example", contact="ops@mirror.example")
    fast = register(fed, actor="test", name="agency", contact="data@agency.example")
    acknowledge(fed, actor="consumer", name="agency", cursor=5, token=fast.token)
    acknowledge(fed, actor="consumer", name="mirror.example", cursor=3, token=slow.token)

    found = {h.lag.name: h for h in report(fed)}
    mirror = found["mirror.example"]
    assert mirror.lag.pending == 2  # tombstones 4 and 5; 3 was an amendment
    assert mirror.lag.first_pending == 4
    assert mirror.lag.oldest_pending_at == NOW - dt.timedelta(days=5)
    assert mirror.days == 5
    assert found["agency"].lag.pending == 0
    assert found["agency"].days is None
    assert [h.lag.name for h in report(fed)] == ["mirror.example", "agency"]


def test_acknowledgements_are_checked(fed: Context) -> None:
    done = register(fed, actor="test", name="mirror", contact="ops@mirror.example")
    with pytest.raises(ForbiddenError):
        acknowledge(fed, actor="x", name="mirror", cursor=2, token="bfc_not-the-token")
    acknowledge(fed, actor="x", name="mirror", cursor=4, token=done.token)
    with pytest.raises(ConflictError):
        acknowledge(fed, actor="x", name="mirror", cursor=3, token=done.token)
    with pytest.raises(InvalidError):
        acknowledge(fed, actor="x", name="mirror", cursor=6, token=done.token)
    with pytest.raises(ConflictError):
        register(fed, actor="test", name="mirror", contact="again@example.org")
    with pytest.raises(InvalidError):
        register(fed, actor="test", name="Bad Name", contact="x@example.org")


def test_over_http_and_the_cli(settings: Settings, fed: Context) -> None:
    people = AccountsWorld(fed)
    people.account("operator1", Role.OPERATOR)
    key = people.key("operator1")
    operator = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings)) as client:
        assert (
            client.post("/api/v1/consumers", json={"name": "m1", "contact": "a@b.c"}).status_code
            == 401
        )
        made = client.post(
            "/api/v1/consumers",
            json={"name": "mirror", "contact": "ops@m.example"},
            headers=operator,
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        wrong = client.post(
            "/api/v1/consumers/mirror/ack",
            json={"cursor": 2},
            headers={"X-Consumer-Token": "bfc_wrong-token"},
        )
        assert wrong.status_code == 403
        acked = client.post(
            "/api/v1/consumers/mirror/ack", json={"cursor": 2}, headers={"X-Consumer-Token": token}
        )
        assert acked.json() == {"name": "mirror", "acked_cursor": 2}
        listed = client.get("/api/v1/consumers", headers=operator).json()
        assert listed[0]["name"] == "mirror"
        assert listed[0]["pending_tombstones"] == 2
        assert listed[0]["first_pending"] == 4
        assert client.get("/api/v1/consumers").status_code == 401

    get_settings.cache_clear()
    runner = CliRunner()
    env = {
        "BONAFIDES_DB": settings.db,
        "BONAFIDES_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    added = runner.invoke(
        cli, ["consumers", "add", "site", "--contact", "web@site.example"], env=env
    )
    assert added.exit_code == 0, added.output
    assert added.output.splitlines()[1].startswith("bfc_")
    held = runner.invoke(cli, ["consumers", "report", "--json"], env=env)
    assert held.exit_code == 1
    lines = {json.loads(line)["name"]: json.loads(line) for line in held.output.splitlines()}
    assert lines["site"]["pending_tombstones"] == 3
    assert runner.invoke(cli, ["consumers", "ack", "site", "5"], env=env).exit_code == 0
    assert runner.invoke(cli, ["consumers", "ack", "mirror", "5"], env=env).exit_code == 0
    assert runner.invoke(cli, ["consumers", "report"], env=env).exit_code == 0
    back = runner.invoke(cli, ["consumers", "ack", "site", "1"], env=env)
    assert back.exit_code == 2
    get_settings.cache_clear()
