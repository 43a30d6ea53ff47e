"""The statistics page's figures for a period: each chart with its table, public figures only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.records import write_records
from bonafides.store.reference import sync_catalogue
from tests import factories


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = Settings(db=db_url, secret_key="statistics-test-secret-0123")
    ctx = Context(settings)
    decided = dt.date(2025, 11, 3)
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
        write_records(
            session,
            ctx.keys,
            [
                factories.penalty(factories.org("330106"), decision_date=decided),
                factories.penalty(factories.org("330106"), decision_date=decided),
                # A minor's decision never shows in a public figure.
                factories.penalty(
                    factories.person(dt.date(2012, 1, 1), "440305"), decision_date=decided
                ),
            ],
            actor="test",
            received_at=dt.datetime(2025, 11, 5, 2, tzinfo=dt.UTC),
        )
    ctx.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


def test_each_period_figure_has_a_chart_and_its_table_in_both_languages(
    client: TestClient,
) -> None:
    page = client.get("/statistics?period=2025-Q4").text
    for anchor in (
        "decisions-by-province",
        "decisions-by-city",
        "decisions-by-district",
        "decisions-by-department",
        "quality",
    ):
        block = _section(page, anchor)
        assert '<svg class="chart"' in block, anchor
        assert '<table class="numbers">' in block, anchor
    deadlines = _section(page, "deadlines")
    assert '<table class="numbers">' in deadlines
    assert "没有到期的异议" in deadlines
    district = _section(page, "decisions-by-district")
    assert "330106" in district
    assert "<td>2</td>" in district
    assert "440305" not in page
    assert "440000" not in page
    assert "各省份决定数" in page
    client.get("/lang/en?next=/statistics")
    english = client.get("/statistics?period=2025-Q4").text
    assert "Decisions by province" in english
    assert "Figures for 2025-Q4" in english


def test_a_text_that_is_not_a_period_is_refused_plainly(client: TestClient) -> None:
    response = client.get("/statistics?period=2025-Q9")
    assert response.status_code == 422
    assert "2025-Q9" in response.text
