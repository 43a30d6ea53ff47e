"""Issuing and rendering reports costs about a second of CPU per PDF: anonymous callers
get a bucket per address (``BONAFIDES_REPORT_RATE_PER_MINUTE``), answered 429 with
Retry-After once spent. Both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.context import Context
from bonafides.settings import Settings
from tests import factories
from tests.reports.conftest import put, record

LIMIT = 3


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"report_rate_per_minute": LIMIT})


@pytest.fixture
def firm(ctx: Context) -> str:
    subject = factories.org()
    today = factories.office_today()
    put(
        ctx,
        record(
            subject,
            "market.penalty",
            source="samr",
            decided=today - dt.timedelta(days=10),
            published_until=today + dt.timedelta(days=300),
            content={"violation_type": "虚假宣传"},
        ),
    )
    return subject.code


@pytest.fixture
def clients(limited: Settings, ctx: Context) -> Iterator[tuple[TestClient, TestClient]]:
    app = create_app(limited)
    with (
        TestClient(app, client=("10.1.0.1", 1)) as one,
        TestClient(app, client=("10.1.0.2", 1)) as two,
    ):
        yield one, two


def test_anonymous_report_issuing_is_limited_per_address(
    clients: tuple[TestClient, TestClient], firm: str
) -> None:
    one, two = clients
    answers = [one.post("/api/v1/reports", json={"code": firm}) for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers] == [201] * LIMIT + [429]
    assert answers[0].headers["RateLimit-Limit"] == str(LIMIT)
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    report_id = answers[0].json()["id"]
    assert one.get(f"/api/v1/reports/{report_id}.pdf").status_code == 429, "renders count too"
    assert one.get(f"/api/v1/reports/{report_id}").status_code == 200, "the JSON is cheap"
    assert two.post("/api/v1/reports", json={"code": firm}).status_code == 201


def test_rendering_a_report_is_limited_per_address(
    clients: tuple[TestClient, TestClient], firm: str
) -> None:
    one, two = clients
    report_id = two.post("/api/v1/reports", json={"code": firm}).json()["id"]
    renders = [one.get(f"/api/v1/reports/{report_id}.pdf") for _ in range(LIMIT)]
    renders.append(one.get(f"/api/v1/reports/{report_id}.html"))
    assert [r.status_code for r in renders] == [200] * LIMIT + [429]
    assert int(renders[-1].headers["Retry-After"]) >= 1
