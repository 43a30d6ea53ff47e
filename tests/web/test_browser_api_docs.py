"""The API documentation page in a real browser: Debian's Chromium driven by Playwright
against the real app under uvicorn (the launch arguments of ``test_browser``).

The page runs Swagger UI from the package's own files under a policy that allows
scripts from the platform only; a CDN request, an inline script or a style the policy
refuses would show here as a foreign request or a reported violation.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, expect

from bonafides.api.docs import STATIC
from tests.web.server import running_portal
from tests.web.test_browser import browser

pytestmark = pytest.mark.timeout(120)
__all__ = ["browser"]  # the shared Chromium fixture

#: Collects every violation the page's policy reports, before any of its own scripts run.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-api-docs")
    env = {
        "BONAFIDES_DB": f"sqlite:///{root / 'portal.db'}",
        "BONAFIDES_SECRET_KEY": "browser-docs-secret-0123456789",
        "BONAFIDES_DATA_DIR": str(root),
    }
    with running_portal(env) as url:
        yield url


def _openapi(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=10) as response:
        document: dict[str, Any] = json.load(response)
    return document


def test_the_docs_page_lists_every_operation_under_the_strict_policy(
    site: str, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en")
    page: Page = context.new_page()
    page.add_init_script(WATCH_POLICY)
    errors: list[str] = []
    foreign: list[str] = []
    failed: list[str] = []
    origin = urlsplit(site).netloc

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def request(sent: Request) -> None:
        if urlsplit(sent.url).scheme in {"http", "https"} and urlsplit(sent.url).netloc != origin:
            foreign.append(sent.url)

    def response(answer: Response) -> None:
        if answer.status >= 400:
            failed.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", request)
    page.on("response", response)
    try:
        answer = page.goto(site + "/api/v1/docs")
        assert answer is not None
        assert answer.status == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "unsafe" not in policy

        operations = sum(len(ops) for ops in _openapi(site)["paths"].values())
        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(operations)
        catalogue = page.locator(".opblock-get", has_text="/api/v1/catalogue")
        expect(catalogue.locator(".opblock-summary-description")).to_have_text("Catalogue")
        catalogue.locator(".opblock-summary-control").click()
        expect(catalogue).to_contain_text("The catalogue the platform validates against")

        assert page.evaluate("window.__violations") == []
    finally:
        context.close()
    assert errors == []
    assert foreign == []
    assert failed == []


def test_the_vendored_files_are_the_ones_the_readme_names() -> None:
    """The README's digests are those of the files shipped, so an update cannot skip it."""
    readme = (STATIC / "README.md").read_text("utf-8")
    assert "swagger-ui-dist@5.36.0" in readme
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()
        assert f"`{name}`" in readme
        assert f"sha256 `{digest}`" in readme, name
    assert (STATIC / "swagger-ui.LICENSE").read_text("utf-8").lstrip().startswith("Apache")
    assert (STATIC / "docs.js").read_text("utf-8").count("SwaggerUIBundle(") == 1
