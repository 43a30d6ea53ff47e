"""Loading the register over the API: only an officer's key with register:load, as its
own department, answered with the load report."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bonafides.context import Context
from bonafides.security import apikeys
from bonafides.security.accounts import create_account
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import Subject, SubjectEvent, SubjectRegister
from tests.api.conftest import SAMR_KEY
from tests.ingest.test_register import company


def _key(settings: Settings, username: str, department: str, *scopes: str) -> str:
    ctx = Context(settings)
    try:
        with ctx.sessions.begin() as session:
            account = create_account(
                session,
                ctx.catalogue,
                ctx.keys,
                ctx.clock,
                username=username,
                role=Role.OFFICER,
                display_name=username,
                password=None,
                actor="test",
                department=department,
            )
            return apikeys.issue_key(
                session, ctx.clock, account, name="register", scopes=scopes, actor="test"
            ).token
    finally:
        ctx.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _count(settings: Settings, table: object) -> int:
    ctx = Context(settings)
    try:
        with ctx.sessions() as session:
            return session.scalar(select(func.count()).select_from(table)) or 0  # type: ignore[arg-type]
    finally:
        ctx.close()


def test_register_rows_need_a_key_with_the_scope(client: TestClient, settings: Settings) -> None:
    rows = [company() for _ in range(2)]
    assert client.post("/api/v1/register", json={"rows": rows}).status_code == 401
    # A department's submission key submits records, not the register.
    assert (
        client.post("/api/v1/register", json={"rows": rows}, headers=_auth(SAMR_KEY)).status_code
        == 401
    )
    narrow = _key(settings, "clerk", "samr", "records:submit")
    refused = client.post("/api/v1/register", json={"rows": rows}, headers=_auth(narrow))
    assert refused.status_code == 401
    assert "register:load" in refused.json()["title"]
    assert _count(settings, SubjectRegister) == 0


def test_register_rows_are_loaded_and_reported(client: TestClient, settings: Settings) -> None:
    key = _key(settings, "registrar", "samr", "register:load")
    good = [company(), company(登记状态="注销")]
    bad = company(登记状态="不知道")
    body = {"rows": [*good, bad]}
    answer = client.post("/api/v1/register", json=body, headers=_auth(key))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["source"] == "samr"
    assert report["summary"]["accepted"] == 2
    assert report["summary"]["rejected"] == 1
    assert report["events"] == {"registered": 2}
    assert report["rejections"][0]["row"] == 4
    assert report["rejections"][0]["field"] == "登记状态"
    again = client.post("/api/v1/register", json=body, headers=_auth(key)).json()
    assert again["summary"]["unchanged"] == 2
    assert again["events"] == {}
    assert _count(settings, SubjectEvent) == 2

    out = io.StringIO()
    renamed = {**good[0], "名称": "北京新名字科技有限公司"}
    writer = csv.DictWriter(out, fieldnames=list(renamed))
    writer.writeheader()
    writer.writerow(renamed)
    upload = client.post(
        "/api/v1/register/file",
        files={"file": ("登记.csv", out.getvalue().encode("gb18030"), "text/csv")},
        headers=_auth(key),
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["encoding"] == "gb18030"
    assert upload.json()["events"] == {"renamed": 1}
    assert _count(settings, Subject) == 2


def test_unusable_register_input_is_a_422(client: TestClient, settings: Settings) -> None:
    key = _key(settings, "registrar", "samr", "register:load")
    answer = client.post("/api/v1/register", json={"rows": [{"名称": "x"}]}, headers=_auth(key))
    assert answer.status_code == 422
    assert "统一社会信用代码" in answer.json()["title"]
    assert _count(settings, Subject) == 0


def test_odd_cells_are_rejected_by_row_never_a_500(client: TestClient, settings: Settings) -> None:
    key = _key(settings, "registrar", "samr", "register:load")
    odd: list[dict[str, object]] = [
        {"统一社会信用代码": 12345, "名称": True},
        {"统一社会信用代码": None, "名称": None, "登记状态": 1.5},
        {"统一社会信用代码": "\ud800", "名称": "\x00", "成立日期": "9999-99-99"},
        {"统一社会信用代码": company()["统一社会信用代码"], "名称": "x" * 400},
        {"统一社会信用代码": '=HYPERLINK("x")', "名称": "<script>alert(1)</script>"},
    ]
    answer = client.post(
        "/api/v1/register",
        content=json.dumps({"rows": odd}),
        headers={**_auth(key), "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["summary"]["rejected"] == len(odd)
    assert {r["row"] for r in report["rejections"]} == {2, 3, 4, 5, 6}
    assert _count(settings, Subject) == 0


def test_a_register_file_may_be_as_large_as_an_upload(
    client: TestClient, settings: Settings
) -> None:
    key = _key(settings, "registrar", "samr", "register:load")
    rows = [company(住所="北京市朝阳区建国路" + "号" * 200) for _ in range(150)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    body = out.getvalue().encode("utf-8")
    assert settings.request_max_bytes < len(body) < settings.upload_max_bytes
    upload = client.post(
        "/api/v1/register/file", files={"file": ("r.csv", body, "text/csv")}, headers=_auth(key)
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["summary"]["accepted"] == 150
