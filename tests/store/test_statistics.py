"""Publication delay when a span reaches a year the working-day calendar does not cover."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.context import Context
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.statistics import missing_years, publication_delay
from bonafides.workdays import HolidayCalendar
from tests import factories

#: Far beyond any holiday arrangement the package can carry while this test lives.
UNPUBLISHED = 2040


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="statistics-test-secret-0123"))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def _received(ctx: Context, decided: dt.date, received: dt.datetime) -> None:
    with ctx.sessions.begin() as session:
        write_records(
            session,
            ctx.keys,
            [factories.penalty(factories.org(), decision_date=decided)],
            actor="test",
            received_at=received,
        )


def test_a_delay_into_an_uncovered_year_is_reported_not_guessed(ctx: Context) -> None:
    _received(ctx, dt.date(2026, 6, 1), dt.datetime(2026, 6, 3, 2, tzinfo=dt.UTC))
    _received(ctx, dt.date(2026, 12, 30), dt.datetime(2027, 1, 5, 2, tzinfo=dt.UTC))
    calendar = HolidayCalendar(years=frozenset({2026}))
    with ctx.sessions() as session:
        (row,) = publication_delay(session, calendar, limit_days=7)
    assert (row.source, row.records, row.within_limit, row.median_days) == ("samr", 1, 1, 2)
    assert (row.uncounted, row.missing_years) == (1, (2027,))
    assert missing_years([row]) == (2027,)


def test_only_uncovered_records_still_name_their_department(ctx: Context) -> None:
    _received(ctx, dt.date(2026, 12, 30), dt.datetime(2027, 1, 5, 2, tzinfo=dt.UTC))
    with ctx.sessions() as session:
        (row,) = publication_delay(session, HolidayCalendar(years=frozenset({2026})))
    assert (row.records, row.uncounted, row.max_days) == (0, 1, 0)


def test_statistics_answer_with_the_missing_year_instead_of_failing(ctx: Context) -> None:
    """Before, one such record turned the public statistics page and API into a 503."""
    _received(
        ctx,
        dt.date(UNPUBLISHED, 1, 2),
        dt.datetime(UNPUBLISHED, 1, 6, 2, tzinfo=dt.UTC),
    )
    with TestClient(create_app(ctx.settings)) as client:
        body = client.get("/api/v1/statistics").json()
        assert body["missing_years"] == [UNPUBLISHED]
        assert [(d["source"], d["uncounted"]) for d in body["publication_delay"]] == [("samr", 1)]
        page = client.get("/statistics")
        assert page.status_code == 200
        assert 'id="delay-uncounted"' in page.text
        assert str(UNPUBLISHED) in page.text
