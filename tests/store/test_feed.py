"""The change feed (issue 16, item 1): every change a consumer may see is one event,
written in the transaction of the change, with a tombstone for every removal; who may
see an event is decided by the disclosure rule. Both stores."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from sqlalchemy import delete, select

from bonafides.catalogue.models import Disclosure
from bonafides.context import Context
from bonafides.records import RecordInput, RecordStatus
from bonafides.rules.records import change_status, write_records
from bonafides.rules.service import recompute_lists
from bonafides.store import feed
from bonafides.store.feed import FeedScope, Kind
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import FeedEvent, ListEntry, Record, Subject
from bonafides.workflows.retention import expire_records
from tests import factories
from tests.rules.fixtures import ctx, decision

__all__ = ["ctx"]

RECENT = dt.date(2026, 6, 1)  # published for a year: public while these tests run


def events(ctx: Context, scope: FeedScope | None = None) -> list[tuple[str, bool, bool]]:
    with ctx.sessions() as session:
        return [
            (e.kind, e.is_public, e.tombstone)
            for e in feed.read_events(
                session, scope or FeedScope(everything=True), after=0, limit=1000
            )
        ]


def store(ctx: Context, *items: RecordInput) -> None:
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, list(items), actor="samr")


def defaulter() -> RecordInput:
    """A court's defaulter decision about a new firm, public for three years: it puts the
    firm on the defaulters' list."""
    return dataclasses.replace(
        decision("courts.defaulter", factories.org(), RECENT, performance="none"),
        published_until=RECENT + dt.timedelta(days=3 * 365),
    )


def test_a_new_decision_is_one_event_and_the_same_one_again_none(ctx: Context) -> None:
    item = factories.penalty(decision_date=RECENT)
    store(ctx, item)
    store(ctx, item)
    assert events(ctx) == [(Kind.RECORD_PUBLISHED, True, False)]
    with ctx.sessions() as session:
        event = session.scalars(select(FeedEvent)).one()
    assert event.origin == "local"
    assert event.subject_code == item.subject.code
    assert event.disclosure == "public"
    assert event.payload["record"]["decision_no"] == item.decision_no
    assert event.payload["record"]["content"]["fine_amount_10k_yuan"] == "1.5"
    assert event.payload["record"]["decision_date"] == RECENT.isoformat()
    assert event.payload["subject"]["code"] == item.subject.code


def test_a_batch_emits_set_based_one_event_per_change_in_order(ctx: Context) -> None:
    items = [factories.penalty(decision_date=RECENT) for _ in range(5)]
    store(ctx, *items)
    amended = dataclasses.replace(items[2], content={**items[2].content, "fine": "9"})
    # The same decision twice in one batch: two versions, two events.
    again = dataclasses.replace(amended, content={**amended.content, "fine": "10"})
    store(ctx, items[0], amended, again)
    assert [k for k, _, _ in events(ctx)] == [Kind.RECORD_PUBLISHED] * 5 + [Kind.RECORD_AMENDED] * 2
    with ctx.sessions() as session:
        versions = [
            e.record_version for e in session.scalars(select(FeedEvent).order_by(FeedEvent.id))
        ]
    assert versions == [1, 1, 1, 1, 1, 2, 3]


def revoke(ctx: Context, item: RecordInput, *, then_fail: bool = False) -> None:
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source=item.source,
            decision_no=item.decision_no,
            status=RecordStatus.REVOKED,
            actor=item.source,
            reason="revoked on review",
        )
        if then_fail:
            raise RuntimeError("the caller fails after the change")


def write_then_fail(ctx: Context, item: RecordInput) -> None:
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="samr")
        raise RuntimeError("the caller fails after the write")


def test_a_rolled_back_change_leaves_no_event(ctx: Context) -> None:
    item = factories.penalty(decision_date=RECENT)
    with pytest.raises(RuntimeError):
        write_then_fail(ctx, item)
    assert events(ctx) == []
    store(ctx, item)
    with pytest.raises(RuntimeError):
        revoke(ctx, item, then_fail=True)
    assert events(ctx) == [(Kind.RECORD_PUBLISHED, True, False)]


@pytest.mark.parametrize(
    ("status", "kind", "tombstone"),
    [
        (RecordStatus.REVOKED, Kind.RECORD_REVOKED, True),
        (RecordStatus.REPAIRED, Kind.RECORD_REPAIRED, True),
        (RecordStatus.UNDER_OBJECTION, Kind.RECORD_AMENDED, False),
        (RecordStatus.CORRECTED, Kind.RECORD_AMENDED, False),
    ],
)
def test_a_status_change_is_one_event_and_a_removal_a_public_tombstone(
    ctx: Context, status: RecordStatus, kind: Kind, tombstone: bool
) -> None:
    item = factories.penalty(decision_date=RECENT)
    store(ctx, item)
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="samr",
            decision_no=item.decision_no,
            status=status,
            actor="samr",
            reason="decided on review",
        )
    assert events(ctx) == [(Kind.RECORD_PUBLISHED, True, False), (kind, True, tombstone)]
    with ctx.sessions() as session:
        last = session.scalars(select(FeedEvent).order_by(FeedEvent.id.desc())).first()
    assert last is not None
    assert last.payload["record"]["status"] == status.value


def test_a_removal_of_what_the_public_never_saw_is_not_public(ctx: Context) -> None:
    unpublished = dataclasses.replace(factories.penalty(decision_date=RECENT), published_until=None)
    store(ctx, unpublished)
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="samr",
            decision_no=unpublished.decision_no,
            status=RecordStatus.REVOKED,
            actor="samr",
            reason="revoked on review",
        )
    assert events(ctx) == [
        (Kind.RECORD_PUBLISHED, False, False),
        (Kind.RECORD_REVOKED, False, True),
    ]
    assert events(ctx, feed.PUBLIC_SCOPE) == []


def test_expiry_and_the_end_of_publication_are_tombstones_once(ctx: Context) -> None:
    item = factories.penalty(decision_date=RECENT)
    store(ctx, item)
    assert item.published_until is not None
    assert item.retention_until is not None
    after_publication = item.published_until + dt.timedelta(days=1)
    with ctx.sessions.begin() as session:
        assert feed.end_publications(session, today=after_publication) == 1
        assert feed.end_publications(session, today=after_publication) == 0
    after_retention = item.retention_until + dt.timedelta(days=1)
    with ctx.sessions.begin() as session:
        expire_records(session, as_of=after_retention, actor="retention")
    with ctx.sessions.begin() as session:
        expire_records(session, as_of=after_retention, actor="retention")
    assert events(ctx) == [
        (Kind.RECORD_PUBLISHED, True, False),
        (Kind.RECORD_PUBLICATION_ENDED, True, True),
        (Kind.RECORD_EXPIRED, True, True),
    ]


def test_list_entries_start_and_end_with_their_record(ctx: Context) -> None:
    item = defaulter()
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="spc")
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="spc",
            decision_no=item.decision_no,
            status=RecordStatus.REVOKED,
            actor="spc",
            reason="revoked on retrial",
        )
    assert events(ctx) == [
        (Kind.RECORD_PUBLISHED, True, False),
        (Kind.ENTRY_STARTED, True, False),
        (Kind.RECORD_REVOKED, True, True),
        (Kind.ENTRY_ENDED, True, True),
    ]
    with ctx.sessions() as session:
        started = session.scalars(
            select(FeedEvent).where(FeedEvent.kind == Kind.ENTRY_STARTED)
        ).one()
    assert started.payload["entry"]["list_code"] == "courts.defaulters"
    assert started.list_entry_id == started.payload["entry"]["id"]


def test_a_whole_store_recompute_emits_what_it_changed(ctx: Context) -> None:
    item = defaulter()
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="spc")
        # Entries written behind the write path's back are caught up by a recompute.
        session.execute(delete(FeedEvent))
        session.execute(delete(ListEntry))
    with ctx.sessions.begin() as session:
        recompute_lists(session, full=True)
    with ctx.sessions.begin() as session:
        recompute_lists(session, full=True)
    assert events(ctx) == [(Kind.ENTRY_STARTED, True, False)]


def test_who_sees_what(ctx: Context) -> None:
    public = factories.penalty(decision_date=RECENT)
    shared = dataclasses.replace(
        decision("tax.credit_grade", factories.org(), RECENT, source="sta"),
        published_until=RECENT + dt.timedelta(days=365),
    )
    minor = factories.penalty(factories.person(birth=dt.date(2012, 1, 1)), decision_date=RECENT)
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [public, shared, minor], actor="import")
    with ctx.sessions() as session:
        minor_id = session.scalars(select(Subject.id).where(Subject.kind == "natural_person")).one()

    def numbers(scope: FeedScope) -> set[str]:
        with ctx.sessions() as session:
            return {
                e.payload["record"]["decision_no"]
                for e in feed.read_events(session, scope, after=0, limit=100)
            }

    everyone = {public.decision_no, shared.decision_no, minor.decision_no}
    assert numbers(feed.PUBLIC_SCOPE) == {public.decision_no}
    authority = FeedScope(classes=frozenset({"public", "shared"}))
    assert numbers(authority) == everyone
    assert numbers(FeedScope(sources=frozenset({"sta"}))) == {
        public.decision_no,
        shared.decision_no,
    }
    assert numbers(FeedScope(subject_id=minor_id)) == {public.decision_no, minor.decision_no}
    assert numbers(FeedScope(everything=True)) == everyone
    assert numbers(FeedScope(watching=[minor_id])) == set()
    assert numbers(FeedScope(everything=True, watching=[minor_id])) == {minor.decision_no}


def test_cursors_resume_where_they_stopped(ctx: Context) -> None:
    store(ctx, *[factories.penalty(decision_date=RECENT) for _ in range(7)])
    seen: list[int] = []
    after = 0
    with ctx.sessions() as session:
        while batch := feed.read_events(session, feed.PUBLIC_SCOPE, after=after, limit=3):
            seen.extend(e.id for e in batch)
            after = batch[-1].id
    assert seen == sorted(seen)
    assert len(seen) == 7
    with ctx.sessions() as session:
        assert feed.last_id(session) == seen[-1]


def test_compaction_keeps_the_last_state_and_every_tombstone(ctx: Context) -> None:
    item = factories.penalty(decision_date=RECENT)
    store(ctx, item)
    store(ctx, dataclasses.replace(item, content={**item.content, "fine": "2"}))
    store(ctx, dataclasses.replace(item, content={**item.content, "fine": "3"}))
    other = factories.penalty(decision_date=RECENT)
    store(ctx, other)
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="samr",
            decision_no=other.decision_no,
            status=RecordStatus.REVOKED,
            actor="samr",
            reason="revoked on review",
        )
    with ctx.sessions.begin() as session:
        removed = feed.compact(session, before=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert removed == 3
    assert events(ctx) == [(Kind.RECORD_AMENDED, True, False), (Kind.RECORD_REVOKED, True, True)]


def test_a_subject_event_is_public_only_where_the_public_saw_the_subject(ctx: Context) -> None:
    shown, unseen = factories.org(), factories.org()
    store(ctx, factories.penalty(shown, decision_date=RECENT))
    store(
        ctx,
        dataclasses.replace(factories.penalty(unseen, decision_date=RECENT), published_until=None),
    )
    with ctx.sessions.begin() as session:
        ids = dict(session.execute(select(Subject.key, Subject.id)).all())
        for key in (shown.code, unseen.code):
            written = feed.emit_subject(
                session, Kind.SUBJECT_RENAMED, ids[key], {"name": {"from": "甲", "to": "乙"}}
            )
            assert written == 1
    renamed = [e for e in events(ctx) if e[0] == Kind.SUBJECT_RENAMED]
    assert renamed == [(Kind.SUBJECT_RENAMED, True, False), (Kind.SUBJECT_RENAMED, False, False)]
    with ctx.sessions() as session:
        last = session.scalars(select(FeedEvent).order_by(FeedEvent.id.desc())).first()
    assert last is not None
    assert last.disclosure == "shared"
    assert last.payload["change"] == {"name": {"from": "甲", "to": "乙"}}
    assert last.payload["subject"]["code"] == unseen.code


def test_a_public_event_keeps_its_public_payload_and_a_new_catalogue_refreshes_it(
    ctx: Context,
) -> None:
    """The public feed's text is cut when the event is written (``public_payload``);
    a catalogue loaded later may make a field non-public, so loading one cuts again."""
    store(ctx, factories.penalty(decision_date=RECENT))
    with ctx.sessions() as session:
        kept = session.scalars(select(FeedEvent.public_payload)).one()
    assert kept is not None
    assert json.loads(kept)["record"]["content"]["fine_amount_10k_yuan"] == "1.5"
    hidden = {"fine_amount_10k_yuan"}
    rtype = ctx.catalogue.type("market.penalty")
    fields = tuple(
        f.model_copy(update={"disclosure": Disclosure.SHARED}) if f.name in hidden else f
        for f in rtype.fields
    )
    changed = ctx.catalogue.model_copy(
        update={
            "version": "test-2",
            "types": tuple(
                rtype.model_copy(update={"fields": fields}) if t.code == rtype.code else t
                for t in ctx.catalogue.types
            ),
        }
    )
    with ctx.sessions.begin() as session:
        assert sync_catalogue(session, changed)
    with ctx.sessions() as session:
        kept = session.scalars(select(FeedEvent.public_payload)).one()
    assert kept is not None
    content = json.loads(kept)["record"]["content"]
    assert "fine_amount_10k_yuan" not in content
    assert content["decision_no"]


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(2026, 6, 2, 11, 4, 5, 678901, tzinfo=ZoneInfo("Asia/Shanghai")),
        dt.datetime(2026, 6, 2, 3, 4, 5, tzinfo=dt.UTC),
    ],
    ids=["shanghai-microseconds", "utc-whole-second"],
)
def test_the_head_written_with_an_event_is_the_one_made_from_its_columns(
    ctx: Context, at: dt.datetime
) -> None:
    """Each statement spells the keys its events share (kind, time, removal, origin) once
    (``feed._fixed``): every emitter's heads must read as the heads made from the stored
    columns (``fill_heads``, what migration 0032 gave older events), for a time given in
    another zone and one of whole seconds."""
    item = defaulter()
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [item], actor="spc")
        session.execute(delete(FeedEvent))
        subject_id = session.scalars(select(Subject.id)).one()
        entry = ListEntry.id.is_not(None)
        assert feed.emit_records(session, Kind.RECORD_PUBLISHED, Record.id.is_not(None), at=at)
        assert feed.emit_entries(session, Kind.ENTRY_STARTED, entry, at=at)
        assert feed.emit_records(session, Kind.RECORD_REVOKED, Record.id.is_not(None), at=at)
        assert feed.emit_entries(session, Kind.ENTRY_ENDED, entry, at=at)
        assert feed.emit_subject(session, Kind.SUBJECT_RENAMED, subject_id, {"n": 1}, at=at)
    with ctx.engine.begin() as conn:
        written = dict(conn.execute(select(FeedEvent.id, FeedEvent.head_text)).all())
        feed.fill_heads(conn, after=0)
        made = dict(conn.execute(select(FeedEvent.id, FeedEvent.head_text)).all())
    assert len(written) == 5
    assert all(written.values())
    assert written == made
    stamp = at.astimezone(dt.UTC).isoformat()
    assert all(f'"occurred_at":"{stamp}"' in (head or "") for head in written.values())


def _event_sorts(plan: list[str]) -> list[str]:
    """The sort keys that order the events: the entries' ids, or the events' own
    entry column. A sort the planner adds under a merge join of a few rows orders
    a join's input, not the events, and the planner chooses it from statistics."""
    keys = [line.split("Sort Key:", 1)[1].strip() for line in plan if "Sort Key:" in line]
    events = re.compile(r"list_entries\.id|(\w+\.)?list_entry_id")
    return [key for key in keys if events.fullmatch(key.split(",")[0])]


def test_entry_events_follow_the_entries_and_are_sorted_at_most_once(ctx: Context) -> None:
    """A whole-store recompute's new entries' events take ids in the entries' order. On
    SQLite the rows come in that order through the entries' key (their ids after the
    last one before), so the insert sorts nothing (an order outside the fenced subquery
    sorted every event, payload and all, in a temporary B-tree); on PostgreSQL the one
    sort is the subquery's."""
    items = [defaulter() for _ in range(4)]
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.startswith("INSERT INTO feed_events") and "list_entries" in statement:
            seen.append((statement, parameters))

    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, items, actor="spc")
        session.execute(delete(FeedEvent))
        session.execute(delete(ListEntry))
    sqlalchemy.event.listen(ctx.engine, "before_cursor_execute", keep)
    try:
        with ctx.sessions.begin() as session:
            recompute_lists(session, full=True)
    finally:
        sqlalchemy.event.remove(ctx.engine, "before_cursor_execute", keep)
    with ctx.sessions() as session:
        entries = [
            e.list_entry_id or 0
            for e in session.scalars(
                select(FeedEvent).where(FeedEvent.list_entry_id.is_not(None)).order_by(FeedEvent.id)
            )
        ]
    assert len(entries) == 4
    assert entries == sorted(entries)
    assert len(seen) == 1
    statement, parameters = seen[0]
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            plan = [
                str(r[-1])
                for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            assert not [step for step in plan if "TEMP B-TREE" in step], plan
        else:
            plan = [str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
            assert len(_event_sorts(plan)) <= 1, plan
