"""The office's desk in a real browser (issue 20): credit commitments, disclosure on
application, counterparty checks, the catalogue's list column, a file whose publication
ended and an unusual-reading alert, done as their users do them, in Chinese and English.

Debian's Chromium driven by Playwright against the real app under uvicorn (the launch
arguments of ``test_browser``), on SQLite and on PostgreSQL: the whole module runs once
per store. With ``BONAFIDES_SCREENSHOTS=docs/screenshots`` the SQLite run refreshes the
desk's screenshots.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bonafides.app.alerts import scan_day
from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.tables import ReadingAlert
from tests.web import desk_seed
from tests.web.desk_seed import Desk
from tests.web.server import running_portal
from tests.web.test_browser import browser

SECRET = "browser-desk-secret-0123456789"
T = TypeVar("T")

pytestmark = pytest.mark.timeout(180)
__all__ = ["browser"]  # the shared Chromium fixture


@dataclass(frozen=True)
class Site:
    url: str
    store: str
    settings: Settings
    desk: Desk


def _off_the_loop(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread of its own: once Playwright runs, the test's thread has its
    event loop, and the suite refuses blocking SQL there (tests/conftest.py)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def _admin(admin: str, statement: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


@contextmanager
def _database(kind: str, root: Path, admin: str | None) -> Iterator[str]:
    """A store of its own for the module: a file, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{root / 'portal.db'}"
        return
    if admin is None:
        pytest.skip("PostgreSQL is not running here (scripts/postgres.sh starts it)")
    name = f"bonafides_desk_{uuid.uuid4().hex[:8]}"
    _off_the_loop(lambda: _admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        _off_the_loop(lambda: _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _seeded(settings: Settings) -> Desk:
    ctx = Context(settings)
    try:
        return desk_seed.seed(ctx, today=ctx.today())
    finally:
        ctx.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_admin_url: str | None,
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp(f"browser-desk-{request.param}")
    with _database(request.param, root, pg_admin_url) as db:
        settings = Settings(db=db, secret_key=SECRET, data_dir=root, reading_alert_min=3)
        desk = _off_the_loop(lambda: _seeded(settings))
        env = {
            "BONAFIDES_DB": db,
            "BONAFIDES_SECRET_KEY": SECRET,
            "BONAFIDES_DATA_DIR": str(root),
        }
        with running_portal(env) as url:
            yield Site(url, request.param, settings, desk)


@contextmanager
def _tab(browser: Browser) -> Iterator[Page]:
    """A browser context of its own (its own session cookie); a script error, a refused
    style or script, or a failed asset fails the test."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    context.close()
    assert problems == []


def _sign_in(page: Page, site: Site, username: str, lang: str, target: str) -> None:
    """Choose the language, open ``target``, and sign in on the page it sends us to."""
    page.goto(f"{site.url}/lang/{lang}?next={target}")
    expect(page).to_have_url(f"{site.url}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", desk_seed.PASSWORD)
    page.press("#password", "Enter")
    expect(page).to_have_url(f"{site.url}{target}")


def _shot(site: Site, page: Page, name: str, part: Locator | None = None) -> None:
    """Screenshots for docs/screenshots when ``BONAFIDES_SCREENSHOTS`` names the folder:
    the whole page, or only ``part`` of it."""
    target = os.environ.get("BONAFIDES_SCREENSHOTS")
    if not target or site.store != "sqlite":
        return
    path = str(Path(target) / f"{name}.png")
    if part is None:
        page.screenshot(path=path, full_page=True)
    else:
        part.screenshot(path=path)


def test_a_company_signs_a_commitment_and_the_department_records_its_breach(
    site: Site, browser: Browser
) -> None:
    with _tab(browser) as firm, _tab(browser) as clerk:
        _sign_in(firm, site, "firm", "zh", "/commitments")
        expect(firm.locator("h1")).to_have_text("信用承诺")
        food = firm.locator("form.console").filter(
            has=firm.locator('input[value="food.business_licence"]')
        )
        expect(firm.locator("p.grounds").first).to_contain_text("国办发〔2020〕42号")
        food.locator("input[name=licence_ref]").fill("x")
        food.get_by_role("button", name="签署本承诺").click()
        expect(firm.locator(".notice.error")).to_be_visible()
        food = firm.locator("form.console").filter(
            has=firm.locator('input[value="food.business_licence"]')
        )
        food.locator("input[name=licence_ref]").fill("JY-2026-0101")
        food.get_by_role("button", name="签署本承诺").click()
        expect(firm).to_have_url(f"{site.url}/commitments")
        row = firm.locator("tr", has_text="JY-2026-0101")
        expect(row).to_contain_text("食品经营许可")
        expect(row).to_contain_text("市场监督管理")
        expect(row).to_contain_text("承诺期内")
        _shot(site, firm, "commitments")

        _sign_in(clerk, site, "clerk", "en", "/commitments")
        expect(clerk.locator("h1")).to_have_text("Credit commitments")
        row = clerk.locator("tr", has_text="JY-2026-0101")
        expect(row).to_contain_text("Food business licence")
        row.get_by_label("Breached").check()
        row.locator("input[name=note]").fill("Found on inspection.")
        row.get_by_role("button", name="Record").click()
        expect(clerk.locator(".notice.error")).to_be_visible()
        row = clerk.locator("tr", has_text="JY-2026-0101")
        row.get_by_label("Breached").check()
        row.locator("input[name=note]").fill("Found on inspection.")
        row.locator("input[name=decision_no]").fill("市监承诺〔2026〕9号")
        row.locator("textarea[name=facts]").fill("No cold store on the premises.")
        row.get_by_role("button", name="Record").click()
        row = clerk.locator("tr", has_text="JY-2026-0101")
        expect(row).to_contain_text("Breached (decision recorded in the file)")
        expect(row.locator("form")).to_have_count(0)

        firm.goto(f"{site.url}/me")
        expect(firm.locator("#records ~ div table").first).to_contain_text("违背信用承诺")
        expect(firm.locator("ul.notes")).to_contain_text("您的信用承诺被认定为未履约")


def test_an_application_for_disclosure_is_filed_decided_in_part_and_opened_by_the_applicant(
    site: Site, browser: Browser
) -> None:
    with _tab(browser) as firm, _tab(browser) as clerk:
        _sign_in(firm, site, "firm", "en", "/disclosure-requests/new")
        expect(firm.locator("h1")).to_have_text("Apply for disclosure of information")
        expect(firm.locator("p.lead")).to_contain_text("20 working days")
        firm.select_option("#department", "samr")
        firm.fill("#asked", "The inspection reports on our premises made in 2025.")
        firm.fill("#purpose", "To prepare an appeal")
        firm.get_by_role("button", name="Apply").click()
        expect(firm.locator("h1")).to_contain_text("Application for disclosure")
        number = firm.url.rsplit("/", 1)[1]
        expect(firm.locator("dl.identity")).to_contain_text("Awaiting the department's answer")
        _shot(site, firm, "disclosure-request")

        _sign_in(clerk, site, "clerk", "zh", "/disclosure-requests")
        expect(clerk.locator("h1")).to_have_text("待答复的政府信息公开申请")
        clerk.get_by_role("link", name=f"申请 {number}").click()
        clerk.get_by_role("radio", name="部分公开").check()
        clerk.fill("#answer", "Reports of March and June attached; the September one is withheld.")
        clerk.get_by_role("button", name="提交决定").click()
        expect(clerk.locator(".notice.error")).to_be_visible()
        clerk.get_by_role("radio", name="部分公开").check()
        clerk.fill("#provision", "《政府信息公开条例》第十五条")
        clerk.get_by_role("button", name="提交决定").click()
        expect(clerk.locator("main h2", has_text="决定")).to_contain_text("部分公开")
        expect(clerk.locator("form.console")).to_have_count(0)

        firm.goto(f"{site.url}/me")
        note = firm.locator("ul.notes li", has_text="Your application for disclosure was decided")
        expect(note).to_have_count(1)
        note.get_by_role("link", name="Open").click()
        expect(firm).to_have_url(f"{site.url}/disclosure-requests/{number}")
        expect(firm.locator("main")).to_contain_text("Decision: Granted in part")
        expect(firm.locator("main")).to_contain_text("第十五条")


def test_a_company_checks_its_counterparties_from_a_file_and_keeps_them(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    codes = tmp_path / "counterparties.csv"
    lines = ["code", site.desk.listed, site.desk.firm, site.desk.unknown, "91330106NOTACODE00"]
    codes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with _tab(browser) as firm, _tab(browser) as clerk:
        _sign_in(firm, site, "firm", "zh", "/counterparties")
        expect(firm.locator("h1")).to_have_text("交易对象查询")
        firm.set_input_files("#file", str(codes))
        firm.fill("#watchlist", "供应商")
        firm.get_by_role("button", name="查询", exact=True).click()
        expect(firm.locator(".notice[role=status]")).to_be_visible()
        rows = firm.locator("table tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.nth(0)).to_contain_text(desk_seed.LISTED_NAME)
        expect(rows.nth(0)).to_contain_text("列入黑名单")
        expect(rows.nth(0)).to_contain_text("失信被执行人名单")
        expect(rows.nth(1)).to_contain_text("公开的失信决定")
        expect(rows.nth(2)).to_contain_text("无公开信息")
        expect(rows.nth(3)).to_contain_text("代码无效")
        expect(firm.locator("p.hint").first).to_contain_text("供应商")
        _shot(site, firm, "counterparties")
        firm.get_by_role("link", name="English").click()
        expect(firm.locator("h1")).to_have_text("Counterparty check")

        clerk.goto(f"{site.url}/lang/en?next=/login?next=/counterparties")
        clerk.fill("#username", "clerk")
        clerk.fill("#password", desk_seed.PASSWORD)
        with clerk.expect_response(lambda r: r.url.endswith("/counterparties")) as answer:
            clerk.press("#password", "Enter")
        assert answer.value.status == 403


def test_the_catalogue_shows_the_list_each_negative_type_feeds_or_why_none(
    site: Site, browser: Browser
) -> None:
    with _tab(browser) as page:
        page.goto(f"{site.url}/catalogue#statistics")
        row = page.locator('tr[id="statistics.serious_dishonesty"]')
        link = row.locator("td.effect a")
        expect(link).to_have_text("统计严重失信企业名单")
        breach = page.locator('tr[id="general.commitment_breach"] td.effect')
        expect(breach).to_contain_text("不入名单：")
        expect(breach).to_contain_text("仅有违诺记录不会使主体进入任何名单")
        _shot(site, page, "catalogue-lists", page.locator("section#statistics"))
        _shot(site, page, "catalogue-no-list", page.locator("section.field", has=breach))
        link.click()
        expect(page.locator("h1")).to_have_text("统计严重失信企业名单")
        page.goto(f"{site.url}/lang/en?next=/catalogue")
        breach = page.locator('tr[id="general.commitment_breach"] td.effect')
        expect(breach).to_contain_text("No list:")
        expect(breach).to_contain_text("a breach alone puts no one on a list")
        expect(page.locator('tr[id="statistics.serious_dishonesty"] td.effect a')).to_have_text(
            "Seriously dishonest enterprises in statistics"
        )


def test_publication_and_retention_that_ended_say_so_in_the_subjects_own_file(
    site: Site, browser: Browser
) -> None:
    with _tab(browser) as firm:
        _sign_in(firm, site, "firm", "zh", "/me")
        rows = firm.locator("#records ~ div table tbody tr")
        old = rows.filter(has_text=desk_seed.OLD_DECISION)
        expect(old.locator(".status")).to_have_text("公示期满")
        expired = rows.filter(has_text=desk_seed.EXPIRED_DECISION)
        expect(expired.locator(".status")).to_have_text("已到期")
        expect(expired.locator("a")).to_have_count(0)
        _shot(site, firm, "my-file-publication-ended", firm.locator("#records ~ div").first)
        recent = rows.filter(has_not_text=desk_seed.OLD_DECISION).filter(
            has_not_text=desk_seed.EXPIRED_DECISION
        )
        expect(recent.locator(".status", has_text="公示期满")).to_have_count(0)
        firm.get_by_role("link", name="English").click()
        old = firm.locator("#records ~ div table tr", has_text=desk_seed.OLD_DECISION)
        expect(old.locator(".status")).to_have_text("Publication ended")
        firm.goto(f"{site.url}/subjects/{site.desk.firm}")
        expect(firm.locator("h1")).to_have_text(desk_seed.FIRM_NAME)
        expect(firm.locator("main")).not_to_contain_text(desk_seed.OLD_DECISION)
        expect(firm.locator("main")).not_to_contain_text(desk_seed.EXPIRED_DECISION)
    # An authority reading the file no longer gets the record past its retention.
    served = _read_file(site, site.desk.firm)
    assert desk_seed.EXPIRED_DECISION not in served
    assert desk_seed.OLD_DECISION in served


def _read_file(site: Site, code: str) -> str:
    """The file as the clerk's key reads it through the API, as text."""
    request = urllib.request.Request(
        f"{site.url}/api/v1/files/{code}?purpose=licence%20review",
        headers={"authorization": f"Bearer {site.desk.clerk_key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body: str = response.read().decode()
    assert json.loads(body)["code"] == code
    return body


def _scan(settings: Settings) -> list[ReadingAlert]:
    """The worker's scan of today, as ``bonafides alerts scan`` runs it."""
    ctx = Context(settings)
    try:
        return scan_day(ctx, day=None, actor="test")
    finally:
        ctx.close()


def test_a_burst_of_reads_alerts_the_operator_on_their_page(site: Site, browser: Browser) -> None:
    for _ in range(5):
        _read_file(site, site.desk.firm)
    alerts = _off_the_loop(lambda: _scan(site.settings))
    assert [a.actor.rsplit(":", 1)[-1] for a in alerts] == ["clerk"]  # the clerk's key
    with _tab(browser) as operator:
        _sign_in(operator, site, "operator", "zh", "/me")
        note = operator.locator("ul.notes li", has_text="clerk")
        expect(note).to_contain_text("非公开信息读取异常")
        _shot(site, operator, "reading-alert")
        operator.get_by_role("link", name="English").click()
        note = operator.locator("ul.notes li", has_text="clerk")
        expect(note).to_contain_text("Unusual reading of non-public files")


def test_the_period_statistics_count_deadlines_in_working_days_on_either_store(
    site: Site, browser: Browser
) -> None:
    with _tab(browser) as page:
        page.goto(f"{site.url}/statistics")
        quarter = page.locator("#period-input").input_value()
        page.fill("#period-input", quarter[:4])
        page.get_by_role("button", name="查看").click()
        expect(page.locator("#period h2")).to_have_text(f"{quarter[:4]} 统计")
        deadlines = page.locator("#deadlines")
        expect(deadlines).to_contain_text("中位工作日数")
        expect(deadlines.locator("table.numbers")).to_contain_text("政府信息公开申请")
        for block in ("#decisions-by-department", "#quality"):
            expect(page.locator(f"{block} table.numbers")).to_be_visible()
        expect(page.locator("#decisions-by-department table.numbers")).to_contain_text(
            "国家市场监督管理总局"
        )
        page.get_by_role("link", name="English").click()
        deadlines = page.locator("#deadlines")
        expect(deadlines).to_contain_text("median working days")
        expect(deadlines.locator("table.numbers")).to_contain_text("Applications for disclosure")
