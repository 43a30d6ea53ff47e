"""The portal without a browser: every page, both languages, the console, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.catalogue import load_catalogue
from bonafides.records import RecordStatus
from bonafides.settings import Settings
from bonafides.web import pages
from tests import factories
from tests.api.conftest import SAMR_KEY, Store
from tests.web import structure

TODAY = factories.office_today()
PENALTY = load_catalogue().type("market.penalty")


def _english(client: TestClient) -> None:
    response = client.get("/lang/en", params={"next": "/catalogue"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/catalogue"


def test_home_is_chinese_by_default_and_switches_to_english(
    client: TestClient, store: Store
) -> None:
    store(factories.penalty(decision_date=TODAY - dt.timedelta(days=2)))
    page = client.get("/").text
    assert '<html lang="zh-CN">' in page
    assert "公共信用信息公示平台" in page
    assert 'href="/lang/en?next=/"' in page
    _english(client)
    english = client.get("/").text
    assert '<html lang="en">' in english
    assert "Public Credit Information Portal" in english
    assert "公共信用信息公示平台" not in english
    client.get("/lang/zh_CN", params={"next": "/"})
    assert "公共信用信息公示平台" in client.get("/").text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_language_switch_never_redirects_off_site(client: TestClient, target: str) -> None:
    response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_search_page_and_fragment(client: TestClient, store: Store) -> None:
    who = factories.org(name="厦门鼓浪屿旅游发展有限公司")
    store(factories.penalty(who, decision_date=TODAY - dt.timedelta(days=2)))
    page = client.get("/search", params={"q": "鼓浪屿旅游发屐"}).text
    assert "<form" in page
    assert f'href="/subjects/{who.code}"' in page
    fragment = client.get(
        "/search", params={"q": "鼓浪屿旅游发屐"}, headers={"HX-Request": "true"}
    ).text
    assert "<html" not in fragment
    assert who.name in fragment
    bad = client.get("/search", params={"q": who.code[:-1] + "I"}).text
    assert "不是有效的代码" in bad


def test_subject_page(client: TestClient, store: Store) -> None:
    who = factories.org(name="青岛海风食品有限公司")
    store(
        factories.penalty(who, decision_date=TODAY - dt.timedelta(days=2)),
        factories.penalty(
            who, decision_date=TODAY - dt.timedelta(days=9), status=RecordStatus.UNDER_OBJECTION
        ),
    )
    page = client.get(f"/subjects/{who.code}").text
    assert "<h1>青岛海风食品有限公司</h1>" in page
    assert page.count('<section class="field"') == 1
    assert "市场监管" in page
    assert "异议处理中" in page
    assert "《中华人民共和国行政处罚法》" in page
    _english(client)
    english = client.get(f"/subjects/{who.code}").text
    assert "Objection pending" in english
    assert "State Administration for Market Regulation" in english


def test_unknown_and_invalid_codes_get_html_error_pages(client: TestClient) -> None:
    unknown = client.get("/subjects/91110000600037341L")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert "未找到" in unknown.text
    invalid = client.get("/subjects/not-a-code")
    assert invalid.status_code == 422
    assert "代码无效" in invalid.text


def test_names_are_escaped(client: TestClient, store: Store) -> None:
    who = factories.org(name="<script>alert(1)</script>有限公司")
    store(factories.penalty(who, decision_date=TODAY - dt.timedelta(days=1)))
    page = client.get(f"/subjects/{who.code}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司" in page
    results = client.get("/search", params={"q": "<script>alert"}).text
    assert "<script>alert" not in results


def test_catalogue_page_lists_every_type(client: TestClient) -> None:
    page = client.get("/catalogue").text
    catalogue = load_catalogue()
    for rtype in catalogue.types:
        assert f'<tr id="{rtype.code}">' in page
    assert catalogue.version in page


def test_catalogue_page_shows_the_lists_a_type_feeds_or_why_none(client: TestClient) -> None:
    page = client.get("/catalogue").text
    row = page[page.index('<tr id="statistics.serious_dishonesty">') :]
    row = row[: row.index("</tr>")]
    assert '<a href="/lists/statistics.serious_dishonesty">统计严重失信企业名单</a>' in row
    row = page[page.index('<tr id="market.penalty">') :]
    row = row[: row.index("</tr>")]
    assert "不入名单：" in row
    assert "行政处罚按照“双公示”公开" in row


def test_statistics_page_draws_charts(client: TestClient, store: Store) -> None:
    store(*[factories.penalty(decision_date=TODAY - dt.timedelta(days=d)) for d in (1, 40, 80)])
    page = client.get("/statistics").text
    # Records by field and the publication delay; the period's figures follow their own.
    assert page[: page.index('id="period"')].count('<svg class="chart"') == 2
    assert re.search(r'<rect class="s0"[^>]*><title>[^<]*市场监管: 1 条</title>', page)
    assert "国家市场监督管理总局" in page


def test_statistics_page_has_its_sections_in_main_and_a_plain_title(
    client: TestClient, store: Store
) -> None:
    store(*[factories.penalty(decision_date=TODAY - dt.timedelta(days=d)) for d in (1, 40)])
    html = client.get("/statistics").text
    assert structure.problems(html) == []
    page = structure.parse(html)
    assert page.title.strip() == "统计 · 公共信用信息公示平台"
    for section in ("by-field", "delay", "by-region"):
        [found] = page.by_id(section)
        assert found.ancestors[-2:] == ("body", "main"), section


@pytest.mark.parametrize(
    "path", ["/", "/catalogue", "/statistics", "/lists", "/measures", "/verify", "/login"]
)
def test_public_pages_are_well_formed(client: TestClient, store: Store, path: str) -> None:
    store(factories.penalty(decision_date=TODAY - dt.timedelta(days=3)))
    response = client.get(path)
    assert response.status_code == 200
    assert structure.problems(response.text) == []


def _upload(client: TestClient, key: str, *, htmx: bool = False) -> tuple[int, str]:
    rows = [
        factories.content_row(PENALTY, factories.org(), decision_date=TODAY - dt.timedelta(days=1))
        for _ in range(3)
    ]
    rows[1]["处罚决定日期"] = "2025-02-30"
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    response = client.post(
        "/console",
        data={"department": "samr", "key": key, "type": "market.penalty"},
        files={"file": ("处罚.csv", "\n".join(lines).encode(), "text/csv")},
        headers={"HX-Request": "true"} if htmx else {},
    )
    return response.status_code, response.text


def test_console_upload_reports_bad_rows(client: TestClient) -> None:
    status, page = _upload(client, SAMR_KEY)
    assert status == 200
    assert "<html" in page
    assert '<dd class="accepted">2</dd>' in page
    assert '<dd class="rejected">1</dd>' in page
    assert "2025-02-30" in page
    status, fragment = _upload(client, SAMR_KEY, htmx=True)
    assert status == 200
    assert "<html" not in fragment
    assert "校验报告" in fragment


def test_console_refuses_a_wrong_key_and_missing_fields(client: TestClient) -> None:
    status, page = _upload(client, "wrong")
    assert status == 401
    assert "报送密钥对此部门无效" in page
    missing = client.post("/console", data={"department": "samr"})
    assert missing.status_code == 400
    assert "请选择部门、信息类别和文件" in missing.text


def test_console_refuses_oversized_uploads(client: TestClient) -> None:
    response = client.post(
        "/console",
        data={"department": "samr", "key": SAMR_KEY, "type": "market.penalty"},
        files={"file": ("big.csv", b"a" * (300 * 1024), "text/csv")},
    )
    assert response.status_code == 413
    assert "上传文件过大" in response.text


def test_other_areas_add_pages_and_menu_entries(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setattr(pages, "PAGE_MODULES", ("tests.web.example_pages",))
    with TestClient(create_app(settings)) as test_client:
        assert "example page" in test_client.get("/example").text
        home = test_client.get("/example").text
    assert '<a href="/example" aria-current="page">统计</a>' in home


def test_history_restore_gets_the_whole_page(client: TestClient) -> None:
    restore = client.get(
        "/search",
        params={"q": "测试"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


def test_console_upload_with_invalid_unicode_is_reported_by_row(client: TestClient) -> None:
    rows = [
        factories.content_row(PENALTY, factories.org(), decision_date=TODAY - dt.timedelta(days=1))
        for _ in range(2)
    ]
    lines = [json.dumps(r) for r in rows]
    lines[1] = lines[1].replace(json.dumps(rows[1]["行政相对人名称"]), '"\\udfff\\u001b[2J"')
    response = client.post(
        "/console",
        data={"department": "samr", "key": SAMR_KEY, "type": "market.penalty"},
        files={"file": ("batch.jsonl", "\n".join(lines).encode("ascii"), "application/x-ndjson")},
    )
    assert response.status_code == 200, response.text
    assert '<dd class="accepted">1</dd>' in response.text
    assert '<dd class="rejected">1</dd>' in response.text
    assert "U+DFFF" in response.text
    assert "\x1b" not in response.text
