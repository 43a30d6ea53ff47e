"""Name and code search on both stores: typos, former names, short Chinese names, disclosure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from bonafides.context import Context
from bonafides.records import RecordInput, SubjectRef
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store import name_stats, search
from bonafides.store.name_stats import WindowCounts, window_counts
from bonafides.store.reference import sync_catalogue
from bonafides.store.search import (
    CANDIDATES,
    COMMON_FLOOR,
    SearchResult,
    normalise_query,
    query_windows,
    rare_windows,
    search_subjects,
    short_grams,
    similarity,
)
from bonafides.store.subjects import add_former_names
from bonafides.store.tables import Subject, SubjectName
from tests import factories

TODAY = factories.office_today()


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


def test_short_queries_find_names_holding_them_anywhere(ctx: Context) -> None:
    """Not only names that begin with them: on PostgreSQL through the index of one- and
    two-character substrings, which must agree with what search asks it for."""
    middle = factories.org(name="上海昌程建材有限公司", name_en="Shanghai QAbc Trading")
    first = factories.org(name="昌程科技有限公司")
    _store(ctx, middle, first, factories.org(name="宁波港口物流有限公司"))
    found = _search(ctx, "昌程")
    assert _names(found) == [first.name, middle.name]
    assert [h.how for h in found.hits] == ["prefix", "contains"]
    english = _search(ctx, "AB")
    assert [h.matched for h in english.hits] == ["Shanghai QAbc Trading"]
    assert _names(_search(ctx, "璇")) == []
    assert _names(_search(ctx, "程建")) == [middle.name]
    with ctx.sessions() as s:
        if s.get_bind().dialect.name == "postgresql":
            name = "Shanghai QAbc 昌程"
            held = set(s.scalar(text("SELECT name_grams(:n)"), {"n": name}) or [])
            for i in range(len(name)):
                for part in (name[i : i + 1], name[i : i + 2]):
                    assert set(short_grams(part)) <= held, part


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
    _store(ctx, factories.org(name="安全测试有限公司", name_en="a1b2c3d4e5f Trading"))
    hostile = ['"', "'; DROP TABLE subjects; --", "%", "_", "\\", "a OR b", "\x00\x02", "*"]
    # Long enough for the trigram paths, with LIKE's own characters in their windows.
    hostile += ["100%_off__sale%%", "a_b_c_d_e_f", "\\\\%%%___", "😀😀😀有限公司", "成都" * 60]
    for query in hostile:
        _search(ctx, query)
    assert _names(_search(ctx, "安全测试")) == ["安全测试有限公司"]
    assert _search(ctx, "  ").mode == "empty"
    # LIKE's wildcards in a query are characters to match, not patterns: the index is not
    # even asked for a1b2c3d4e5f by a_b_c_d_e_f.
    assert _search(ctx, "a_b_c_d_e_f").hits == []
    assert _search(ctx, "a1b2c3d4e5f").hits[0].matched == "a1b2c3d4e5f Trading"
    with ctx.sessions() as s:
        if s.get_bind().dialect.name == "postgresql":
            assert search._pg_window_candidates(s, "a_b_c_d_e_f") == []
            assert search._pg_window_candidates(s, "a1b2c3d4e5f")


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


def _analyse(ctx: Context) -> None:
    """What autovacuum does after a load; search then reads the statistics afresh."""
    with ctx.sessions.begin() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE subject_names"))
    name_stats.forget_window_counts()


def test_common_windows_are_left_out_and_the_name_still_found(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a budget smaller than the tail's count, only the distinctive windows are asked."""
    fillers = [factories.org(name=f"填充{n:03d}号贸易有限公司") for n in range(120)]
    target = factories.org(name="杭州西湖龙井茶叶有限公司")
    _store(ctx, *fillers, target)
    _analyse(ctx)
    monkeypatch.setattr(search, "WINDOW_BUDGET", 50)
    query = "杭州西湖龙井茶页有限公司"
    with ctx.sessions() as s:
        chosen = rare_windows(query_windows(query), window_counts(s), search.WINDOW_BUDGET)
        postgres = s.get_bind().dialect.name == "postgresql"
    if postgres:
        assert "有限公" not in chosen
        assert "限公司" not in chosen
        assert "西湖龙" in chosen
    result = _search(ctx, query)
    assert _names(result)[0] == target.name
    assert all(h.name != f.name for h in result.hits for f in fillers)


def test_when_the_typo_took_the_rare_windows_the_whole_name_finds_it(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked only for windows the typo made (井茶页), the index finds nothing: pg_trgm's
    whole-name similarity is the fallback."""
    target = factories.org(name="杭州西湖龙井茶叶有限公司")
    _store(ctx, *[factories.org(name=f"填充{n:03d}号贸易有限公司") for n in range(60)], target)
    _analyse(ctx)
    monkeypatch.setattr(search, "WINDOW_BUDGET", 0.0)
    query = "杭州西湖龙井茶页有限公司"
    with ctx.sessions() as s:
        chosen = rare_windows(query_windows(query), window_counts(s), search.WINDOW_BUDGET)
        if s.get_bind().dialect.name == "postgresql":
            assert chosen
            assert all(window not in target.name for window in chosen)
    assert _names(_search(ctx, query))[0] == target.name


def test_a_query_nearly_every_name_matches_reads_a_bounded_number(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """有限公司 alone would have the database score every company: it reads SCAN_CAP."""
    _store(ctx, *[factories.org(name=f"填充{n:03d}号贸易有限公司") for n in range(120)])
    _analyse(ctx)
    monkeypatch.setattr(search, "SCAN_CAP", 30)
    with ctx.sessions() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
    result = _search(ctx, "贸易有限公司", limit=500)
    assert result.hits
    assert all(h.name.endswith("贸易有限公司") for h in result.hits)
    # SQLite's FTS5 ranks from its own index and hands over CANDIDATES at most.
    assert len(result.hits) <= (30 if postgres else CANDIDATES)


@given(
    st.dictionaries(
        st.text(alphabet="abcdefgh", min_size=3, max_size=3),
        st.floats(min_value=0, max_value=10_000),
        max_size=12,
    ),
    st.lists(st.text(alphabet="xyz", min_size=3, max_size=3), max_size=4, unique=True),
    st.floats(min_value=0, max_value=20_000),
)
def test_rare_windows_are_the_unlisted_and_the_rarest_that_fit(
    listed: dict[str, float], unlisted: list[str], budget: float
) -> None:
    counts = WindowCounts(listed=listed, unlisted=500.0)
    windows = [*listed, *unlisted]
    chosen = rare_windows(windows, counts, budget)
    assert bool(chosen) == bool(windows)
    assert set(unlisted) <= set(chosen)
    left_out = [w for w in windows if w not in chosen]
    assert all(
        counts.estimate(c) <= counts.estimate(w) for c in chosen if c in listed for w in left_out
    )
    total = sum(map(counts.estimate, chosen))
    if len(chosen) > max(1, len(unlisted)):
        assert total <= budget
    if left_out:
        assert total + min(map(counts.estimate, left_out)) > budget


def test_short_grams() -> None:
    assert short_grams("AB") == ["ab"]
    assert short_grams("天") == ["天"]
    assert short_grams("a b") == ["a ", " b"]


def test_query_windows_are_cut_within_words() -> None:
    assert query_windows("Blue Ocean") == ["blu", "lue", "oce", "cea", "ean"]
    assert query_windows("蓝海电子 蓝海") == ["蓝海电", "海电子"]
    assert query_windows("ab cd") == []
