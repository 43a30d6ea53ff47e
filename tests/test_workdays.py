"""Working-day arithmetic with Chinese holidays and adjusted working weekends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from holidays.countries.china import China
from hypothesis import given
from hypothesis import strategies as st

from bonafides.workdays import (
    CalendarFileError,
    CalendarNotCoveredError,
    HolidayCalendar,
    coverage_warning,
    load_calendar,
    package_years,
)

CAL = load_calendar()
D = dt.date


def test_spring_festival_2025_and_adjusted_saturday() -> None:
    assert not CAL.is_working_day(D(2025, 1, 29))
    assert CAL.is_working_day(D(2025, 1, 26))  # a Sunday declared a working day
    assert CAL.is_working_day(D(2025, 2, 8))  # a Saturday declared a working day
    # Decided on Monday 27 January 2025: 7 working days run past the whole holiday.
    assert CAL.add_working_days(D(2025, 1, 27), 7) == D(2025, 2, 12)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Spring Festival 2026: 15 Feb to 23 Feb off, Saturday 28 Feb worked.
        (D(2026, 2, 12), D(2026, 3, 11)),
        # Mid-Autumn (25 Sep) and National Day (1 to 7 Oct) off, Saturday 10 Oct worked.
        (D(2026, 9, 25), D(2026, 10, 22)),
    ],
)
def test_objection_deadlines_over_the_2026_holidays(start: dt.date, due: dt.date) -> None:
    assert CAL.add_working_days(start, 15) == due


def test_agrees_with_the_holidays_package_on_every_day_of_2024_to_2026() -> None:
    china = China(years=range(2024, 2027))  # type: ignore[no-untyped-call]
    day, wrong = D(2024, 1, 1), []
    while day <= D(2026, 12, 31):
        if CAL.is_working_day(day) != china.is_working_day(day):
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []
    assert D(2026, 9, 20) in china.weekend_workdays, "make-up Sundays come from the package"
    assert CAL.is_working_day(D(2026, 9, 20))


def test_an_uncovered_year_is_an_error_not_a_guess() -> None:
    with pytest.raises(CalendarNotCoveredError, match="does not cover 2030") as caught:
        CAL.is_working_day(D(2030, 10, 2))
    assert caught.value.year == 2030
    # A deadline that runs past the last year with a notice is refused, not counted on
    # weekends alone.
    last = max(package_years())
    with pytest.raises(CalendarNotCoveredError, match=f"does not cover {last + 1}"):
        CAL.add_working_days(D(last, 12, 20), 15)
    with pytest.raises(CalendarNotCoveredError, match="1999"):
        CAL.working_days_between(D(1999, 12, 1), D(2001, 1, 5))


def test_plain_week() -> None:
    cal = HolidayCalendar()
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Friday -> Monday
    assert cal.working_days_between(D(2026, 11, 27), D(2026, 11, 30)) == 1
    assert cal.working_days_between(D(2026, 11, 30), D(2026, 11, 27)) == 0


@given(
    st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 10, 31)),
    st.integers(min_value=0, max_value=40),
)
def test_adding_and_counting_agree(start: dt.date, days: int) -> None:
    end = CAL.add_working_days(start, days)
    assert CAL.working_days_between(start, end) == days
    assert days == 0 or CAL.is_working_day(end)


def test_operator_file_supplies_a_year_and_local_days(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text(
        "years: [2030]\n"
        "holidays:\n  - 2030-10-01..2030-10-03\n  - 2026-12-07\n"
        "working_days:\n  - 2030-10-05\n"
    )
    cal = load_calendar(path)
    assert not cal.is_working_day(D(2030, 10, 2))
    assert cal.is_working_day(D(2030, 10, 5))
    assert cal.is_working_day(D(2030, 10, 4))  # a Friday the file leaves alone
    assert not cal.is_working_day(D(2026, 12, 7)), "a local holiday over the package's year"
    assert cal.is_working_day(D(2026, 9, 20)), "the package's days stay under the file"
    with pytest.raises(CalendarNotCoveredError):
        cal.is_working_day(D(2031, 1, 2))


def test_operator_file_dates_outside_covered_years_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text("holidays:\n  - 2030-10-01..2030-10-03\n")
    with pytest.raises(CalendarFileError, match="2030-10-01 is in 2030"):
        load_calendar(path)


@pytest.mark.parametrize(
    ("today", "warned"),
    [
        (dt.date(2026, 10, 1), None),
        (dt.date(2026, 11, 1), None),
        (dt.date(2026, 11, 2), "2027"),
        (dt.date(2026, 12, 31), "2027"),
    ],
)
def test_the_operator_is_warned_sixty_days_before_the_calendar_ends(
    today: dt.date, warned: str | None
) -> None:
    warning = coverage_warning(HolidayCalendar(years=frozenset({2026})), today)
    if warned is None:
        assert warning is None
    else:
        assert warning is not None
        assert f"does not cover {warned}" in warning
        assert "BONAFIDES_HOLIDAYS" in warning
