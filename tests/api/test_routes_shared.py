"""Apps made in one process share the API's built routes (``http.routes``), and that
changes nothing a client can see: the same operations, the same OpenAPI document, as
when every app built its own routes through its own ``add_api_route`` (``add_each``)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bonafides.api.app import API, create_app, routers
from bonafides.http.routes import Routes
from bonafides.settings import Settings

SETTINGS = Settings(db="sqlite://", demo=True)


def _api_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith(API)]


def test_a_second_app_shares_the_first_apps_api_routes() -> None:
    first, second = create_app(SETTINGS), create_app(SETTINGS)
    shared = {id(r) for r in _api_routes(first)} & {id(r) for r in _api_routes(second)}
    assert len(shared) == sum(len(routes.operations) for routes in routers()) > 90


def test_shared_routes_document_what_routes_added_by_the_app_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = create_app(SETTINGS).openapi()
    with monkeypatch.context() as patched:
        patched.setattr(Routes, "add_to", Routes.add_each)
        own = create_app(SETTINGS)
    fresh = create_app(SETTINGS)
    assert not {id(r) for r in _api_routes(own)} & {id(r) for r in _api_routes(fresh)}
    assert shared == own.openapi()


def test_each_portal_builds_its_own_pages() -> None:
    """A portal's pages close over its settings: two apps must not share them."""
    first, second = create_app(SETTINGS), create_app(Settings(db="sqlite://", demo=True))
    pages = [r for r in first.routes if isinstance(r, APIRoute) and r.path == "/catalogue"]
    again = [r for r in second.routes if isinstance(r, APIRoute) and r.path == "/catalogue"]
    assert len(pages) == len(again) == 1
    assert pages[0] is not again[0]


def test_a_shared_route_serves_every_app() -> None:
    for _ in range(2):
        with TestClient(create_app(SETTINGS)) as client:
            answer = client.get(f"{API}/catalogue")
            assert answer.status_code == 200
            assert answer.json()["types"]
