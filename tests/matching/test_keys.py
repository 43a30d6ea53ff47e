"""The register's keys in the store find exactly what the in-memory index finds.

A register is loaded (which keys it), then names written every way item 3 of issue 15
lists are matched both ways: through ``match_keys`` and through the whole register in
memory. Candidates, scores, explanations and decisions must be the same, also for keys
shared by more names than their cap, and for subjects created or renamed after the sync
(keyed in memory until the next one).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from random import Random

import opencc
import pytest
from alembic import command
from sqlalchemy import event, func, select

from bonafides.app.register import load_register as load_register_file
from bonafides.app.unit import UnitOfWork
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.matching import keys, names
from bonafides.matching.model import V1, V2, Candidate, Matcher, Query
from bonafides.matching.register import LOOK, RegisterIndex
from bonafides.matching.store import load_register
from bonafides.settings import Settings
from bonafides.store.db import alembic_config
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from bonafides.store.subjects import add_former_names, find
from bonafides.store.tables import MatchEntry, MatchKey, MatchKeyState, Subject, SubjectName
from bonafides.synth.industries import ENTERPRISE_SECTIONS
from bonafides.synth.names import trade_name
from bonafides.synth.orgnames import enterprise
from bonafides.synth.places import PlaceSampler
from tests import factories

_S2T = opencc.OpenCC("s2t")
_SWAPS = {"鑫": "新", "源": "原", "华": "化", "易": "昜", "贸": "茂", "科": "可", "信": "新"}


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def _register(tmp_path: Path, rng: Random) -> tuple[Path, list[str]]:
    """About 800 organisations: generated ones with former names, branches, legal
    representatives and registration numbers; 200 sharing 华信?贸易 (a key's cap exactly)
    and 225 sharing 申远?物流 (more than the cap)."""
    rows: list[dict[str, str]] = []
    sampler = PlaceSampler()
    n = 0
    for _ in range(350):
        n += 1
        place = sampler.draw(rng)
        name, _ = enterprise(rng, place, rng.choice(sorted(ENTERPRISE_SECTIONS)), trade_name(rng))
        former = ""
        if rng.random() < 0.2:
            former, _ = enterprise(rng, place, "F", trade_name(rng))
        code = make_uscc("9", "1", place.region, f"{n:08d}")
        rows.append(
            {
                "统一社会信用代码": code,
                "名称": name,
                "曾用名": former,
                "法定代表人": rng.choice(["王建国", "李华", "张伟", ""]),
                "注册号": f"{place.region}{n:09d}" if rng.random() < 0.3 else "",
            }
        )
        if name.endswith("有限公司") and rng.random() < 0.15:
            n += 1
            rows.append(
                {
                    "统一社会信用代码": make_uscc("9", "1", place.region, f"{n:08d}"),
                    "名称": f"{name}{place.county_zh}分公司",
                    "曾用名": "",
                    "法定代表人": "",
                    "注册号": "",
                }
            )
    chars = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土山川河海江湖林森东南西北中"
    for trade, many in (("华信{}贸易", 40), ("申远{}物流", 45)):
        for ch in chars[:many]:
            for region in ("110105", "310115", "330106", "440305", "320102"):
                n += 1
                rows.append(
                    {
                        "统一社会信用代码": make_uscc("9", "1", region, f"{n:08d}"),
                        "名称": trade.format(ch) + "有限公司",
                        "曾用名": "",
                        "法定代表人": "",
                        "注册号": "",
                    }
                )
    path = tmp_path / "register.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, [r["名称"] for r in rows] + [r["曾用名"] for r in rows if r["曾用名"]]


def _queries(rng: Random, known: list[str]) -> list[Query]:
    queries: list[Query] = []
    for name in rng.sample(known, 150):
        spelled = rng.choice(
            [
                name,
                name[2:],
                _S2T.convert(name),
                name.replace("有限公司", "有限责任公司"),
                "".join(_SWAPS.get(ch, ch) for ch in name),
                name[:-4] + "分公司" if len(name) > 6 else name,
                name[: len(name) // 2],
            ]
        )
        queries.append(
            Query(
                spelled,
                region=rng.choice([None, None, "110105", "330100"]),
                legal_rep=rng.choice([None, "王建国", "赵六"]),
            )
        )
    queries.extend(
        Query(q)
        for q in (
            "华信贸易有限公司",
            "华信",
            "华信乙贸易有限公司",
            "北京华信丙贸易有限公司",
            "申远乙物流有限公司",
        )
    )
    queries.append(Query("无此公司", reg_no="110105000000003"))
    return queries


def _same(a: list[Candidate], b: list[Candidate]) -> None:
    assert [(c.entry, c.logit, c.contributions) for c in a] == [
        (c.entry, c.logit, c.contributions) for c in b
    ]


def _compare(ctx: Context, queries: list[Query]) -> None:
    """Both ways agree for every version kept: v2 and the v1 it replaced."""
    for version in (V1, V2):
        store = keys.StoreMatcher.open(ctx.sessions, version)
        assert store is not None
        with ctx.sessions() as session:
            memory = Matcher(RegisterIndex.build(load_register(session)), version=version)
        ranked = store.candidates_for(queries)
        decisions = set()
        for query, found in zip(queries, ranked, strict=True):
            _same(found, memory.candidates(query))
            decided = store.decide(found)
            assert decided == memory.decide(memory.candidates(query)), query
            assert decided.algorithm == version.name
            decisions.add(decided.decision)
        assert decisions == {"match", "review", "none"}


def test_the_keys_in_the_store_find_what_the_index_in_memory_finds(
    ctx: Context, tmp_path: Path
) -> None:
    rng = Random(15)
    path, known = _register(tmp_path, rng)
    load_register_file(ctx, path, source=None, actor="test")
    with ctx.sessions() as session:
        state = session.get(MatchKeyState, keys.STATE_ID)
        assert state is not None
        assert session.scalar(select(func.count()).select_from(MatchKey))
    _compare(ctx, _queries(rng, known))


def test_subjects_created_or_renamed_after_the_sync_are_found_too(
    ctx: Context, tmp_path: Path
) -> None:
    rng = Random(16)
    path, known = _register(tmp_path, rng)
    load_register_file(ctx, path, source=None, actor="test")
    fresh = [factories.org("330106", name="杭州鑫源贸易有限公司"), factories.org("110105")]
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [factories.penalty(o) for o in fresh], actor="test")
        renamed = find(session, ctx.keys, fresh[1].code)
        assert renamed is not None
        add_former_names(session, renamed.id, [("北京华信贸易有限公司", dt.date(2022, 1, 1))])
        # One of the 200 subjects of 华信?贸易, changed: its stored keys must not count twice.
        changed = session.scalar(select(Subject.id).where(Subject.name == "华信甲贸易有限公司"))
        assert changed is not None
        add_former_names(session, changed, [("上海申远物流有限公司", dt.date(2023, 1, 1))])
    queries = [
        *_queries(rng, known),
        Query("杭州鑫源贸易有限公司"),
        Query("杭州新源贸易有限公司"),
        Query("北京华信贸易有限公司"),
        Query("上海申远物流有限公司"),
        Query("华信乙贸易有限公司"),
        Query(fresh[1].name),
    ]
    _compare(ctx, queries)
    # A sync keys them in the store; the answers stay the same.
    with UnitOfWork(ctx.sessions) as unit:
        assert keys.sync(unit.session) == 3
        unit.commit()
    with UnitOfWork(ctx.sessions) as unit:
        assert keys.sync(unit.session) == 0
        unit.commit()
    _compare(ctx, queries)


def test_migration_0029_gives_a_store_keyed_by_v1_the_look_alike_keys(
    ctx: Context, tmp_path: Path
) -> None:
    """Down to 0028 the look-alike keys go (what a store keyed by v1 holds); up again they
    come back exactly as a sync writes them, so v2 finds the same without re-keying."""
    path, known = _register(tmp_path, Random(17))
    load_register_file(ctx, path, source=None, actor="test")
    look = select(MatchKey.key, MatchKey.subject_id, MatchKey.variant).where(MatchKey.kind == LOOK)
    with ctx.sessions() as session:
        synced = sorted(tuple(r) for r in session.execute(look))
    assert synced
    cfg = alembic_config(ctx.engine)
    command.downgrade(cfg, "0028_ingest_version_mark")
    try:
        with ctx.sessions() as session:
            assert not session.execute(look).first()
        command.upgrade(cfg, "0029_match_look_keys")
        with ctx.sessions() as session:
            assert sorted(tuple(r) for r in session.execute(look)) == synced
    finally:
        command.upgrade(cfg, "heads")
    _sync(ctx)  # 0030 clears the key state: the store is keyed again, entries included
    _compare(ctx, _queries(Random(17), known))


def _sync(ctx: Context) -> int:
    with UnitOfWork(ctx.sessions) as unit:
        done = keys.sync(unit.session)
        unit.commit()
    return done


def _tables_read(ctx: Context, action: Callable[[], object]) -> set[str]:
    """The tables the statements ``action`` sends name after FROM or JOIN."""
    seen: set[str] = set()

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.update(re.findall(r"(?:FROM|JOIN) (\w+)", statement))

    event.listen(ctx.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", record)
    return seen


def test_candidates_are_read_as_packed_beside_the_keys(ctx: Context, tmp_path: Path) -> None:
    """After a sync, matching reads keys and packed entries only: no subject, register
    row or former name is read, and no registered name parsed again (at a million
    subjects those reads and the parsing were most of the cost of a row)."""
    rng = Random(18)
    path, known = _register(tmp_path, rng)
    load_register_file(ctx, path, source=None, actor="test")
    with ctx.sessions() as session:
        subjects = session.scalar(
            select(func.count()).select_from(Subject).where(Subject.kind != "natural_person")
        )
        assert session.scalar(select(func.count()).select_from(MatchEntry)) == subjects
    store = keys.StoreMatcher.open(ctx.sessions)
    assert store is not None
    queries = _queries(rng, known)
    names.parse.cache_clear()
    tables = _tables_read(ctx, lambda: store.candidates_for(queries))
    assert tables == {"match_keys", "match_entries"}
    # Only the rows' own names were parsed.
    assert names.parse.cache_info().misses <= len({q.name for q in queries})
    _compare(ctx, queries)


def test_matching_a_chunk_holds_the_collector_off(ctx: Context, tmp_path: Path) -> None:
    """A chunk's candidates live until it is decided: full collections triggered while
    they are built would walk them (and every table of the process) again and again."""
    rng = Random(20)
    path, known = _register(tmp_path, rng)
    load_register_file(ctx, path, source=None, actor="test")
    store = keys.StoreMatcher.open(ctx.sessions)
    assert store is not None
    seen: list[bool] = []

    def record(*_: object) -> None:
        seen.append(gc.isenabled())

    gc.enable()
    event.listen(ctx.engine, "before_cursor_execute", record)
    try:
        store.candidates_for(_queries(rng, known))
    finally:
        event.remove(ctx.engine, "before_cursor_execute", record)
    assert seen
    assert not any(seen)
    assert gc.isenabled()


def test_migration_0030_keys_a_store_keyed_before_again_with_its_entries(
    ctx: Context, tmp_path: Path
) -> None:
    """A store keyed before entries were kept matches from memory until the next sync,
    which writes keys and entries again: the same answers all along."""
    path, known = _register(tmp_path, Random(19))
    load_register_file(ctx, path, source=None, actor="test")
    queries = _queries(Random(19), known)
    with ctx.sessions() as session:
        packed_before = sorted(
            tuple(r) for r in session.execute(select(MatchEntry.subject_id, MatchEntry.data))
        )
    cfg = alembic_config(ctx.engine)
    command.downgrade(cfg, "0029_match_look_keys")
    command.upgrade(cfg, "heads")
    assert keys.StoreMatcher.open(ctx.sessions) is None
    with ctx.sessions() as session:
        memory = Matcher(RegisterIndex.build(load_register(session)))
    before = [memory.decide(memory.candidates(q)) for q in queries]
    assert _sync(ctx) == len(packed_before)
    with ctx.sessions() as session:
        assert (
            sorted(
                tuple(r) for r in session.execute(select(MatchEntry.subject_id, MatchEntry.data))
            )
            == packed_before
        )
    store = keys.StoreMatcher.open(ctx.sessions)
    assert store is not None
    assert [store.decide(found) for found in store.candidates_for(queries)] == before


def _stored_keys(ctx: Context) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with ctx.sessions() as session:
        keyed = session.execute(
            select(MatchKey.kind, MatchKey.key, MatchKey.subject_id, MatchKey.variant)
        )
        entries = session.execute(select(MatchEntry.subject_id, MatchEntry.data))
        return sorted(tuple(r) for r in keyed), sorted(tuple(r) for r in entries)


def test_a_subject_given_a_name_keeps_its_keys_and_gains_the_new_names(
    ctx: Context, tmp_path: Path
) -> None:
    """A matched row's name kept as an alias changes the subject for the keys: the sync
    adds the new name's keys and leaves the others (at a million subjects an ingest run
    matched thousands and re-keyed each). What it leaves equals a full re-keying; a
    rename keys the subject again."""
    rng = Random(21)
    path, known = _register(tmp_path, rng)
    load_register_file(ctx, path, source=None, actor="test")
    with ctx.sessions.begin() as session:
        grown = session.scalar(select(Subject.id).where(Subject.name == "华信甲贸易有限公司"))
        same = session.scalar(select(Subject.id).where(Subject.name == "华信乙贸易有限公司"))
        assert grown is not None
        assert same is not None
        add_former_names(session, grown, [("上海申远物流有限公司", dt.date(2023, 1, 1))])
        # A name it had already: nothing changes.
        add_former_names(session, same, [("华信乙贸易有限公司", dt.date(2023, 1, 1))])
        renamed = session.get(Subject, same + 1)
        assert renamed is not None
        renamed.name = "杭州新名字科技有限公司"
        session.add(SubjectName(subject_id=renamed.id, name=renamed.name, lang="zh", current=True))
    kept = select(MatchKey.id).where(MatchKey.subject_id.in_([grown, same]))
    with ctx.sessions() as session:
        before = set(session.scalars(kept))
    assert _sync(ctx) == 2  # the one given a name, the one renamed
    with ctx.sessions() as session:
        after = set(session.scalars(kept))
        renamed_keys = set(
            session.scalars(select(MatchKey.key).where(MatchKey.subject_id == same + 1))
        )
    assert before < after  # the old keys kept, the new name's added
    assert "新名字科技" in renamed_keys
    incremental = _stored_keys(ctx)
    with ctx.sessions.begin() as session:
        state = session.get(MatchKeyState, keys.STATE_ID)
        assert state is not None
        session.delete(state)
    _sync(ctx)
    assert _stored_keys(ctx) == incremental
    _compare(ctx, [*_queries(rng, known), Query("上海申远物流有限公司")])
