"""The portal in a real browser: Debian's Chromium driven by Playwright, the real app
served by uvicorn on a loopback port.

Set ``BONAFIDES_SCREENSHOTS=docs/screenshots`` to refresh the screenshots the docs
and the README show; otherwise they go to a temporary directory and are only checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from bonafides.catalogue import load_catalogue
from bonafides.context import Context
from bonafides.settings import Settings
from tests import factories
from tests.web import seed
from tests.web.server import running_portal

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "browser-test-secret-0123456789"
KEY = "samr-browser-key-0123456789"
IN_CI = os.environ.get("CI") == "true"
_ASSETS = frozenset({"script", "stylesheet", "image", "font"})

pytestmark = pytest.mark.timeout(120)


@dataclass(frozen=True)
class Site:
    url: str
    codes: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = tmp_path_factory.mktemp("browser") / "portal.db"
    settings = Settings(db=f"sqlite:///{db}", secret_key=SECRET)
    ctx = Context(settings)
    codes = seed.seed(ctx)
    ctx.close()
    env = {
        "BONAFIDES_DB": settings.db,
        "BONAFIDES_SECRET_KEY": SECRET,
        "BONAFIDES_DEPARTMENT_KEYS": json.dumps({"samr": KEY}),
    }
    with running_portal(env) as url:
        yield Site(url, codes)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("Debian's chromium is required under CI (scripts/system-packages.sh)")
        pytest.skip("chromium is not installed (scripts/system-packages.sh installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        # A page answered 404 on purpose logs a failed load; assets are checked below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def check(response: Response) -> None:
        if response.request.resource_type in _ASSETS and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    tab.on("console", note)
    tab.on("response", check)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    yield tab
    context.close()
    # A CSP violation, a script error or a missing asset shows here.
    assert problems == []


def _shots() -> Path | None:
    target = os.environ.get("BONAFIDES_SCREENSHOTS")
    return Path(target) if target else None


def test_typo_search_subject_page_and_language_switch(site: Site, page: Page) -> None:
    page.goto(site.url + "/")
    expect(page.locator("h1")).to_have_text("查询企业和个人的公共信用信息")
    page.fill("#q", seed.TARGET_TYPO)
    hit = page.locator("ol.hits a.name").first
    expect(hit).to_have_text(seed.TARGET_NAME)
    assert "/search?q=" in page.url  # htmx pushed the search into the history
    hit.click()
    expect(page.locator("h1")).to_have_text(seed.TARGET_NAME)
    expect(page.locator(".objection-marker")).to_have_count(1)
    expect(page.locator("dl.identity")).to_contain_text(seed.TARGET_FORMER)
    expect(page.locator("section.field")).to_have_count(4)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(seed.TARGET_NAME)
    expect(page.locator("dl.identity")).to_contain_text("Former names")
    expect(page.locator(".objection-marker")).to_contain_text("Objection pending")
    page.goto(site.url + "/")
    expect(page.locator("h1")).to_have_text(
        "Look up a company or a person's public credit information"
    )


def test_an_id_number_typed_into_search_stays_out_of_the_address_bar(
    site: Site, page: Page
) -> None:
    number = site.codes["adult"]
    page.goto(site.url + "/")
    page.fill("#q", number)
    expect(page.locator("ol.hits a.name").first).to_have_text(seed.ADULT_NAME)
    page.press("#q", "Enter")  # the form itself, posted
    expect(page.locator("h1")).to_have_text("查询")
    hit = page.locator("ol.hits a.name").first
    expect(hit).to_have_text(seed.ADULT_NAME)
    assert number not in page.url
    hit.click()
    expect(page.locator("h1")).to_have_text(seed.ADULT_NAME)
    assert "/subjects/p:" in unquote(page.url)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="File a complaint or report about this subject").click()
    expect(page.locator(".about-subject")).to_contain_text(seed.ADULT_NAME)
    assert number not in page.url
    stored = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
    assert number not in stored, "no snapshot of the results is kept"


def test_a_minor_is_never_shown(site: Site, page: Page) -> None:
    page.goto(site.url + "/search?q=" + seed.MINOR_NAME)
    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator("ol.hits")).to_have_count(0)
    response = page.goto(site.url + "/subjects/" + site.codes["minor"])
    assert response is not None
    assert response.status == 404


def test_a_list_from_the_subject_page_and_its_csv(site: Site, page: Page) -> None:
    page.goto(site.url + "/subjects/" + site.codes["listed"])
    memberships = page.locator("section#lists")
    expect(memberships).to_contain_text("失信被执行人名单")
    memberships.get_by_role("link", name="失信被执行人名单").click()
    expect(page.locator("h1")).to_have_text("失信被执行人名单")
    expect(page.locator("main")).not_to_contain_text(seed.MINOR_NAME[0] + "*")
    page.fill("#region", "32")
    page.get_by_role("button", name="显示条目").click()
    assert "region=32" in page.url
    expect(page.locator("table.entries tbody tr")).to_have_count(1)
    expect(page.locator("table.entries")).to_contain_text(seed.LISTED_NAME)
    with page.expect_download() as info:
        page.get_by_role("link", name="下载这些条目（CSV）").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["code"], r["name"], r["list"]) for r in rows] == [
        (site.codes["listed"], seed.LISTED_NAME, "courts.defaulters")
    ]
    page.get_by_role("link", name="奖惩措施").click()
    expect(page.locator("h1")).to_have_text("联合激励与联合惩戒措施")
    page.select_option("#action", "procurement.bid")
    page.get_by_role("button", name="显示措施").click()
    expect(page.locator("tr#defaulters\\.procurement td.basis")).to_contain_text("政府采购法")


def _penalty_file(tmp_path: Path) -> Path:
    """Three penalties: one good, one with an impossible date, one with a wrong check digit."""
    penalty = load_catalogue().type("market.penalty")
    recent = factories.office_today() - dt.timedelta(days=3)
    rows = [factories.content_row(penalty, factories.org(), decision_date=recent) for _ in range(3)]
    rows[1]["处罚决定日期"] = "2026-02-30"
    code = rows[2]["统一社会信用代码"]
    rows[2]["统一社会信用代码"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = tmp_path / "处罚信息.csv"
    upload.write_text(out.getvalue(), encoding="utf-8")
    return upload


def _submit(page: Page, url: str, upload: Path, key: str) -> None:
    page.goto(url + "/console")
    page.select_option("#department", "samr")
    page.fill("#key", key)
    page.select_option("#type", "market.penalty")
    page.set_input_files("#file", str(upload))
    page.get_by_role("button", name="上传并校验").click()


def test_console_upload_with_bad_rows(site: Site, page: Page, tmp_path: Path) -> None:
    upload = _penalty_file(tmp_path)
    _submit(page, site.url, upload, KEY)
    report = page.locator("#report .report")
    expect(report).to_be_visible()
    expect(report.locator("dd.rows")).to_have_text("3")
    expect(report.locator("dd.accepted")).to_have_text("1")
    expect(report.locator("dd.rejected")).to_have_text("2")
    expect(report.locator("table.rejections")).to_contain_text("2026-02-30")
    expect(report.locator("table.rejections tbody tr")).to_have_count(2)
    assert page.url.endswith("/console")
    _submit(page, site.url, upload, "wrong-key")
    expect(page.locator("#report .notice.error")).to_contain_text("报送密钥对此部门无效")


def test_pages_work_without_javascript(site: Site, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url + "/")
    page.fill("#q", seed.TARGET_TYPO)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("ol.hits a.name").first).to_have_text(seed.TARGET_NAME)
    page.locator("ol.hits a.name").first.click()
    page.locator("details summary").first.click()
    expect(page.locator("dl.content").first).to_be_visible()
    context.close()


def test_screenshots_of_the_main_pages(site: Site, page: Page, tmp_path: Path) -> None:
    target = _shots() or tmp_path
    target.mkdir(parents=True, exist_ok=True)
    pages = {
        "home": "/",
        "search": "/search?q=" + seed.TARGET_TYPO,
        "subject": "/subjects/" + site.codes["target"],
        "catalogue": "/catalogue",
        "statistics": "/statistics",
        "lists": "/lists",
        "list": "/lists/courts.defaulters",
        "measures": "/measures?action=procurement.bid",
    }
    for name, path in pages.items():
        page.goto(site.url + path)
        page.screenshot(path=str(target / f"{name}.png"), full_page=name != "catalogue")
    _submit(page, site.url, _penalty_file(tmp_path), KEY)
    expect(page.locator("#report .report")).to_be_visible()
    page.screenshot(path=str(target / "console.png"), full_page=True)
    page.goto(site.url + "/lang/en?next=/subjects/" + site.codes["target"])
    page.screenshot(path=str(target / "subject-en.png"), full_page=True)
    for name in [*pages, "console", "subject-en"]:
        assert (target / f"{name}.png").stat().st_size > 10_000


def test_statistics_for_a_chosen_period_show_each_chart_with_its_table(
    site: Site, page: Page
) -> None:
    # The seed spreads decisions over the months before today.
    month = (factories.office_today().replace(day=1) - dt.timedelta(days=40)).strftime("%Y-%m")
    page.goto(site.url + "/statistics")
    page.fill("#period-input", month)
    page.get_by_role("button", name="查看").click()
    assert page.url.endswith(f"/statistics?period={month}#period")
    expect(page.locator("#period h2")).to_have_text(f"{month} 统计")
    for block in ("#decisions-by-department", "#deadlines", "#quality"):
        expect(page.locator(f"{block} table.numbers")).to_be_visible()
    page.goto(site.url + "/statistics?period=2025-Q9")
    expect(page.locator("body")).to_contain_text("2025-Q9")
