"""Signing in, my file, an objection and the verification page in a real browser:
Debian's Chromium driven by Playwright against the real app under uvicorn (the launch
arguments and checks of ``test_browser``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from bonafides.context import Context
from bonafides.rules.records import write_records
from bonafides.security.accounts import bind_subject, create_account
from bonafides.security.clock import SystemClock
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue
from tests import factories
from tests.web.server import running_portal
from tests.web.test_browser import browser

SECRET = "browser-account-secret-0123456789"
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.timeout(120)
__all__ = ["browser"]  # the shared Chromium fixture


@dataclass(frozen=True)
class Site:
    url: str
    code: str
    record_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("browser-account")
    settings = Settings(db=f"sqlite:///{root / 'portal.db'}", secret_key=SECRET, data_dir=root)
    ctx = Context(settings)
    migrate(ctx.engine)
    firm = factories.org(name="诚信示范有限公司")
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
        decided = factories.office_today() - dt.timedelta(days=20)
        written = write_records(
            session, ctx.keys, [factories.penalty(firm, decision_date=decided)], actor="test"
        )
        record_id = written.outcomes[0][1]
        create_account(
            session,
            ctx.catalogue,
            ctx.keys,
            SystemClock(),
            username="firm",
            role=Role.SUBJECT,
            display_name="Firm",
            password=PASSWORD,
            actor="test",
            subject_code=firm.code,
        )
        bind_subject(
            session,
            ctx.keys,
            SystemClock(),
            username="firm",
            code=firm.code,
            evidence="licence seen at the counter",
            actor="test",
        )
    ctx.close()
    env = {
        "BONAFIDES_DB": settings.db,
        "BONAFIDES_SECRET_KEY": SECRET,
        "BONAFIDES_DATA_DIR": str(root),
    }
    with running_portal(env) as url:
        yield Site(url, firm.code, record_id)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en")
    tab = context.new_page()
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    tab.on("console", note)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    yield tab
    context.close()
    assert problems == []


def _shot(page: Page, name: str) -> None:
    """Screenshots for docs/screenshots when ``BONAFIDES_SCREENSHOTS`` names the folder."""
    target = os.environ.get("BONAFIDES_SCREENSHOTS")
    if target:
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def _issue_report(url: str, code: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/reports",
        data=json.dumps({"code": code}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        report_id: str = json.load(response)["id"]
    return report_id


def test_subject_signs_in_opens_its_file_and_objects(
    site: Site, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{site.url}/lang/en?next=/me")
    expect(page).to_have_url(f"{site.url}/login?next=/me")
    page.fill("#username", "firm")
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".notice.error")).to_contain_text("Wrong user name or password")
    page.fill("#username", "firm")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/me")
    expect(page.locator("h1")).to_have_text("My file")
    expect(page.locator("dl.identity")).to_contain_text(site.code)
    _shot(page, "my-file")
    page.locator(f'a[href="/objections/new?record={site.record_id}"]').click()
    expect(page.locator("h1")).to_have_text("Object to a record")
    page.fill("#grounds", "The fine was paid before the decision was published.")
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("paid on 2026-01-02", encoding="utf-8")
    page.set_input_files("#files", str(receipt))
    page.get_by_role("button", name="File the objection").click()
    expect(page.locator("h1")).to_contain_text("Objection")
    expect(page.locator("main")).to_contain_text("receipt.txt")
    page.goto(f"{site.url}/me")
    expect(page.locator("#records ~ div table").first).to_contain_text("Under objection")
    expect(page.locator("main")).to_contain_text("Your objection")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/")


def test_the_qr_target_verifies_a_real_report(site: Site, page: Page) -> None:
    report_id = _issue_report(site.url, site.code)
    page.goto(f"{site.url}/lang/en?next=/verify?report={report_id}")
    expect(page.locator("section.report")).to_contain_text(
        "Authentic: issued by this platform and unaltered."
    )
    expect(page.locator("section.report")).to_contain_text(site.code)
    _shot(page, "verify")
    page.goto(f"{site.url}/verify?report=0000000000000000")
    expect(page.locator(".notice.error")).to_contain_text("No report or certificate")
