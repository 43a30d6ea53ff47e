"""The feed's answers as text, byte for byte, on both stores (issue 16).

``feed_answers.json`` holds what every kind of reader got for one fixed store before the
events' heads were kept as text (``feed_events.head_text``): the public, a department, an
operator, and a subject reading its own file (its own events built in Python). Keeping
the head, or anything else, when the event is written must not change a byte of them.
The data is fixed (codes, names, dates, times) so that the answers are too; only the
time of a list entry's events is the clock's, and is left out of the comparison.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, func, select, text, update

from bonafides.app import feed as feed_app
from bonafides.codes import make_resident_id, make_uscc
from bonafides.records import RecordInput, RecordStatus, SubjectKind, SubjectRef
from bonafides.rules.records import change_status, write_records
from bonafides.security.roles import ANONYMOUS, Principal, Role
from bonafides.store import feed
from bonafides.store.db import alembic_config
from bonafides.store.tables import FeedEvent, Record
from tests.security.world import World, ctx, record_of, settings, world

__all__ = ["ctx", "settings", "world"]

GOLDEN = Path(__file__).with_name("feed_answers.json")
WRITTEN = dt.datetime(2026, 6, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
REVOKED = dt.datetime(2026, 6, 3, 8, 0, 0, tzinfo=dt.UTC)
RENAMED = dt.datetime(2026, 6, 4, 9, 30, 0, 120000, tzinfo=dt.UTC)
FOREVER = dt.date(2099, 1, 1)
READERS = ("anonymous", "department", "operator", "subject")


def _firm(serial: int, name: str) -> SubjectRef:
    return SubjectRef(
        code=make_uscc("9", "1", "330106", f"{serial:08d}"),
        kind=SubjectKind.LEGAL_PERSON,
        name=name,
        name_en=f"Hangzhou Pin {serial} Co., Ltd.",
        region="330106",
    )


PERSON = SubjectRef(
    code=make_resident_id("110105", dt.date(1985, 3, 14), 7),
    kind=SubjectKind.NATURAL_PERSON,
    name="王小明",
    region="110105",
)


def _penalty(subject: SubjectRef, number: str, **extra: str) -> RecordInput:
    decided = dt.date(2026, 5, 20)
    content = {
        "subject_name": subject.name,
        "decision_no": number,
        "penalty_category": "fine",
        "fine_amount_10k_yuan": "1.5",
        "decision_date": decided.isoformat(),
        **extra,
    }
    return RecordInput(
        type_code="market.penalty",
        source="samr",
        decision_no=number,
        decision_date=decided,
        subject=subject,
        content=content,
        raw={k: str(v) for k, v in content.items()},
        severity="general",
        legal_basis="《中华人民共和国行政处罚法》",
        published_until=FOREVER,
        retention_until=FOREVER,
    )


def _record(type_code: str, subject: SubjectRef, source: str, number: str) -> RecordInput:
    """A record of ``type_code`` with a fixed number and dates (``record_of`` numbers
    its records in the order tests run)."""
    item = record_of(type_code, subject, source=source, decided=dt.date(2026, 11, 20), content={})
    content = {**item.content, "decision_no": number}
    return dataclasses.replace(
        item,
        decision_no=number,
        content=content,
        raw={k: str(v) for k, v in content.items()},
        published_until=FOREVER,
        retention_until=FOREVER,
    )


def fill(world: World) -> None:
    """Public penalties of a firm (a field the catalogue does not know) and of a person
    (name masked), a shared tax grade, a court's defaulter (a list entry), a revocation
    (a public tombstone) and a subject renamed."""
    firm = _firm(1, "杭州钉住测试有限公司")
    grade = _record(
        "tax.credit_grade", _firm(2, "杭州评级测试有限公司"), "sta", "浙税评〔2026〕3号"
    )
    defaulter = _record(
        "courts.defaulter", _firm(3, '杭州"失信"测试有限公司'), "spc", "浙执〔2026〕4号"
    )
    items = [
        _penalty(firm, "浙市监罚〔2026〕1号", not_in_catalogue="x"),
        _penalty(PERSON, "浙市监罚〔2026〕2号"),
        grade,
        defaulter,
    ]
    with world.ctx.sessions.begin() as session:
        write_records(session, world.ctx.keys, items, actor="test", received_at=WRITTEN)
    with world.ctx.sessions.begin() as session:
        change_status(
            session,
            source="samr",
            decision_no="浙市监罚〔2026〕1号",
            status=RecordStatus.REVOKED,
            actor="samr",
            reason="revoked on review",
            at=REVOKED,
        )
        subject_id = session.scalars(
            select(Record.subject_id).where(Record.decision_no == "浙市监罚〔2026〕1号")
        ).one()
        change = {"name": {"from": firm.name, "to": "杭州新名测试有限公司"}}
        feed.emit_subject(session, feed.Kind.SUBJECT_RENAMED, subject_id, change, at=RENAMED)
    world.account("clerk.sta", Role.OFFICER, department="sta")
    world.account("boss", Role.OPERATOR)
    world.account("person", Role.SUBJECT, subject=PERSON)


def principals(world: World) -> dict[str, Principal]:
    return {
        "anonymous": ANONYMOUS,
        "department": world.principal("clerk.sta"),
        "operator": world.principal("boss"),
        "subject": world.principal("person"),
    }


def answers(world: World) -> dict[str, str]:
    """Each reader's whole feed in one page, a middle page of three, one event, and
    none (after the last)."""
    found: dict[str, str] = {}
    for name, principal in principals(world).items():
        for after, limit in ((0, 100), (2, 3), (3, 1), (7, 5)):
            with world.ctx.sessions.begin() as session:
                page = feed_app.read(
                    session, world.ctx.catalogue, principal, after=after, limit=limit
                )
            found[f"{name} after {after} limit {limit}"] = _steady(page.to_json_text())
    return found


_ENTRY_TIME = re.compile(r'("kind":"list_entry\.[a-z_]+","occurred_at":)"[^"]*"')


def _steady(answer: str) -> str:
    """The answer with a list entry's time (the clock's when the rules ran) left out."""
    return _ENTRY_TIME.sub(r'\1"(clock)"', answer)


def _store(world: World) -> str:
    engine: Engine = world.ctx.engine
    return engine.dialect.name


def test_every_reader_answers_byte_for_byte_as_before(world: World) -> None:
    fill(world)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[_store(world)]
    got = answers(world)
    assert set(got) == set(expected)
    for key, answer in got.items():
        assert answer == expected[key], key
    # The fixture covers what the pin is for: every reader, both kinds of payload text.
    for key, answer in got.items():
        assert bool(json.loads(answer)["events"]) is ("after 7" not in key), key
    assert '"tombstone":true' in got["anonymous after 0 limit 100"]
    assert "王*" in got["anonymous after 0 limit 100"]
    assert "王小明" in got["subject after 0 limit 100"]


def test_the_stored_head_is_what_is_served(world: World) -> None:
    """A read builds no head: the text kept when the event was written is sent, for
    every reader (a subject's own events, built in Python, too)."""
    fill(world)
    with world.ctx.engine.begin() as conn:
        heads = dict(conn.execute(select(FeedEvent.id, FeedEvent.head_text)).all())
        assert all(heads.values())
        conn.execute(
            update(FeedEvent).values(
                head_text=func.replace(FeedEvent.head_text, '"kind":"', '"kind":"stored.')
            )
        )
    for name, principal in principals(world).items():
        with world.ctx.sessions.begin() as session:
            page = feed_app.read(session, world.ctx.catalogue, principal, after=0, limit=100)
        kinds = [e["kind"] for e in json.loads(page.to_json_text())["events"]]
        assert kinds, name
        assert all(kind.startswith("stored.") for kind in kinds), (name, kinds)


def test_a_store_upgraded_keeps_the_heads_the_write_path_would_have_written(
    world: World,
) -> None:
    """A store whose events came before heads were kept (0031) is filled by 0032 with
    the heads the write path writes, and answers every reader as a fresh store does."""
    fill(world)
    fresh = answers(world)
    engine = world.ctx.engine

    def heads() -> dict[int, str | None]:
        with engine.connect() as conn:
            return dict(conn.execute(select(FeedEvent.id, FeedEvent.head_text)).all())

    written = heads()
    cfg = alembic_config(engine)
    try:
        command.downgrade(cfg, "0031_subject_partitions")
        with engine.connect() as conn:
            columns = conn.execute(text("SELECT * FROM feed_events")).keys()
            assert "head_text" not in columns
    finally:
        command.upgrade(cfg, "heads")
    assert heads() == written
    assert answers(world) == fresh


def test_inserted_events_are_counted_as_rows_not_as_the_growth_of_the_id(
    world: World,
) -> None:
    """On PostgreSQL ids are drawn from a sequence that may have gaps (a rolled-back
    write, a cached range): the count is of the rows written."""
    items = [
        _penalty(_firm(10 + n, f"杭州计数{n}有限公司"), f"浙计数〔2026〕{n}号") for n in range(2)
    ]
    with world.ctx.sessions.begin() as session:
        write_records(session, world.ctx.keys, items, actor="test", received_at=WRITTEN)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT setval('feed_events_id_seq', 5000)"))
        written = feed.emit_records(session, feed.Kind.RECORD_AMENDED, Record.id.is_not(None))
    assert written == 2
