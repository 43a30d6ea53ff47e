"""Loading the register of subjects on both stores: names, status, events, idempotence."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bonafides.app.register import load_register
from bonafides.catalogue.register import EventKind, SubjectStatus, register_format
from bonafides.codes import gb11714_check_char, make_uscc
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.ingest.readers import UnusableInputError
from bonafides.ingest.register import RegisterReport
from bonafides.security import audit
from bonafides.settings import Settings
from bonafides.store.access import events_about
from bonafides.store.profiles import load_profile
from bonafides.store.reference import sync_catalogue
from bonafides.store.register import events_of, names_of, register_of, subjects_by_codes
from bonafides.store.search import search_subjects
from bonafides.store.tables import (
    AuditEvent,
    Subject,
    SubjectEvent,
    SubjectName,
    SubjectRegister,
)
from tests import factories

TODAY = dt.date(2026, 11, 27)
_seq = itertools.count(7_000_001)

HEADER = [
    "统一社会信用代码",
    "名称",
    "曾用名",
    "英文名称",
    "市场主体类型",
    "法定代表人",
    "登记状态",
    "成立日期",
    "登记机关",
    "住所",
    "注册号",
    "组织机构代码",
]


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def code(authority: str = "9", kind: str = "1", region: str = "110105") -> str:
    return make_uscc(authority, kind, region, f"{next(_seq):08d}")


def company(uscc: str | None = None, **over: str) -> dict[str, str]:
    uscc = uscc or code()
    row = {
        "统一社会信用代码": uscc,
        "名称": f"北京华信{uscc[-6:]}科技有限公司",
        "曾用名": "",
        "英文名称": "",
        "市场主体类型": "有限责任公司(自然人投资或控股)",
        "法定代表人": "张三",
        "登记状态": "存续（在营、开业、在册）",
        "成立日期": "2001/5/6",
        "登记机关": "北京市朝阳区市场监督管理局",
        "住所": "北京市朝阳区建国路1号",
        "注册号": "110105" + uscc[8:16] + "0",
        "组织机构代码": "",
    }
    row.update(over)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    header = list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def load(ctx: Context, path: Path, source: str | None = "samr") -> RegisterReport:
    return load_register(ctx, path, source=source, actor="test", today=TODAY)


def count(ctx: Context, table: Any) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def subject(ctx: Context, uscc: str) -> Subject:
    with ctx.sessions() as session:
        found = session.scalar(select(Subject).where(Subject.key == uscc))
        assert found is not None
        session.expunge(found)
        return found


def names(ctx: Context, uscc: str) -> dict[str, tuple[bool, dt.date | None]]:
    with ctx.sessions() as session:
        rows = session.execute(
            select(SubjectName.name, SubjectName.current, SubjectName.valid_until)
            .join(Subject, Subject.id == SubjectName.subject_id)
            .where(Subject.key == uscc)
        )
        return {name: (current, until) for name, current, until in rows}


def test_load_stores_subjects_names_status_and_codes(ctx: Context, tmp_path: Path) -> None:
    firm = company(曾用名="北京华信电子有限公司；北京华信商贸有限公司;", 英文名称="Huaxin Tech")
    society = company(code("5", "1", "110000"), 名称="北京市软件行业协会", 登记状态="注销")
    institution = company(code("1", "2", "110000"), 名称="北京市第一医院", 登记状态="正常")
    body = company(code("1", "1", "110000"), 名称="北京市某某局", 注册号="")
    report = load(ctx, write_csv(tmp_path / "register.csv", [firm, society, institution, body]))

    assert report.exit_code == 0, report.rejections
    assert report.counts["accepted"] == 4
    assert report.counts["new_subjects"] == 4
    assert report.events == {"registered": 4}
    assert names(ctx, firm["统一社会信用代码"]) == {
        firm["名称"]: (True, None),
        "Huaxin Tech": (True, None),
        "北京华信电子有限公司": (False, None),
        "北京华信商贸有限公司": (False, None),
    }
    kinds = {
        u: subject(ctx, u).kind for u in (society["统一社会信用代码"], body["统一社会信用代码"])
    }
    assert kinds == {
        society["统一社会信用代码"]: "other_org",
        body["统一社会信用代码"]: "government_body",
    }
    assert subject(ctx, society["统一社会信用代码"]).status == SubjectStatus.DEREGISTERED
    assert subject(ctx, institution["统一社会信用代码"]).status == SubjectStatus.ACTIVE

    uscc = firm["统一社会信用代码"]
    sid = subject(ctx, uscc).id
    with ctx.sessions() as session:
        entry = register_of(session, [sid])[sid]
        assert entry.status is SubjectStatus.ACTIVE
        assert entry.status_raw == "存续（在营、开业、在册）"
        assert entry.registered_on == dt.date(2001, 5, 6)
        assert entry.legal_rep == "张三"
        # The organisation code defaults to positions 9-17 of the USCC.
        assert entry.org_code == uscc[8:17]
        assert entry.reg_no == "110105" + uscc[8:16] + "0"
        assert subjects_by_codes(session, reg_nos=[entry.reg_no], org_codes=[uscc[8:17]]) == {
            entry.reg_no: [sid],
            uscc[8:17]: [sid],
        }
        assert audit.verify(session).ok


def test_reloading_the_same_file_changes_nothing(ctx: Context, tmp_path: Path) -> None:
    rows = [company(曾用名="旧名有限公司") for _ in range(30)]
    path = write_csv(tmp_path / "register.csv", rows)
    first = load(ctx, path)
    before = {
        t.__tablename__: count(ctx, t)
        for t in (Subject, SubjectName, SubjectRegister, SubjectEvent)
    }
    with ctx.sessions() as session:
        linked_before = session.scalar(select(func.count()).select_from(AuditEvent))
    again = load(ctx, path)

    assert first.counts["changed"] == 30
    assert again.counts["changed"] == 0
    assert again.counts["unchanged"] == 30
    assert again.events == {}
    after = {
        t.__tablename__: count(ctx, t)
        for t in (Subject, SubjectName, SubjectRegister, SubjectEvent)
    }
    assert after == before
    with ctx.sessions() as session:
        # Only the run's own "finished" event: no subject was touched.
        assert (
            session.scalar(select(func.count()).select_from(AuditEvent)) == (linked_before or 0) + 1
        )


def test_rename_is_an_event_and_both_names_stay_findable(ctx: Context, tmp_path: Path) -> None:
    row = company(名称="北京华信科技有限公司")
    uscc = row["统一社会信用代码"]
    load(ctx, write_csv(tmp_path / "v1.csv", [row]))
    renamed = {**row, "名称": "北京华信智能科技有限公司", "曾用名": "北京华信科技有限公司"}
    report = load(ctx, write_csv(tmp_path / "v2.csv", [renamed]))

    assert report.events == {"renamed": 1}
    assert subject(ctx, uscc).name == "北京华信智能科技有限公司"
    assert names(ctx, uscc) == {
        "北京华信智能科技有限公司": (True, None),
        "北京华信科技有限公司": (False, TODAY),
    }
    with ctx.sessions() as session:
        sid = subject(ctx, uscc).id
        assert [(n.name, n.current, n.valid_until) for n in names_of(session, [sid])[sid]] == [
            ("北京华信智能科技有限公司", True, None),
            ("北京华信科技有限公司", False, TODAY),
        ]
        history = events_of(session, subject(ctx, uscc).id)
        assert [(e.version, e.kind) for e in history] == [(1, "registered"), (2, "renamed")]
        assert history[1].before == {"name": "北京华信科技有限公司"}
        assert history[1].event_date == TODAY
        assert history[1].source == "samr"
        for query in ("北京华信科技有限公司", "北京华信智能科技有限公司"):
            hits = search_subjects(session, ctx.keys, query, today=TODAY).hits
            assert [h.code for h in hits][:1] == [uscc], query
        # The rename is in the subject's access log.
        log = session.execute(events_about(subject(ctx, uscc).id)).all()
        assert any("renamed" in (what or "") for *_, what in log)
        profile = load_profile(session, ctx.keys, uscc, audience=Audience.PUBLIC, today=TODAY)
        assert profile is not None
        assert profile.former_names == ["北京华信科技有限公司"]


def test_deregistered_subjects_stay_findable(ctx: Context, tmp_path: Path) -> None:
    row = company(名称="杭州西湖茶叶有限公司")
    uscc = row["统一社会信用代码"]
    load(ctx, write_csv(tmp_path / "v1.csv", [row]))
    report = load(ctx, write_csv(tmp_path / "v2.csv", [{**row, "登记状态": "注销"}]))
    revoked = load(ctx, write_csv(tmp_path / "v3.csv", [{**row, "登记状态": "吊销，未注销"}]))

    assert report.events == {"deregistered": 1}
    assert revoked.events == {"revoked": 1}
    load(ctx, write_csv(tmp_path / "v4.csv", [{**row, "登记状态": "注销"}]))
    assert subject(ctx, uscc).status == "deregistered"
    with ctx.sessions() as session:
        by_name = search_subjects(session, ctx.keys, "杭州西湖茶叶有限公司", today=TODAY).hits
        by_code = search_subjects(session, ctx.keys, uscc, today=TODAY).hits
        assert [h.code for h in by_name][:1] == [uscc]
        assert [(h.code, h.status) for h in by_code] == [(uscc, "deregistered")]
        # By the legacy codes older records carry: 注册号, and 组织机构代码 with its hyphen.
        org_code = f"{uscc[8:16]}-{uscc[16]}"
        for legacy in (row["注册号"], org_code, org_code.lower()):
            found = search_subjects(session, ctx.keys, legacy, today=TODAY)
            assert [(h.code, h.how) for h in found.hits] == [(uscc, "code")], legacy
        unknown = search_subjects(session, ctx.keys, "110105999999999", today=TODAY)
        assert unknown.hits == []
        profile = load_profile(session, ctx.keys, uscc, audience=Audience.PUBLIC, today=TODAY)
        assert profile is not None
        assert profile.status == "deregistered"
        kinds = [e.kind for e in events_of(session, subject(ctx, uscc).id)]
    assert kinds == ["registered", "deregistered", "revoked", "deregistered"]


def test_a_subject_known_from_records_gets_its_register_name(ctx: Context, tmp_path: Path) -> None:
    from bonafides.records import RecordInput, RecordStatus
    from bonafides.store.records import write_records

    ref = factories.org(name="华信科技")
    with ctx.sessions.begin() as session:
        write_records(
            session,
            ctx.keys,
            [
                RecordInput(
                    subject=ref,
                    type_code="market.penalty",
                    source="samr",
                    decision_no="京市监罚〔2026〕1号",
                    decision_date=dt.date(2026, 1, 5),
                    status=RecordStatus.ACTIVE,
                    content={"decision_no": "京市监罚〔2026〕1号"},
                    raw={},
                )
            ],
            actor="test",
        )
    report = load(
        ctx, write_csv(tmp_path / "r.csv", [company(ref.code, 名称="北京华信科技有限公司")])
    )
    assert report.counts["new_subjects"] == 0
    assert report.events == {"registered": 1}
    assert subject(ctx, ref.code).name == "北京华信科技有限公司"
    current = {n: c for n, (c, _) in names(ctx, ref.code).items()}
    assert current["北京华信科技有限公司"] is True
    assert current["华信科技"] is False


def test_gb18030_file(ctx: Context, tmp_path: Path) -> None:
    row = company(名称="北京市𠀾龍騰貿易有限公司", 住所="北京市海淀区中关村南大街5号")
    path = write_csv(tmp_path / "gbk.csv", [row], encoding="gb18030")
    report = load(ctx, path)
    assert report.encoding == "gb18030"
    assert report.exit_code == 0, report.rejections
    assert subject(ctx, row["统一社会信用代码"]).name == "北京市𠀾龍騰貿易有限公司"


def test_xlsx_and_jsonl_with_english_columns(ctx: Context, tmp_path: Path) -> None:
    from openpyxl import Workbook

    english = {
        "统一社会信用代码": "uscc",
        "名称": "name",
        "曾用名": "former_names",
        "登记状态": "status",
        "成立日期": "registration_date",
        "注册号": "reg_no",
    }
    rows = [company() for _ in range(3)]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(english.values()))
    for row in rows:
        sheet.append([row[c] for c in english])
    # A date cell as a spreadsheet keeps it.
    sheet["E2"] = dt.datetime(2001, 5, 6)
    book.save(tmp_path / "register.xlsx")
    report = load(ctx, tmp_path / "register.xlsx")
    assert report.exit_code == 0, report.rejections
    assert report.counts["accepted"] == 3
    assert set(report.columns) == {
        "uscc",
        "name",
        "former_names",
        "status",
        "registered_on",
        "reg_no",
    }

    extra = company(登记状态="在业")
    lines = "\n".join(json.dumps({english.get(k, k): v for k, v in extra.items()}) for _ in [0])
    (tmp_path / "register.jsonl").write_text(lines + "\n", encoding="utf-8")
    jsonl = load(ctx, tmp_path / "register.jsonl")
    assert jsonl.exit_code == 0, jsonl.rejections
    assert subject(ctx, extra["统一社会信用代码"]).status == "active"

    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet_rows = [company(登记状态="吊销") for _ in range(2)]
    pq.write_table(pa.Table.from_pylist(parquet_rows), tmp_path / "register.parquet")
    parquet = load(ctx, tmp_path / "register.parquet")
    assert parquet.exit_code == 0, parquet.rejections
    assert parquet.format == "parquet"
    assert {subject(ctx, r["统一社会信用代码"]).status for r in parquet_rows} == {"revoked"}


def test_bad_rows_are_named_and_the_good_ones_kept(ctx: Context, tmp_path: Path) -> None:
    good = [company() for _ in range(3)]
    bad_check = company()
    bad_check["统一社会信用代码"] = bad_check["统一社会信用代码"][:-1] + (
        "0" if bad_check["统一社会信用代码"][-1] != "0" else "1"
    )
    person = company(统一社会信用代码="110105198503142131")
    no_name = company(名称="")
    bad_status = company(登记状态="不明状态")
    bad_date = company(成立日期="2021-02-30")
    future = company(成立日期="2027-01-01")
    bad_reg = company(注册号="11010501234")
    other_org_code = company(组织机构代码="MA01ABCD-" + gb11714_check_char("MA01ABCD"))
    bad_org_check = company()
    bad_org_check["组织机构代码"] = bad_org_check["统一社会信用代码"][8:16] + (
        "0" if bad_org_check["统一社会信用代码"][16] != "0" else "1"
    )
    control = company(住所="北京\x1b[2J市")
    rows = [*good[:1], bad_check, person, no_name, bad_status, bad_date, future, *good[1:]]
    rows += [bad_reg, other_org_code, bad_org_check, control]
    report = load(ctx, write_csv(tmp_path / "bad.csv", rows))

    assert report.exit_code == 1
    assert report.counts["accepted"] == 3
    assert report.counts["rejected"] == 10
    by_row = {(r.row, r.field): r.reason for r in report.rejections}
    assert "check character" in by_row[(3, "统一社会信用代码")]
    assert (4, "统一社会信用代码") in by_row
    assert by_row[(5, "名称")] == "is required"
    assert "not a register status" in by_row[(6, "登记状态")]
    assert "not a real date" in by_row[(7, "成立日期")]
    assert "in the future" in by_row[(8, "成立日期")]
    assert "15 digits" in by_row[(11, "注册号")]
    assert "organisation code" in by_row[(12, "组织机构代码")]
    assert "its check character should be" in by_row[(13, "组织机构代码")]
    assert "control character" in by_row[(14, "住所")]
    assert count(ctx, SubjectRegister) == 3


def test_unusable_files_write_nothing(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "nocode.csv"
    path.write_text("名称,登记状态\n北京某公司,存续\n", encoding="utf-8")
    with pytest.raises(UnusableInputError, match="统一社会信用代码"):
        load(ctx, path)
    both = tmp_path / "both.csv"
    both.write_text("统一社会信用代码,uscc,名称\n", encoding="utf-8")
    with pytest.raises(UnusableInputError, match="both hold uscc"):
        load(ctx, both)
    with pytest.raises(UnusableInputError, match="unknown department"):
        load(ctx, write_csv(tmp_path / "ok.csv", [company()]), source="nobody")
    assert count(ctx, Subject) == 0


def test_a_code_listed_twice_ends_as_its_last_row(ctx: Context, tmp_path: Path) -> None:
    row = company(名称="甲有限公司")
    report = load(ctx, write_csv(tmp_path / "twice.csv", [row, {**row, "名称": "乙有限公司"}]))
    assert report.events == {"registered": 1, "renamed": 1}
    assert subject(ctx, row["统一社会信用代码"]).name == "乙有限公司"


def test_status_vocabulary_reads_the_usual_spellings() -> None:
    fmt = register_format()
    cases = {
        "存续": SubjectStatus.ACTIVE,
        "在业": SubjectStatus.ACTIVE,
        "存续（在营、开业、在册）": SubjectStatus.ACTIVE,
        "注销": SubjectStatus.DEREGISTERED,
        "已注销": SubjectStatus.DEREGISTERED,
        "吊销": SubjectStatus.REVOKED,
        "吊销，未注销": SubjectStatus.REVOKED,
        "吊销,已注销": SubjectStatus.DEREGISTERED,
        "撤销": SubjectStatus.CANCELLED,
        "歇业": SubjectStatus.SUSPENDED,
        "迁出": SubjectStatus.MOVED_OUT,
        "因合并注销": SubjectStatus.MERGED,
    }
    assert {text: fmt.status_of(text) for text in cases} == cases
    assert fmt.status_of("不明状态") is None
    headers = {
        "Unified Social Credit Code": "uscc",
        "Legal Representative": "legal_rep",
        "legal-representative": "legal_rep",
        "Date of Establishment": "registered_on",
        " 统一社会信用代码 ": "uscc",
        "ＮＡＭＥ": "name",
        "备注": None,
    }
    assert {h: fmt.field_of(h) for h in headers} == headers
    assert EventKind.DEREGISTERED.value == "deregistered"


def test_every_register_status_is_labelled_in_reports_and_the_portal() -> None:
    from bonafides.reports.messages import MESSAGES

    labels = (
        Path(__file__).resolve().parents[2] / "src/bonafides/web/templates/_labels.html"
    ).read_text("utf-8")
    portal = labels[labels.index("macro subject_status") :]
    portal = portal[: portal.index("endmacro")]
    for status in SubjectStatus:
        assert {"zh", "en"} <= set(MESSAGES[f"subject.status.{status.value}"]), status
        assert f'"{status.value}":' in portal, status


def test_a_merger_names_the_subject_merged_into(ctx: Context, tmp_path: Path) -> None:
    absorbed, survivor = company(名称="甲科技有限公司"), company(名称="乙科技有限公司")
    load(ctx, write_csv(tmp_path / "v1.csv", [absorbed, survivor]))
    target = survivor["统一社会信用代码"]
    merged = {**absorbed, "登记状态": "因合并注销", "合并至统一社会信用代码": target}
    self_merged = {**survivor, "合并至统一社会信用代码": target}
    report = load(ctx, write_csv(tmp_path / "v2.csv", [merged, self_merged]))

    assert report.events == {"merged": 1}
    assert [(r.row, r.field) for r in report.rejections] == [(3, "合并至统一社会信用代码")]
    uscc = absorbed["统一社会信用代码"]
    sid = subject(ctx, uscc).id
    with ctx.sessions() as session:
        assert register_of(session, [sid])[sid].merged_into == target
        event = events_of(session, sid)[-1]
    assert event.kind == "merged"
    assert event.after == {"status": "merged", "status_raw": "因合并注销", "merged_into": target}
    assert subject(ctx, uscc).status == "merged"


def test_the_register_docs_list_every_column_name_and_status_spelling() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs/register.md").read_text("utf-8")
    fmt = register_format()
    for field_name, aliases in fmt.columns.items():
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{field_name}` |"))
        assert all(alias in row for alias in aliases), field_name
    for status in SubjectStatus:
        assert f"`{status.value}`" in docs, status


def test_an_organisation_code_failing_its_own_check_is_kept_when_the_uscc_holds_it(
    ctx: Context, tmp_path: Path
) -> None:
    from bonafides.codes import uscc_check_char

    valid = code()
    wrong = "0" if valid[16] != "0" else "1"
    first17 = valid[:16] + wrong
    uscc = first17 + uscc_check_char(first17)
    assert gb11714_check_char(uscc[8:16]) != uscc[16]
    row = company(uscc, 组织机构代码=f"{uscc[8:16]}-{uscc[16]}")
    report = load(ctx, write_csv(tmp_path / "r.csv", [row]))
    assert report.exit_code == 0, report.rejections
    with ctx.sessions() as session:
        found = search_subjects(session, ctx.keys, uscc[8:17], today=TODAY).hits
    assert [h.code for h in found] == [uscc]


def test_renames_and_ends_of_subjects_reach_the_change_feed(ctx: Context, tmp_path: Path) -> None:
    """A copy of the platform's data hears of a new name and of a subject's end in the
    feed, written in the load's own transaction; other register changes stay out of it."""
    from sqlalchemy import select

    from bonafides.store.tables import FeedEvent

    row = company(名称="北京华信科技有限公司")
    uscc = row["统一社会信用代码"]
    load(ctx, write_csv(tmp_path / "v1.csv", [row]))
    renamed = {**row, "名称": "北京华信智能科技有限公司"}
    load(ctx, write_csv(tmp_path / "v2.csv", [renamed]))
    load(ctx, write_csv(tmp_path / "v3.csv", [{**renamed, "住所": "北京市海淀区中关村大街1号"}]))
    load(ctx, write_csv(tmp_path / "v4.csv", [{**renamed, "登记状态": "注销"}]))
    with ctx.sessions() as session:
        events = session.scalars(select(FeedEvent).order_by(FeedEvent.id)).all()
    assert [(e.kind, e.subject_code) for e in events] == [
        ("subject.renamed", uscc),
        ("subject.deregistered", uscc),
    ]
    assert events[0].payload["change"]["to"] == {"name": "北京华信智能科技有限公司"}
