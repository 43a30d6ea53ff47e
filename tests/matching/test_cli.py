"""``bonafides match FILE --out OUT.jsonl`` against the store's subjects, on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bonafides.cli import app
from bonafides.context import Context
from bonafides.matching.model import ALGORITHM
from bonafides.matching.store import load_register
from bonafides.settings import get_settings
from bonafides.store.records import write_records
from bonafides.store.subjects import add_former_names, find
from tests import factories

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", "cli-test-secret-123456")
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["init", "--db", db_url])
    assert result.exit_code == 0, result.output
    yield db_url
    get_settings.cache_clear()


@pytest.fixture
def register(env: str) -> dict[str, str]:
    """Three organisations and a person, stored the way ingest stores them."""
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    branch = factories.org("330106", name="杭州鑫源贸易有限公司西湖分公司")
    renamed = factories.org("440305", name="深圳腾骏智能科技有限公司")
    person = factories.person(name="华信科技")
    ctx = Context(get_settings().model_copy(update={"db": env}))
    try:
        with ctx.sessions.begin() as session:
            items = [factories.penalty(s) for s in (huaxin, branch, renamed, person)]
            write_records(session, ctx.keys, items, actor="test")
            subject = find(session, ctx.keys, renamed.code)
            assert subject is not None
            add_former_names(session, subject.id, [("深圳腾骏电子有限公司", dt.date(2022, 1, 1))])
    finally:
        ctx.close()
    return {"huaxin": huaxin.code, "branch": branch.code, "renamed": renamed.code}


def _csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_store_loader_reads_organisations_with_former_names(
    env: str, register: dict[str, str]
) -> None:
    ctx = Context(get_settings().model_copy(update={"db": env}))
    try:
        with ctx.sessions() as session:
            entries = {e.code: e for e in load_register(session)}
    finally:
        ctx.close()
    assert set(entries) == set(register.values())  # the person is never a candidate
    renamed = entries[register["renamed"]]
    assert renamed.former_names == ("深圳腾骏电子有限公司",)
    assert renamed.region == "440305"
    assert renamed.org_code == register["renamed"][8:17]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_match_writes_one_line_per_row(
    env: str, register: dict[str, str], tmp_path: Path, encoding: str
) -> None:
    rows = [
        {
            "名称": "華信（北京）科技有限責任公司",
            "地区代码": "",
            "法定代表人": "",
            "组织机构代码": "",
        },
        {
            "名称": "杭州鑫源贸易有限公司",
            "地区代码": "330106",
            "法定代表人": "",
            "组织机构代码": "",
        },
        {"名称": "深圳腾骏电子有限公司", "地区代码": "", "法定代表人": "", "组织机构代码": ""},
        {"名称": "", "地区代码": "", "法定代表人": "", "组织机构代码": ""},
        {"名称": "华信科技", "地区代码": "北京", "法定代表人": "", "组织机构代码": ""},
    ]
    source = _csv(tmp_path / "names.csv", rows, encoding)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["match", str(source), "--out", str(out), "--db", env])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 3, 4, 5]
    assert all(a["algorithm"] == ALGORITHM for a in answers)
    first, parent, former, empty, person = answers
    assert (first["decision"], first["code"]) == ("match", register["huaxin"])
    assert first["candidates"][0]["code"] == register["huaxin"]
    assert {"feature", "contribution", "detail"} <= set(first["explanation"][0])
    # The parent of a registered branch is not the branch.
    assert parent["decision"] == "none"
    assert parent["code"] is None
    assert "branch_vs_parent" in [e["feature"] for e in parent["explanation"]]
    assert (former["decision"], former["code"]) == ("match", register["renamed"])
    assert empty["decision"] == "none"
    assert empty["candidates"] == []
    # A person's name finds nothing; a malformed region is said to be ignored.
    assert person["code"] is None
    assert "region_ignored" in [e["feature"] for e in person["explanation"]]
    assert "1 none" not in result.output
    assert "matched 5 rows" in result.output


def test_match_without_a_name_column_exits_2_and_writes_nothing(env: str, tmp_path: Path) -> None:
    source = _csv(tmp_path / "names.csv", [{"company": "北京华信科技有限公司"}])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["match", str(source), "--out", str(out), "--db", env])
    assert result.exit_code == 2
    assert "no 名称 column" in result.output
    assert not out.exists()


def test_match_into_a_missing_directory_exits_2(env: str, tmp_path: Path) -> None:
    source = _csv(tmp_path / "names.csv", [{"名称": "北京华信科技有限公司"}])
    out = tmp_path / "nowhere" / "out.jsonl"
    result = runner.invoke(app, ["match", str(source), "--out", str(out), "--db", env])
    assert result.exit_code == 2
    assert "no such directory" in result.output


def test_a_loaded_register_is_what_match_reads(env: str, tmp_path: Path) -> None:
    """``register load`` then ``match``: the register's former names, legal representative
    and legacy registration number reach the matcher at once."""
    firm = factories.org("310115", name="上海申远物流有限公司")
    loaded = _csv(
        tmp_path / "register.csv",
        [
            {
                "统一社会信用代码": firm.code,
                "名称": "上海申远物流有限公司",
                "曾用名": "上海申远运输有限公司",
                "法定代表人": "周建国",
                "登记状态": "存续",
                "注册号": "310115000123456",
            }
        ],
    )
    result = runner.invoke(app, ["register", "load", str(loaded), "--db", env])
    assert result.exit_code == 0, result.output
    ctx = Context(get_settings().model_copy(update={"db": env}))
    try:
        with ctx.sessions() as session:
            (entry,) = [e for e in load_register(session) if e.code == firm.code]
    finally:
        ctx.close()
    assert (entry.legal_rep, entry.reg_no) == ("周建国", "310115000123456")
    assert entry.former_names == ("上海申远运输有限公司",)
    queries = _csv(
        tmp_path / "q.csv",
        [
            {"名称": "上海申远运输有限公司", "注册号": ""},
            {"名称": "申远物流有限公司", "注册号": "310115000123456"},
        ],
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["match", str(queries), "--out", str(out), "--db", env])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(x["decision"], x["code"]) for x in lines] == [
        ("match", firm.code),
        ("match", firm.code),
    ]
