"""Name and code search on both stores: typos, former names, short Chinese names, disclosure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text, update

from bonafides.context import Context
from bonafides.records import RecordInput, SubjectRef
from bonafides.settings import Settings
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from bonafides.store.search import (
    CANDIDATES,
    COMMON_FLOOR,
    SearchResult,
    normalise_query,
    search_subjects,
    similarity,
)
from bonafides.store.subjects import add_former_names
from bonafides.store.tables import Subject, SubjectName
from tests import factories

TODAY = dt.date.today()


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="search-test-secret-0123456789"))
    with context.sessions.begin() as s:
        sync_catalogue(s, context.catalogue)
    yield context
    context.close()


def _store(ctx: Context, *subjects: SubjectRef) -> None:
    items: list[RecordInput] = [
        factories.penalty(who, decision_date=TODAY - dt.timedelta(days=10)) for who in subjects
    ]
    with ctx.sessions.begin() as s:
        write_records(s, ctx.keys, items, actor="test")


def _search(ctx: Context, query: str, limit: int = 20) -> SearchResult:
    with ctx.sessions() as s:
        return search_subjects(s, ctx.keys, query, today=TODAY, limit=limit)


def _names(result: SearchResult) -> list[str]:
    return [h.name for h in result.hits]


def test_typo_in_a_chinese_name_still_finds_it(ctx: Context) -> None:
    target = factories.org(name="杭州西湖龙井茶叶有限公司")
    _store(ctx, target, factories.org(name="宁波港口物流有限公司"))
    result = _search(ctx, "杭州西湖龙井茶页有限公司")
    assert result.mode == "name"
    assert _names(result)[0] == target.name
    assert result.hits[0].how == "similar"
    assert "宁波港口物流有限公司" not in _names(result)


def test_part_of_a_name_and_english_names(ctx: Context) -> None:
    target = factories.org(
        name="深圳蓝海电子科技有限公司", name_en="Shenzhen Blue Ocean Electronics"
    )
    _store(ctx, target, factories.org(name="深圳绿野农业有限公司", name_en="Shenzhen Green Field"))
    assert _names(_search(ctx, "蓝海电子"))[0] == target.name
    english = _search(ctx, "blue ocaen electronics")
    assert _names(english)[0] == target.name
    assert english.hits[0].matched == "Shenzhen Blue Ocean Electronics"


def test_exact_name_ranks_first(ctx: Context) -> None:
    exact = factories.org(name="长江实业有限公司")
    longer = factories.org(name="长江实业有限公司上海分公司")
    _store(ctx, longer, exact)
    result = _search(ctx, "长江实业有限公司")
    assert _names(result)[:2] == [exact.name, longer.name]
    assert result.hits[0].how == "exact"
    assert result.hits[0].score > result.hits[1].score


def test_former_names_are_found(ctx: Context) -> None:
    renamed = factories.org(name="华光新材料股份有限公司")
    _store(ctx, renamed)
    with ctx.sessions.begin() as s:
        sid = s.scalar(select(Subject.id).where(Subject.name == renamed.name))
        assert sid is not None
        add_former_names(s, sid, [("华光塑料制品厂", dt.date(2019, 1, 1))])
    result = _search(ctx, "华光塑料制品")
    assert _names(result) == [renamed.name]
    assert result.hits[0].matched == "华光塑料制品厂"
    assert result.hits[0].matched_current is False


def test_short_chinese_names(ctx: Context) -> None:
    zhang = factories.person(name="张伟")
    zhang_long = factories.person(name="张伟强")
    other = factories.person(name="李娜")
    firm = factories.org(name="北京张伟餐饮有限公司")
    _store(ctx, zhang, zhang_long, other, firm)
    two = _search(ctx, "张伟")
    assert _names(two)[0] == "张伟"
    assert two.hits[0].how == "exact"
    assert set(_names(two)) == {"张伟", "张伟强", firm.name}
    # A three-character name with its last character wrong still shares its first
    # trigrams: the padding makes short names typo-tolerant.
    assert "张伟强" in _names(_search(ctx, "张伟墙"))
    assert _names(_search(ctx, "娜")) == ["李娜"]


def test_index_follows_renames_and_new_names(ctx: Context) -> None:
    firm = factories.org(name="旧名称贸易有限公司")
    _store(ctx, firm)
    with ctx.sessions.begin() as s:
        s.execute(
            update(SubjectName)
            .where(SubjectName.name == firm.name)
            .values(name="星辰航天科技有限公司")
        )
    assert _search(ctx, "旧名称贸易").hits == []
    assert [h.matched for h in _search(ctx, "星辰航天").hits] == ["星辰航天科技有限公司"]


def test_code_search_is_exact_and_explains_bad_check_digits(ctx: Context) -> None:
    firm = factories.org(name="代码查询测试有限公司")
    _store(ctx, firm)
    found = _search(ctx, firm.code.lower())
    assert found.mode == "code"
    assert [h.name for h in found.hits] == [firm.name]
    wrong = firm.code[:-1] + ("0" if firm.code[-1] != "0" else "1")
    bad = _search(ctx, wrong)
    assert bad.mode == "code"
    assert bad.hits == []
    assert bad.problem


def test_minors_and_persons_without_public_records_are_not_found(ctx: Context) -> None:
    child = factories.person(birth=TODAY - dt.timedelta(days=365 * 12), name="王小明")
    adult = factories.person(name="王大明")
    _store(ctx, child, adult)
    assert _names(_search(ctx, "王小明")) == []
    assert _names(_search(ctx, "王大明")) == ["王大明"]
    assert _search(ctx, child.code).hits == []
    assert _search(ctx, adult.code).hits[0].code != adult.code  # masked


def test_hostile_queries_are_harmless(ctx: Context) -> None:
    _store(ctx, factories.org(name="安全测试有限公司"))
    for query in ['"', "'; DROP TABLE subjects; --", "%", "_", "\\", "a OR b", "\x00\x02", "*"]:
        _search(ctx, query)
    assert _names(_search(ctx, "安全测试")) == ["安全测试有限公司"]
    assert _search(ctx, "  ").mode == "empty"


def test_candidates_come_from_the_index(ctx: Context) -> None:
    """The index bounds the work: many alike names give at most CANDIDATES to rank."""
    many = [factories.org(name=f"同名测试{n}有限公司") for n in range(CANDIDATES + 20)]
    _store(ctx, *many)
    result = _search(ctx, "同名测试有限公司", limit=500)
    assert 0 < len(result.hits) <= CANDIDATES
    with ctx.sessions() as s:
        if s.get_bind().dialect.name == "sqlite":
            indexed = s.scalar(text("SELECT count(*) FROM subject_name_search"))
            assert indexed == s.scalar(select(SubjectName.id).order_by(SubjectName.id.desc()))


def test_similarity_and_normalisation() -> None:
    assert similarity("张三丰", "张三丰") == 1.0
    assert similarity("张三丰", "张三峰") >= 0.3
    assert similarity("abc", "xyz") == 0.0
    assert normalise_query("  ＡＢＣ\t公司\x00 ") == "ABC 公司"
    assert len(normalise_query("长" * 500)) == 100


def test_a_typo_is_found_among_many_names_sharing_a_tail(ctx: Context) -> None:
    """Trigrams most names hold (有限公, 限公司) must not crowd the right name out."""
    fillers = [factories.org(name=f"填充{n:03d}号贸易有限公司") for n in range(COMMON_FLOOR + 50)]
    target = factories.org(name="杭州西湖龙井茶叶有限公司")
    _store(ctx, *fillers, target)
    result = _search(ctx, "杭州西湖龙井茶页有限公司")
    assert _names(result)[0] == target.name
    assert len(result.hits) < 10
