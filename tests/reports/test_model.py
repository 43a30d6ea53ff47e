"""What a report request may ask for: period, view, audience and fields (no store)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonafides.disclosure import Audience
from bonafides.reports.model import (
    MAX_YEARS,
    ReportRequest,
    ReportRequestError,
    View,
    add_years,
    resolve_audience,
    resolve_fields,
    resolve_period,
    resolve_scope,
)

TODAY = dt.date(2026, 6, 15)
FIELDS = ("market", "tax", "courts")


def test_the_default_period_is_the_last_three_years() -> None:
    assert resolve_period(None, None, TODAY) == (dt.date(2023, 6, 16), TODAY)


def test_five_years_exactly_is_allowed_and_a_day_more_is_not() -> None:
    assert resolve_period(dt.date(2021, 1, 1), dt.date(2025, 12, 31), TODAY)[0] == dt.date(
        2021, 1, 1
    )
    with pytest.raises(ReportRequestError, match=r"at most 5 years.*start on 2021-01-01"):
        resolve_period(dt.date(2020, 12, 31), dt.date(2025, 12, 31), TODAY)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (None, dt.date(2026, 6, 16), "cannot end after 2026-06-15"),
        (dt.date(2026, 3, 2), dt.date(2026, 3, 1), "starts .* after it ends"),
    ],
)
def test_impossible_periods_are_refused(start: dt.date | None, end: dt.date, message: str) -> None:
    with pytest.raises(ReportRequestError, match=message):
        resolve_period(start, end, TODAY)


@given(
    end=st.dates(min_value=dt.date(2000, 1, 1), max_value=TODAY),
    days=st.integers(min_value=0, max_value=2500),
)
def test_any_accepted_period_is_at_most_five_years(end: dt.date, days: int) -> None:
    start = end - dt.timedelta(days=days)
    try:
        got = resolve_period(start, end, TODAY)
    except ReportRequestError:
        assert start <= add_years(end, -MAX_YEARS)
        return
    assert got == (start, end)
    assert add_years(got[0], MAX_YEARS) > got[1]


def test_leap_days_move_to_the_28th() -> None:
    assert add_years(dt.date(2024, 2, 29), -1) == dt.date(2023, 2, 28)


def test_views_take_their_audiences() -> None:
    assert resolve_audience(View.PUBLIC, None) is Audience.PUBLIC
    assert resolve_audience(View.FULL, None) is Audience.SUBJECT
    assert resolve_audience(View.FULL, Audience.RESTRICTED) is Audience.RESTRICTED
    with pytest.raises(ReportRequestError, match="public audience only"):
        resolve_audience(View.PUBLIC, Audience.SUBJECT)
    with pytest.raises(ReportRequestError, match="full report is for one of"):
        resolve_audience(View.FULL, Audience.PUBLIC)


def test_fields_keep_catalogue_order_and_none_means_all() -> None:
    assert resolve_fields([], FIELDS) == (FIELDS, True)
    assert resolve_fields(["courts", " market", "courts"], FIELDS) == (("market", "courts"), False)
    with pytest.raises(ReportRequestError, match="unknown field 'speech'"):
        resolve_fields(["speech"], FIELDS)


def test_only_the_subject_and_the_operator_see_the_access_log() -> None:
    def scope(view: View, audience: Audience | None) -> bool:
        request = ReportRequest(code="x", view=view, audience=audience)
        return resolve_scope(request, known_fields=FIELDS, as_of=TODAY).shows_access_log

    assert scope(View.FULL, Audience.SUBJECT)
    assert scope(View.FULL, Audience.OPERATOR)
    assert not scope(View.FULL, Audience.AUTHORITY)
    assert not scope(View.PUBLIC, None)
