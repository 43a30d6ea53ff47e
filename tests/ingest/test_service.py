"""Ingest end to end on both stores: good rows kept, bad rows named, reruns idempotent."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bonafides.app.ingest import ingest_file
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.ingest.readers import UnusableInputError
from bonafides.ingest.service import IngestReport
from bonafides.progress import ProgressFn
from bonafides.security import audit
from bonafides.security.clock import FixedClock
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import (
    AuditEvent,
    IngestBatch,
    ListEntry,
    Record,
    RecordVersion,
    ReviewItem,
    Subject,
)
from tests import factories

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

TODAY = dt.date(2026, 11, 27)
PENALTY = "market.penalty"


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


@pytest.fixture
def penalty() -> RecordType:
    return load_catalogue().type(PENALTY)


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(ctx: Context, path: Path) -> IngestReport:
    return ingest_file(
        ctx,
        path,
        type_code=PENALTY,
        source="samr",
        actor="test",
        today=TODAY,
    )


def test_good_rows_are_kept_and_bad_rows_named(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    good = [factories.content_row(penalty, factories.org()) for _ in range(5)]
    bad_code = factories.content_row(penalty, factories.org())
    code_column = penalty.content_field("uscc").column_zh
    bad_code[code_column] = bad_code[code_column][:-1] + (
        "0" if bad_code[code_column][-1] != "0" else "1"
    )
    future = factories.content_row(penalty, factories.org(), decision_date=dt.date(2027, 1, 5))
    no_number = factories.content_row(penalty, factories.org(), decision_no="")
    nameless_code = factories.content_row(penalty, factories.org())
    nameless_code[code_column] = ""
    rows = [*good[:2], bad_code, future, *good[2:], no_number, nameless_code]
    report = run(ctx, write_csv(tmp_path / "penalties.csv", rows))
    assert report.counts["accepted"] == 5
    assert report.counts["rejected"] == 3
    assert report.counts["review"] == 1
    assert report.exit_code == 1
    by_row = {r.row: r for r in report.rejections}
    assert by_row[4].field == code_column
    assert "check" in by_row[4].reason
    assert "future" in by_row[5].reason
    assert by_row[9].field == penalty.content_field("decision_no").column_zh
    assert by_row[9].reason == "is required but empty"
    assert [r["row"] for r in report.review] == [10]
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 5
        assert s.scalar(select(func.count()).select_from(ReviewItem)) == 1
        assert audit.verify(s).ok


def test_same_file_twice_changes_nothing(ctx: Context, penalty: RecordType, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv", [factories.content_row(penalty, factories.org()) for _ in range(4)]
    )
    first = run(ctx, path)
    second = run(ctx, path)
    assert first.counts["accepted"] == 4
    assert second.counts["unchanged"] == 4
    assert second.counts["accepted"] == 0
    assert second.exit_code == 0
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RecordVersion)) == 4
        assert s.scalar(select(func.count()).select_from(Subject)) == 4


def test_changed_row_is_amended_as_new_version(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    row = factories.content_row(penalty, factories.org())
    run(ctx, write_csv(tmp_path / "a.csv", [row]))
    subject_column = penalty.content_field("subject_name").column_zh
    changed = {**row, subject_column: row[subject_column] + "（更正）"}
    report = run(ctx, write_csv(tmp_path / "b.csv", [changed]))
    assert report.counts["amended"] == 1
    with ctx.sessions() as s:
        versions = s.scalars(select(RecordVersion).order_by(RecordVersion.version)).all()
        assert [v.reason for v in versions] == ["submitted", "amended by source"]


def test_english_headers_and_gb18030_with_messy_values(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    subject = factories.org()
    full_width = subject.code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    row = factories.content_row(
        penalty, subject, header="en", decision_date=dt.date(2021, 5, 6), uscc=full_width
    )
    row["decision_date"] = "2021年5月6日"
    zh = factories.content_row(penalty, factories.org(), decision_date=dt.date(2021, 5, 6))
    report_en = run(ctx, write_csv(tmp_path / "en.csv", [row]))
    report_zh = run(ctx, write_csv(tmp_path / "zh.csv", [zh], encoding="gb18030"))
    assert report_en.counts["accepted"] == 1, report_en.rejections
    assert report_zh.counts["accepted"] == 1, report_zh.rejections
    assert report_zh.encoding == "gb18030"
    assert any("date" in k for k in report_en.normalised)
    with ctx.sessions() as s:
        record = s.scalars(select(Record).order_by(Record.id)).first()
        assert record is not None
        assert record.decision_date == dt.date(2021, 5, 6)
        assert s.scalar(select(Subject.key).where(Subject.id == record.subject_id)) == subject.code


@pytest.mark.parametrize(
    ("type_code", "source", "message"),
    [
        ("no.such_type", "samr", "unknown record type"),
        (PENALTY, "nobody", "unknown department"),
    ],
)
def test_unusable_arguments_write_nothing(
    ctx: Context, penalty: RecordType, tmp_path: Path, type_code: str, source: str, message: str
) -> None:
    path = write_csv(tmp_path / "p.csv", [factories.content_row(penalty, factories.org())])
    with pytest.raises(UnusableInputError, match=message):
        ingest_file(ctx, path, type_code=type_code, source=source, actor="t", today=TODAY)
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 0


def test_missing_required_column_writes_nothing(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    row = factories.content_row(penalty, factories.org())
    del row[penalty.content_field("decision_date").column_zh]
    with pytest.raises(UnusableInputError, match="missing required column"):
        run(ctx, write_csv(tmp_path / "p.csv", [row]))
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 0


def test_person_ids_stay_sealed_in_raw_and_masked_in_content(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    if "natural_person" not in penalty.subject_kinds:
        pytest.skip("penalties in this catalogue do not concern persons")
    who = factories.person()
    report = run(ctx, write_csv(tmp_path / "p.csv", [factories.content_row(penalty, who)]))
    assert report.counts["accepted"] == 1, report.rejections
    with ctx.sessions() as s:
        version = s.scalars(select(RecordVersion)).one()
        dumped = json.dumps([version.raw, version.content], ensure_ascii=False)
        assert who.code not in dumped
        sealed = [v for v in version.raw.values() if v.startswith("sealed:")]
        assert [ctx.vault.unseal(v) for v in sealed] == [who.code]


def test_today_is_the_offices_day_not_the_servers(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    """At 23:30 UTC on 6 December it is 07:30 on 7 December in Beijing: a decision dated
    7 December is today's, not a future one, whatever zone the server runs in."""
    ctx.clock = FixedClock(dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC))
    row = factories.content_row(penalty, factories.org(), decision_date=dt.date(2026, 12, 7))
    later = factories.content_row(penalty, factories.org(), decision_date=dt.date(2026, 12, 8))
    path = write_csv(tmp_path / "today.csv", [row, later])
    report = ingest_file(ctx, path, type_code=PENALTY, source="samr", actor="test")
    assert report.counts["accepted"] == 1
    assert [(r.row, r.reason) for r in report.rejections] == [(3, "is in the future")]


@pytest.mark.parametrize(
    ("now_utc", "office_today"),
    [
        (dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC), dt.date(2026, 12, 6)),  # 23:59 there
        (dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC), dt.date(2026, 12, 7)),  # 00:00 there
        (dt.datetime(2026, 12, 7, 15, 59, tzinfo=dt.UTC), dt.date(2026, 12, 7)),
    ],
    ids=["before-beijing-midnight", "at-beijing-midnight", "late-utc-day"],
)
def test_the_future_starts_tomorrow_in_the_office(
    ctx: Context, penalty: RecordType, tmp_path: Path, now_utc: dt.datetime, office_today: dt.date
) -> None:
    ctx.clock = FixedClock(now_utc)
    one = dt.timedelta(days=1)
    rows = [
        factories.content_row(penalty, factories.org(), decision_date=day)
        for day in (office_today - one, office_today, office_today + one)
    ]
    path = write_csv(tmp_path / "boundary.csv", rows)
    report = ingest_file(ctx, path, type_code=PENALTY, source="samr", actor="test")
    assert report.counts["accepted"] == 2
    assert [(r.row, r.reason) for r in report.rejections] == [(4, "is in the future")]


# ---- real department templates: legacy column names (issue 14, item 4)

LEGACY_USCC_HEADERS = [
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_1",
]


@pytest.mark.parametrize("header", LEGACY_USCC_HEADERS)
def test_legacy_code_headers_keep_their_codes(
    ctx: Context, penalty: RecordType, tmp_path: Path, header: str
) -> None:
    subject = factories.org()
    row = factories.content_row(penalty, subject)
    row[header] = row.pop(penalty.content_field("uscc").column_zh)
    half = header.endswith("1") or "(" in header
    row["行政相对人代码_2" if half else "行政相对人代码_2（工商注册号）"] = "330100000012345"
    row["行政相对人代码_3(组织机构代码)" if half else "行政相对人代码_3（组织机构代码）"] = (
        "12345678-9"
    )
    report = run(ctx, write_csv(tmp_path / "legacy.csv", [row]))
    assert report.ignored_columns == []
    assert report.counts["accepted"] == 1, (report.rejections, report.review)
    assert report.counts["review"] == 0
    with ctx.sessions() as s:
        assert s.scalar(select(Subject.code_display)) == subject.code
        content = s.scalar(select(RecordVersion.content))
        assert content is not None
        assert content["business_registration_no"] == "330100000012345"
        assert content["organisation_code"] == "12345678-9"


def test_misspelt_header_is_named_with_the_nearest_column(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    row = factories.content_row(penalty, factories.org())
    row["备住"] = "无"
    report = run(ctx, write_csv(tmp_path / "p.csv", [row]))
    assert report.ignored_columns == ["备住"]
    assert report.suggestions == {"备住": "备注"}
    assert report.to_json()["suggestions"] == {"备住": "备注"}


def test_misspelt_required_header_stops_with_did_you_mean(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    row = factories.content_row(penalty, factories.org())
    row["处罚决定日"] = row.pop(penalty.content_field("decision_date").column_zh)
    with pytest.raises(UnusableInputError, match="did you mean 处罚决定日期"):
        run(ctx, write_csv(tmp_path / "p.csv", [row]))
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 0


# ---- the department from the data (issue 14, item 5)

SOURCE_USCC = "数据来源单位统一社会信用代码"


def _from(penalty: RecordType, uscc: str) -> dict[str, str]:
    return factories.content_row(penalty, factories.org(), data_source_unit_uscc=uscc)


def test_without_source_each_row_is_attributed_by_its_data_source_uscc(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    cat = ctx.catalogue
    samr, bj_amr, sta = (cat.department(c).uscc or "" for c in ("samr", "bj_amr", "sta"))
    assert all((samr, bj_amr, sta))
    unknown = make_uscc("1", "1", "100000", "99999999")
    rows = [
        _from(penalty, samr),
        _from(penalty, bj_amr),
        _from(penalty, unknown),
        _from(penalty, sta),
        _from(penalty, samr),
    ]
    rows[4].pop(SOURCE_USCC)
    report = ingest_file(
        ctx,
        write_csv(tmp_path / "mixed.csv", rows),
        type_code=PENALTY,
        source=None,
        actor="test",
        today=TODAY,
    )
    assert report.counts["accepted"] == 2, report.rejections
    by_row = {r.row: r for r in report.rejections}
    assert by_row[4].field == SOURCE_USCC
    assert "no department" in by_row[4].reason
    assert by_row[5].field == SOURCE_USCC
    assert "'sta' is not a source" in by_row[5].reason
    assert by_row[6].field == SOURCE_USCC
    assert by_row[6].reason == "is required but empty"
    with ctx.sessions() as s:
        assert sorted(s.scalars(select(Record.source))) == ["bj_amr", "samr"]


def test_with_source_rows_naming_another_department_are_rejected(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    bj_amr = ctx.catalogue.department("bj_amr").uscc or ""
    samr = ctx.catalogue.department("samr").uscc or ""
    rows = [_from(penalty, samr), _from(penalty, bj_amr)]
    report = run(ctx, write_csv(tmp_path / "p.csv", rows))
    assert report.counts["accepted"] == 1
    (rejection,) = report.rejections
    assert (rejection.row, rejection.field) == (3, SOURCE_USCC)
    assert "bj_amr" in rejection.reason


def _defaulters(tmp_path: Path, count: int) -> Path:
    """Court listings of ``count`` firms: each row puts its firm on a black list."""
    rtype = load_catalogue().type("courts.defaulter")
    rows = [factories.content_row(rtype, factories.org()) for _ in range(count)]
    return write_csv(tmp_path / "defaulters.csv", rows)


def _ingest_listings(ctx: Context, path: Path, progress: ProgressFn | None = None) -> IngestReport:
    return ingest_file(
        ctx,
        path,
        type_code="courts.defaulter",
        source="spc",
        actor="test",
        today=TODAY,
        chunk_rows=2,
        progress=progress,
    )


def _current_entries(ctx: Context) -> list[int]:
    with ctx.sessions() as s:
        return sorted(s.scalars(select(ListEntry.subject_id).where(ListEntry.status == "current")))


def test_list_entries_are_refreshed_once_for_the_whole_file(ctx: Context, tmp_path: Path) -> None:
    """A file of three chunks evaluates its subjects once, when the file is done."""
    report = _ingest_listings(ctx, _defaulters(tmp_path, 6))
    assert report.counts["accepted"] == 6, report.rejections
    with ctx.sessions() as s:
        subjects = sorted(s.scalars(select(Subject.id)))
        refreshed = s.scalars(
            select(AuditEvent.detail).where(AuditEvent.tag == "rules:entries:refreshed")
        ).all()
    assert _current_entries(ctx) == subjects
    assert [(d["subjects"], d["added"]) for d in refreshed] == [(6, 6)]


def test_a_killed_runs_chunks_get_their_entries_from_the_rerun(
    ctx: Context, tmp_path: Path
) -> None:
    """Entries are refreshed when the file is done, by whichever run finishes it: the
    rerun of a run killed after its first chunk refreshes that chunk's subjects too."""
    path = _defaulters(tmp_path, 6)

    class KilledError(Exception):
        pass

    def kill_after_first_chunk(done: int, total: int | None) -> None:
        if done == 2:
            raise KilledError

    with pytest.raises(KilledError):
        _ingest_listings(ctx, path, kill_after_first_chunk)
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 2
    report = _ingest_listings(ctx, path)
    assert report.resumed_from_row == 4
    assert report.counts["accepted"] == 6, report.rejections
    with ctx.sessions() as s:
        subjects = sorted(s.scalars(select(Subject.id)))
    assert len(subjects) == 6
    assert _current_entries(ctx) == subjects
