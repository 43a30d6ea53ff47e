"""Applying a peer's events: the conflict rule and replays, on both stores."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from bonafides.app import feed as feed_app
from bonafides.context import Context
from bonafides.exchange.sync import Applier, federation_vault, seal_identifiers
from bonafides.rules.records import write_records
from bonafides.security.identifiers import IdentifierVault
from bonafides.security.roles import ROLE_SCOPES, Principal, Role
from bonafides.store.feed import fill_public_payloads
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import AuditEvent, FeedEvent, Record, Subject
from tests import factories

OPERATOR = Principal(
    role=Role.OPERATOR, username="test", scopes=ROLE_SCOPES[Role.OPERATOR], via="cli"
)


def _held_and_event(ctx: Context) -> tuple[str, dict[str, Any]]:
    """A decision made here, and its published event as the peer "gd" would send it."""
    item = factories.penalty(factories.org())
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="test")
        page = feed_app.read(session, ctx.catalogue, OPERATOR, after=0, limit=10)
    event = copy.deepcopy(page.events[-1].to_json())
    event["origin"] = "gd"
    event["payload"]["record"]["content"]["fine_amount_10k_yuan"] = "9.9"
    return item.decision_no, event


def _apply(ctx: Context, event: dict[str, Any]) -> Any:
    with ctx.sessions.begin() as session:
        return Applier(session, ctx.catalogue, ctx.keys, here="local", actor="test").apply([event])


def _state(ctx: Context, number: str) -> tuple[str | None, str]:
    with ctx.sessions() as session:
        record = session.scalars(select(Record).where(Record.decision_no == number)).one()
        return record.origin, str(record.content["fine_amount_10k_yuan"])


def _conflicts(ctx: Context) -> list[dict[str, Any]]:
    with ctx.sessions() as session:
        return [
            dict(e.detail or {})
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.tag == "sync:record:conflict")
            )
        ]


@pytest.mark.parametrize(("days", "winner"), [(1, "gd"), (-3650, "local")])
def test_the_deciding_authoritys_latest_version_wins_and_the_conflict_is_logged(
    ctx: Context, days: int, winner: str
) -> None:
    number, event = _held_and_event(ctx)
    event["occurred_at"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()
    done = _apply(ctx, event)
    assert done.conflicts == 1
    assert _state(ctx, number) == (("gd", "9.9") if winner == "gd" else (None, "1.5"))
    [logged] = _conflicts(ctx)
    assert logged["winner"] == winner
    assert logged["incoming_origin"] == "gd"


def test_an_event_applied_twice_changes_nothing(ctx: Context) -> None:
    _, sent = _held_and_event(ctx)
    sent["payload"]["record"]["decision_no"] = "粤市监罚〔2026〕1号"
    assert _apply(ctx, copy.deepcopy(sent)).applied == 1
    again = _apply(ctx, copy.deepcopy(sent))
    assert again.applied == 0
    assert again.skipped["already applied"] == 1
    assert _state(ctx, "粤市监罚〔2026〕1号") == ("gd", "9.9")
    assert _conflicts(ctx) == []


def test_a_malformed_event_is_skipped_and_counted_and_the_rest_applied(ctx: Context) -> None:
    _, sent = _held_and_event(ctx)
    sent["payload"]["record"]["decision_no"] = "粤市监罚〔2026〕2号"
    broken = {**copy.deepcopy(sent), "occurred_at": "yesterday"}
    with ctx.sessions.begin() as session:
        done = Applier(session, ctx.catalogue, ctx.keys, here="local", actor="test").apply(
            [broken, {"kind": "record.published"}, sent]
        )
    assert done.skipped["not well formed"] == 2
    assert done.applied == 1


def test_a_new_copys_own_event_names_its_origin_and_the_version_there(ctx: Context) -> None:
    _, sent = _held_and_event(ctx)
    sent["payload"]["record"]["decision_no"] = "粤市监罚〔2026〕3号"
    sent["record_version"] = sent["payload"]["record"]["version"] = 3
    with ctx.sessions() as session:
        mark = feed_app.read(session, ctx.catalogue, OPERATOR, after=0, limit=10).next_cursor
    assert _apply(ctx, sent).applied == 1
    with ctx.sessions() as session:
        page = feed_app.read(session, ctx.catalogue, OPERATOR, after=mark, limit=10)
    [own] = [
        e
        for e in page.events
        if e.list_entry_id is None
        and e.payload_object()["record"]["decision_no"] == "粤市监罚〔2026〕3号"
    ]
    assert (own.kind, own.origin, own.record_version) == ("record.published", "gd", 3)
    assert own.payload_object()["record"]["version"] == 3


def _person_event(ctx: Context, federation: str) -> tuple[str, dict[str, Any]]:
    """A person's decision made here, its event as the peer "gd" would send it to an
    authority, the ID number sealed under ``federation``."""
    person = factories.person()
    item = factories.penalty(person)
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="test")
        page = feed_app.read(session, ctx.catalogue, OPERATOR, after=0, limit=10)
        [event] = [e.to_json() for e in page.events if e.list_entry_id is None]
        seal_identifiers(session, ctx.vault, federation_vault(federation), [event])
    event = copy.deepcopy(event)
    event["origin"] = "gd"
    event["payload"]["record"]["decision_no"] = "粤市监罚〔2026〕9号"
    return person.code, event


def test_a_persons_number_sealed_under_another_secret_is_skipped(ctx: Context) -> None:
    _, event = _person_event(ctx, "a" * 32)
    with ctx.sessions.begin() as session:
        done = Applier(
            session,
            ctx.catalogue,
            ctx.keys,
            here="local",
            actor="test",
            federation=federation_vault("b" * 32),
        ).apply([event])
    assert done.applied == 0
    assert done.skipped["a person's sealed ID number that does not open here"] == 1


def test_a_persons_number_sealed_for_the_peer_keys_the_person_as_the_register_here_does(
    ctx: Context,
) -> None:
    code, event = _person_event(ctx, "a" * 32)
    assert code not in str(event)
    elsewhere = SubjectKeys(IdentifierVault("another instance's master secret"))
    with ctx.sessions.begin() as session:
        done = Applier(
            session,
            ctx.catalogue,
            elsewhere,
            here="local",
            actor="test",
            federation=federation_vault("a" * 32),
        ).apply([event])
    assert done.applied == 1
    with ctx.sessions() as session:
        record = session.scalars(
            select(Record).where(Record.decision_no == "粤市监罚〔2026〕9号")
        ).one()
        subject = session.get(Subject, record.subject_id)
        assert subject is not None
        assert subject.key == elsewhere.key(code, "natural_person")
        assert subject.code_cipher is not None
        assert elsewhere.vault.decrypt(subject.code_cipher) == code


def test_a_new_copys_public_payload_is_what_its_payload_gives(ctx: Context) -> None:
    """A new copy's events get their origin's version after they are written; the public
    payload must say that version too, as building it again from the event says (an
    organisation's and a person's, whose name is masked in it)."""
    _, about_person = _person_event(ctx, "a" * 32)
    about_person["record_version"] = about_person["payload"]["record"]["version"] = 7
    _, sent = _held_and_event(ctx)
    assert sent["kind"] == "record.published"
    assert sent["payload"]["subject"]["kind"] == "legal_person"
    sent["payload"]["record"]["decision_no"] = "粤市监罚〔2026〕5号"
    sent["record_version"] = sent["payload"]["record"]["version"] = 4
    today = factories.office_today()
    for event in (sent, about_person):  # public today: in its publication period
        event["payload"]["record"]["decision_date"] = str(today - dt.timedelta(days=3))
        event["payload"]["record"]["published_until"] = str(today + dt.timedelta(days=300))
    with ctx.sessions() as session:
        mark = feed_app.read(session, ctx.catalogue, OPERATOR, after=0, limit=50).next_cursor
    with ctx.sessions.begin() as session:
        done = Applier(
            session,
            ctx.catalogue,
            ctx.keys,
            here="local",
            actor="test",
            federation=federation_vault("a" * 32),
        ).apply([sent, about_person])
    assert done.applied == 2
    with ctx.sessions() as session:
        conn = session.connection()
        read = select(FeedEvent.id, FeedEvent.public_payload).order_by(FeedEvent.id)
        kept = list(conn.execute(read))
        fill_public_payloads(conn, after=0)
        assert list(conn.execute(read)) == kept
        session.rollback()
    versions = sorted(
        json.loads(text)["record"]["version"]
        for cursor, text in kept
        if cursor > mark and text is not None and json.loads(text).get("record")
    )
    assert versions == [4, 7]
