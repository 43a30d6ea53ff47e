"""``GET /api/v1/feed`` and ``bonafides feed`` (issue 16, item 1): events after a
cursor, as the caller may see them. Both stores."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from bonafides.app import feed as feed_app
from bonafides.cli import app
from bonafides.exchange.feed import audience_of, scope_for, shown_payload
from bonafides.records import RecordInput, RecordStatus
from bonafides.rules.records import change_status
from bonafides.security import audit
from bonafides.security.roles import ANONYMOUS, Role
from bonafides.settings import Settings
from bonafides.store import feed
from bonafides.store.tables import AuditEvent, FeedEvent, SubjectAccess
from tests import factories
from tests.security.world import World, api, ctx, record_of, settings, world

__all__ = ["ctx", "settings", "world"]


def shared_grade(world: World) -> RecordInput:
    """A tax credit grade: shared among authorities, never public."""
    item = record_of(
        "tax.credit_grade", factories.org(), source="sta", decided=world.today, content={}
    )
    return dataclasses.replace(item, published_until=world.today + dt.timedelta(days=365))


def numbers(answer: dict[str, Any]) -> list[str]:
    return [e["payload"]["record"]["decision_no"] for e in answer["events"]]


def test_each_caller_reads_what_its_scope_allows(settings: Settings, world: World) -> None:
    public = factories.penalty(decision_date=world.today - dt.timedelta(days=30))
    grade = shared_grade(world)
    world.store(public, grade)
    world.account("buyer.mof", Role.INQUIRER, department="mof")
    world.account("clerk.sta", Role.OFFICER, department="sta")
    world.account("officer.mee", Role.OFFICER, department="mee")
    world.account("boss", Role.OPERATOR)
    with api(settings, world) as client:
        check_scopes(client, world, public, grade)


def check_scopes(client: TestClient, world: World, public: RecordInput, grade: RecordInput) -> None:
    anonymous = client.get("/api/v1/feed").json()
    assert numbers(anonymous) == [public.decision_no]
    event = anonymous["events"][0]
    assert event["kind"] == "record.published"
    assert event["tombstone"] is False
    assert event["origin"] == "local"
    assert "uscc" not in event["payload"]["record"]["content"]
    assert event["payload"]["record"]["content"]["fine_amount_10k_yuan"] == "1.5"
    assert anonymous["more"] is False

    for who in ("buyer.mof", "clerk.sta", "boss"):
        headers = {"Authorization": f"Bearer {world.key(who)}"}
        seen = client.get("/api/v1/feed", headers=headers).json()
        assert numbers(seen) == [public.decision_no, grade.decision_no], who
    # A department key without files:read is a submitter, not a reader: the public feed.
    submit_only = {"Authorization": f"Bearer {world.key('officer.mee', 'records:submit')}"}
    assert numbers(client.get("/api/v1/feed", headers=submit_only).json()) == [public.decision_no]

    with world.ctx.sessions() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "feed:events:read")
        ).all()
        linked = session.scalars(
            select(SubjectAccess.event_id).where(SubjectAccess.event_id.in_([r.id for r in reads]))
        ).all()
    assert [r.actor.split(":")[-1] for r in reads] == ["buyer.mof", "clerk.sta", "boss"]
    assert len(linked) == 3  # the graded firm's access log names every reader
    with world.ctx.sessions() as session:
        assert audit.verify(session).ok


def test_pages_follow_the_cursor_and_the_cursor_stays_valid(
    settings: Settings, world: World
) -> None:
    items = [factories.penalty(decision_date=world.today - dt.timedelta(days=9)) for _ in range(5)]
    world.store(*items)
    with api(settings, world) as client:
        page_through(client, items)


def page_through(client: TestClient, items: list[RecordInput]) -> None:
    first = client.get("/api/v1/feed", params={"limit": 2}).json()
    assert first["more"] is True
    second = client.get("/api/v1/feed", params={"after": first["next_cursor"], "limit": 2}).json()
    third = client.get("/api/v1/feed", params={"after": second["next_cursor"], "limit": 2}).json()
    assert numbers(first) + numbers(second) + numbers(third) == [i.decision_no for i in items]
    assert third["more"] is False
    # Asked again, an old cursor gives the same events.
    again = client.get("/api/v1/feed", params={"after": first["next_cursor"], "limit": 2}).json()
    assert numbers(again) == numbers(second)
    empty = client.get("/api/v1/feed", params={"after": third["next_cursor"]}).json()
    assert empty == {"events": [], "next_cursor": third["next_cursor"], "more": False}


def test_a_narrow_reader_moves_past_what_it_may_not_see(settings: Settings, world: World) -> None:
    world.store(shared_grade(world), shared_grade(world))
    with api(settings, world) as client:
        answer = client.get("/api/v1/feed").json()
    assert answer["events"] == []
    assert answer["next_cursor"] == 2


def test_the_public_feed_masks_a_persons_name(settings: Settings, world: World) -> None:
    person = factories.person(name="王小明")
    world.store(factories.penalty(person, decision_date=world.today - dt.timedelta(days=3)))
    with api(settings, world) as client:
        event = client.get("/api/v1/feed").json()["events"][0]
    assert event["payload"]["subject"]["name"] == "王**"
    assert event["subject_code"] != person.code
    assert event["subject_code"].endswith(person.code[-4:])


def test_bad_cursors_and_limits_are_refused_with_a_problem(
    settings: Settings, world: World
) -> None:
    with api(settings, world) as client:
        for params in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"after": "x"}):
            answer = client.get("/api/v1/feed", params=params)
            assert answer.status_code == 422, params
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_cli_prints_the_feed_as_jsonl_with_the_next_cursor(
    settings: Settings, world: World
) -> None:
    public = factories.penalty(decision_date=world.today - dt.timedelta(days=30))
    grade = shared_grade(world)
    world.store(public, grade)
    runner = CliRunner()
    base = ["feed", "--db", settings.db, "--jsonl"]
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [e["payload"]["record"]["decision_no"] for e in lines[:-1]] == [
        public.decision_no,
        grade.decision_no,
    ]
    assert lines[-1] == {"next_cursor": 2, "more": False}
    result = runner.invoke(app, [*base, "--public"])
    assert [json.loads(line).get("kind") for line in result.output.splitlines()] == [
        "record.published",
        None,
    ]
    result = runner.invoke(app, ["feed", "--db", settings.db, "--after", "1"])
    assert result.exit_code == 0, result.output
    assert "record.published" in result.output
    assert "[shared]" in result.output
    assert "next cursor: 2" in result.output


def test_payloads_are_cut_in_the_store_and_passed_on_as_text(
    settings: Settings, world: World
) -> None:
    """Every reader's answer holds each payload as ``shown_payload`` strips it from the
    stored event, though the store cut it and it went out as text, never decoded: a
    firm's public penalty (its code in the content), a person's (name masked), a shared
    grade, an unknown content field, and a public tombstone (content emptied)."""
    firm = factories.penalty(decision_date=world.today - dt.timedelta(days=30))
    firm = dataclasses.replace(firm, content={**firm.content, "not_in_catalogue": "x"})
    person = factories.penalty(
        factories.person(name="王小明"), decision_date=world.today - dt.timedelta(days=3)
    )
    world.store(firm, person, shared_grade(world))
    with world.ctx.sessions.begin() as session:
        change_status(
            session,
            source=firm.source,
            decision_no=firm.decision_no,
            status=RecordStatus.REVOKED,
            actor=firm.source,
            reason="revoked on review",
        )
    world.account("clerk.sta", Role.OFFICER, department="sta")
    world.account("boss", Role.OPERATOR)
    with world.ctx.sessions() as session:
        stored = {e.id: e for e in session.scalars(select(FeedEvent)).all()}
        page = feed_app.read(session, world.ctx.catalogue, ANONYMOUS, after=0, limit=10)
    # No public event is decoded: each was cut when written and goes out as its text.
    firms = [
        e
        for e in page.events
        if stored[e.cursor].payload["record"]["decision_no"] == firm.decision_no
        and e.list_entry_id is None
    ]
    assert [e.kind for e in firms] == ["record.published", "record.revoked"]
    assert not any(e.decoded for e in page.events)
    assert firms[1].payload_object()["record"]["content"] == {}

    with api(settings, world) as client:
        for who in (None, "clerk.sta", "boss"):
            headers = {} if who is None else {"Authorization": f"Bearer {world.key(who)}"}
            answer = client.get("/api/v1/feed", headers=headers)
            assert answer.headers["content-type"] == "application/json"
            with world.ctx.sessions() as session:
                principal = ANONYMOUS if who is None else world.principal(who)
                scope = scope_for(session, world.ctx.catalogue, principal)
            events = answer.json()["events"]
            kinds = {e["kind"] for e in events}
            assert {"record.published", "record.revoked"} <= kinds, who
            for event in events:
                row = stored[event["cursor"]]
                copied = SimpleNamespace(
                    payload=copy.deepcopy(row.payload), tombstone=row.tombstone
                )
                expected = shown_payload(world.ctx.catalogue, copied, audience_of(scope, row), {})
                assert event["payload"] == expected, (who, event["kind"])
            content = events[0]["payload"]["record"]["content"]
            assert ("not_in_catalogue" in content) is (who == "boss")


def test_each_answer_is_the_events_as_json_dumps_writes_their_heads(
    settings: Settings, world: World
) -> None:
    """The answer is built as text (each event's head kept by the store, its payload
    spliced in), yet each event reads as ``json.dumps`` writes the head of the stored row: a
    time with and without microseconds (``isoformat`` drops ``.000000``) or kept in
    another form, a record and a list entry, a tombstone, an empty code; for every
    reader, a subject's own events too.
    """
    person = factories.person(name="王小明")
    firm = factories.penalty(decision_date=world.today - dt.timedelta(days=30))
    world.store(firm, factories.penalty(person, decision_date=world.today - dt.timedelta(days=3)))
    world.store(shared_grade(world))
    with world.ctx.sessions.begin() as session:
        change_status(
            session,
            source=firm.source,
            decision_no=firm.decision_no,
            status=RecordStatus.REVOKED,
            actor=firm.source,
            reason="revoked on review",
        )
        rows = session.scalars(select(FeedEvent).order_by(FeedEvent.id)).all()
        rows[0].occurred_at = dt.datetime(2026, 6, 1, 2, 0, 0, tzinfo=dt.UTC)
        rows[1].occurred_at = dt.datetime(2026, 6, 1, 2, 0, 0, 5, tzinfo=dt.UTC)
        rows[-1].subject_code = None
        if session.get_bind().dialect.name == "sqlite":
            # A time kept in another form (no microseconds): the reader builds that event.
            session.flush()
            session.execute(
                text("UPDATE feed_events SET occurred_at = '2026-06-01 02:00:07' WHERE id = 3")
            )
        # Changed behind the write path's back: the heads made again from the columns,
        # as the migration that began keeping them does (the other events keep theirs).
        session.flush()
        feed.fill_heads(session.connection(), after=0)
    world.account("clerk.sta", Role.OFFICER, department="sta")
    world.account("boss", Role.OPERATOR)
    world.account("person", Role.SUBJECT, subject=person)
    with world.ctx.sessions() as session:
        stored = {e.id: e for e in session.scalars(select(FeedEvent)).all()}
    heads = 0
    with api(settings, world) as client:
        for who in (None, "clerk.sta", "boss", "person"):
            headers = {} if who is None else {"Authorization": f"Bearer {world.key(who)}"}
            answer = client.get("/api/v1/feed", headers=headers).text
            events = json.loads(answer)["events"]
            assert events, who
            texts = answer[len('{"events":[') :].split(',{"cursor":')
            texts = [texts[0], *('{"cursor":' + t for t in texts[1:])]
            for event, sent in zip(events, texts, strict=True):
                row = stored[event["cursor"]]
                head = {
                    "cursor": row.id,
                    "kind": row.kind,
                    "occurred_at": row.occurred_at.isoformat(),
                    "origin": row.origin,
                    "tombstone": row.tombstone,
                    "disclosure": row.disclosure,
                    "subject_code": row.subject_code,
                    "record_id": row.record_id,
                    "record_version": row.record_version,
                    "list_entry_id": row.list_entry_id,
                }
                written = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
                assert sent.startswith(written + ',"payload":'), (who, sent)
                heads += 1
    assert {stored[1].occurred_at.microsecond, stored[2].occurred_at.microsecond} == {0, 5}
    assert heads >= 4 * 3
