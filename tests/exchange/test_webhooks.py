"""Watchlists and signed webhooks (issue 16, item 5), against a real HTTP receiver on
loopback that checks every signature the way docs/api.md tells receivers to. Both stores."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bonafides.app.webhooks import deliver_due
from bonafides.context import Context
from bonafides.exchange import webhooks
from bonafides.records import RecordStatus
from bonafides.rules.records import change_status
from bonafides.security.roles import Role
from bonafides.settings import Settings
from tests import factories
from tests.security.world import SECRET, World, api, ctx, record_of, world

__all__ = ["ctx", "world"]

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        db=db_url,
        secret_key=SECRET,
        data_dir=tmp_path / "var",
        webhook_max_attempts=3,
        webhook_timeout_seconds=5,
    )


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver: answers ``status`` and keeps what it was sent."""

    def __init__(self) -> None:
        self.status = 204
        self.received: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                outer.received.append(Received(dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def verified(self, secret: str, *, at: dt.datetime) -> list[dict[str, Any]]:
        """Every delivery, checked as a receiver must: signature and timestamp."""
        documents = []
        for item in self.received:
            assert webhooks.verify(
                secret,
                timestamp=item.headers["Bonafides-Timestamp"],
                body=item.body,
                signature=item.headers["Bonafides-Signature"],
                now=int(at.timestamp()),
                tolerance=webhooks.TOLERANCE_SECONDS,
            ), item.headers
            document = json.loads(item.body)
            assert item.headers["Bonafides-Event"] == document["id"]
            documents.append(document)
        return documents

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def bank(world: World, client: TestClient) -> dict[str, str]:
    world.account("bank.one", Role.INQUIRER, department="mof")
    return {"Authorization": f"Bearer {world.key('bank.one')}"}


def revoke(ctx: Context, source: str, number: str) -> None:
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source=source,
            decision_no=number,
            status=RecordStatus.REVOKED,
            actor=source,
            reason="revoked on review",
        )


def test_a_watched_subjects_public_changes_arrive_signed(
    settings: Settings, world: World, receiver: Receiver
) -> None:
    firm, quiet, stranger = factories.org(), factories.org(), factories.org()
    with api(settings, world) as client:
        headers = bank(world, client)
        made = client.post(
            "/api/v1/watchlists",
            json={"name": "suppliers", "url": receiver.url, "codes": [firm.code, quiet.code]},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        created = made.json()
        secret = created["secret"]
        penalty = factories.penalty(firm, decision_date=world.today)
        grade = dataclasses.replace(
            record_of("tax.credit_grade", firm, source="sta", decided=world.today),
            published_until=world.today + dt.timedelta(days=365),
        )
        world.store(penalty, grade, factories.penalty(stranger, decision_date=world.today))
        first = deliver_due(world.ctx, now=NOW)
        revoke(world.ctx, "samr", penalty.decision_no)
        second = deliver_due(world.ctx, now=NOW + dt.timedelta(seconds=5))
        assert (first.matched, first.delivered, second.matched, second.delivered) == (1, 1, 1, 1)
        assert deliver_due(world.ctx, now=NOW + dt.timedelta(seconds=9)).matched == 0

        documents = receiver.verified(secret, at=NOW + dt.timedelta(seconds=10))
        kinds = [(d["event"]["kind"], d["event"]["tombstone"]) for d in documents]
        assert kinds == [("record.published", False), ("record.revoked", True)]
        assert {d["event"]["subject_code"] for d in documents} == {firm.code}
        assert documents[0]["event"]["payload"]["record"]["decision_no"] == penalty.decision_no
        assert documents[0]["id"] == f"local:{documents[0]['event']['cursor']}"

        delivered = client.get(
            f"/api/v1/watchlists/{created['id']}/deliveries", headers=headers
        ).json()
        assert [d["status"] for d in delivered] == ["delivered", "delivered"]
        # Polling instead: the feed narrowed to the watchlist, with the bank's own scope
        # (an inquirer reading files also sees the shared grade).
        polled = client.get(f"/api/v1/watchlists/{created['id']}/feed", headers=headers).json()
        assert [e["kind"] for e in polled["events"]] == [
            "record.published",
            "record.published",
            "record.revoked",
        ]
        assert {e["subject_code"] for e in polled["events"]} == {firm.code}
        # Another account sees neither the watchlist nor its deliveries.
        world.account("bank.two", Role.INQUIRER, department="mof")
        other = {"Authorization": f"Bearer {world.key('bank.two')}"}
        assert (
            client.get(f"/api/v1/watchlists/{created['id']}/feed", headers=other).status_code == 404
        )
        assert client.get("/api/v1/watchlists", headers=other).json() == []


def test_a_failing_receiver_gets_retries_with_backoff_then_the_dead_letter(
    settings: Settings, world: World, receiver: Receiver
) -> None:
    receiver.status = 500
    firm = factories.org()
    with api(settings, world) as client:
        headers = bank(world, client)
        created = client.post(
            "/api/v1/watchlists",
            json={"name": "one", "url": receiver.url, "codes": [firm.code]},
            headers=headers,
        ).json()
        world.store(factories.penalty(firm, decision_date=world.today))
        at = NOW
        assert deliver_due(world.ctx, now=at).retried == 1
        # Not due again before the backoff (one minute after the first failure) ends.
        assert deliver_due(world.ctx, now=at + dt.timedelta(seconds=59)).retried == 0
        at += dt.timedelta(seconds=60)
        assert deliver_due(world.ctx, now=at).retried == 1
        assert deliver_due(world.ctx, now=at + dt.timedelta(seconds=119)).retried == 0
        at += dt.timedelta(seconds=120)
        last = deliver_due(world.ctx, now=at)
        assert (last.retried, last.dead) == (0, 1)
        assert deliver_due(world.ctx, now=at + dt.timedelta(days=2)).dead == 0

        assert len(receiver.received) == 3
        documents = receiver.verified(created["secret"], at=at)
        assert [d["attempt"] for d in documents] == [1, 2, 3]
        assert len({d["id"] for d in documents}) == 1  # the same event each time
        dead = client.get(
            f"/api/v1/watchlists/{created['id']}/deliveries",
            params={"status": "dead"},
            headers=headers,
        ).json()
        assert [(d["attempts"], d["last_error"]) for d in dead] == [(3, "HTTP 500")]

        # Fixed, the receiver gets the dead letter once it is queued again.
        receiver.status = 200
        requeued = client.post(f"/api/v1/watchlists/{created['id']}/redeliver", headers=headers)
        assert requeued.json() == {"requeued": 1}
        assert deliver_due(world.ctx, now=dt.datetime.now(dt.UTC)).delivered == 1


def test_an_unreachable_receiver_is_a_failed_attempt(settings: Settings, world: World) -> None:
    firm = factories.org()
    with api(settings, world) as client:
        headers = bank(world, client)
        client.post(
            "/api/v1/watchlists",
            json={"name": "gone", "url": "http://127.0.0.1:9/nothing", "codes": [firm.code]},
            headers=headers,
        )
        world.store(factories.penalty(firm, decision_date=world.today))
        report = deliver_due(world.ctx, now=NOW)
        assert report.retried == 1
        delivery = client.get("/api/v1/watchlists", headers=headers).json()
        assert delivery[0]["codes"] == 1


def test_a_tampered_or_stale_delivery_does_not_verify() -> None:
    body = b'{"id":"local:1"}'
    signature = webhooks.sign("s3cret", 1_000_000, body)
    check = {"now": 1_000_100, "tolerance": webhooks.TOLERANCE_SECONDS}
    assert webhooks.verify("s3cret", timestamp="1000000", body=body, signature=signature, **check)
    assert not webhooks.verify(
        "s3cret", timestamp="1000000", body=body + b" ", signature=signature, **check
    )
    assert not webhooks.verify(
        "other", timestamp="1000000", body=body, signature=signature, **check
    )
    assert not webhooks.verify(
        "s3cret", timestamp="1000001", body=body, signature=signature, **check
    )
    late = {"now": 1_000_000 + webhooks.TOLERANCE_SECONDS + 1, "tolerance": 300}
    assert not webhooks.verify(
        "s3cret", timestamp="1000000", body=body, signature=signature, **late
    )


def test_bad_watchlists_are_refused_with_the_reason(settings: Settings, world: World) -> None:
    with api(settings, world) as client:
        headers = bank(world, client)
        for body, reason in (
            ({"name": "x", "url": "http://example.com/hook", "codes": []}, "https://"),
            ({"name": "x", "url": "ftp://example.com/", "codes": []}, "https://"),
            ({"name": "x", "codes": ["91110105MA01234567"]}, "code 1"),
        ):
            answer = client.post("/api/v1/watchlists", json=body, headers=headers)
            assert answer.status_code == 422, body
            assert reason in answer.json()["title"], answer.text
        assert client.post("/api/v1/watchlists", json={"name": "x", "codes": []}).status_code == 401


def test_the_cli_makes_a_watchlist_and_runs_the_deliveries(
    settings: Settings, world: World, receiver: Receiver, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from bonafides.cli import app

    firm = factories.org()
    world.account("bank.one", Role.INQUIRER, department="mof")
    codes = tmp_path / "codes.txt"
    codes.write_text(f"{firm.code}\n", encoding="utf-8")
    runner = CliRunner(env={"BONAFIDES_SECRET_KEY": SECRET})
    base = ["watchlists", "create", "--db", settings.db, "--name", "a"]
    made = runner.invoke(
        app, [*base, "--account", "bank.one", "--url", receiver.url, "--codes-file", str(codes)]
    )
    assert made.exit_code == 0, made.output
    secret = made.output.split("shown once): ")[1].split()[0]
    listed = runner.invoke(
        app, ["watchlists", "list", "--db", settings.db, "--account", "bank.one"]
    )
    assert "1 codes" in listed.output
    world.store(factories.penalty(firm, decision_date=world.today))
    ran = runner.invoke(app, ["watchlists", "deliver", "--db", settings.db])
    assert ran.exit_code == 0, ran.output
    assert "matched 1; delivered 1" in ran.output
    assert [d["event"]["kind"] for d in receiver.verified(secret, at=dt.datetime.now(dt.UTC))] == [
        "record.published"
    ]
    refused = runner.invoke(app, [*base, "--account", "nobody", "--codes", firm.code])
    assert refused.exit_code == 2
    assert "nobody" in refused.output


def test_two_deliverers_at_once_owe_each_event_once(settings: Settings, world: World) -> None:
    if not settings.db.startswith("postgresql"):
        pytest.skip("several deliverers at once are for PostgreSQL; on SQLite run one")
    firm = factories.org()
    world.account("bank.one", Role.INQUIRER, department="mof")
    from bonafides.app import watchlists as use
    from bonafides.app.unit import UnitOfWork
    from bonafides.security.accounts import get_account, principal_of

    with UnitOfWork(world.ctx.sessions) as unit:
        owner = principal_of(get_account(unit.session, "bank.one"), via="cli")
        use.create(unit, world.ctx, owner, name="a", url="http://127.0.0.1:9/x", codes=[firm.code])
    world.store(factories.penalty(firm, decision_date=world.today))
    counts: list[int] = []
    first = world.ctx.sessions()
    counts.append(webhooks.match(first, now=NOW))  # holds the watchlists' locks

    def second() -> None:
        with world.ctx.sessions.begin() as session:
            counts.append(webhooks.match(session, now=NOW))

    waiting = threading.Thread(target=second)
    waiting.start()
    waiting.join(timeout=1)
    assert waiting.is_alive()  # blocked on the first deliverer's lock
    first.commit()
    first.close()
    waiting.join(timeout=30)
    assert counts == [1, 0]
