"""Docs that tests keep honest: every API route and every portal page is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from bonafides.api.app import create_app
from bonafides.settings import Settings
from bonafides.web import portal

DOCS = Path(__file__).resolve().parents[2] / "docs"
SETTINGS = Settings(db="sqlite://", demo=True)
OPENAPI = create_app(SETTINGS).openapi()
API_ROUTES = sorted(
    (method.upper(), path) for path, operations in OPENAPI["paths"].items() for method in operations
)
WITH_BODY = sorted(
    (method.upper(), path)
    for path, operations in OPENAPI["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
)
PAGES = sorted(set(portal(SETTINGS).router.paths))


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_api_route_is_in_api_md(method: str, path: str) -> None:
    assert f"`{method} {path}" in (DOCS / "api.md").read_text("utf-8"), f"{method} {path}"


@pytest.mark.parametrize(("method", "path"), WITH_BODY)
def test_every_route_taking_a_body_documents_413(method: str, path: str) -> None:
    """The body limit (``http.middleware``) answers 413 before any route runs, so every
    route that takes a body can answer it; a client reading the contract must see it."""
    responses = OPENAPI["paths"][path][method.lower()]["responses"]
    assert "413" in responses, f"{method} {path}"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_in_portal_md(path: str) -> None:
    documented = path.replace("{locale}", "{zh_CN,en}")
    assert f"`{documented}" in (DOCS / "portal.md").read_text("utf-8"), path


def test_the_lists_are_complete() -> None:
    assert {("GET", "/api/v1/search"), ("POST", "/api/v1/submissions/file")} <= set(API_ROUTES)
    assert {"/", "/search", "/subjects/{ref}", "/console", "/lang/{locale}"} <= set(PAGES)
