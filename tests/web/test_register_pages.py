"""The register's names and status where people look: search, the subject's page, the
API's search and profile (issue 15, item 1)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bonafides.app.register import load_register
from bonafides.context import Context
from bonafides.settings import Settings
from tests import factories
from tests.ingest.test_register import company, write_csv


def _load(settings: Settings, path: Path) -> None:
    ctx = Context(settings)
    try:
        load_register(ctx, path, source="samr", actor="test", today=factories.office_today())
    finally:
        ctx.close()


def test_a_deregistered_renamed_subject_is_found_and_shown_as_such(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    row = company(名称="杭州西湖龙井茶业有限公司")
    uscc = row["统一社会信用代码"]
    _load(settings, write_csv(tmp_path / "v1.csv", [row]))
    later = {**row, "名称": "杭州西湖龙井茶叶集团有限公司", "登记状态": "注销"}
    _load(settings, write_csv(tmp_path / "v2.csv", [later]))

    found = client.get("/api/v1/search", params={"q": "杭州西湖龙井茶业有限公司"}).json()
    assert [(h["code"], h["status"], h["matched_current"]) for h in found["hits"]][:1] == [
        (uscc, "deregistered", False)
    ]
    by_code = client.get("/api/v1/search", params={"q": uscc}).json()
    assert [h["status"] for h in by_code["hits"]] == ["deregistered"]

    client.get("/lang/zh_CN", params={"next": "/"})
    results = client.get("/search", params={"q": "杭州西湖龙井"}).text
    assert "杭州西湖龙井茶叶集团有限公司" in results
    assert "注销" in results
    page = client.get(f"/subjects/{uscc}").text
    assert "注销" in page
    assert "杭州西湖龙井茶业有限公司" in page
