"""Working-day arithmetic with Chinese holidays and adjusted working weekends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bonafides.workdays import HolidayCalendar, load_calendar

CAL = load_calendar()
D = dt.date


def test_spring_festival_2025_and_adjusted_saturday() -> None:
    assert not CAL.is_working_day(D(2025, 1, 29))
    assert CAL.is_working_day(D(2025, 1, 26))  # a Sunday declared a working day
    assert CAL.is_working_day(D(2025, 2, 8))  # a Saturday declared a working day
    # Decided on Monday 27 January 2025: 7 working days run past the whole holiday.
    assert CAL.add_working_days(D(2025, 1, 27), 7) == D(2025, 2, 12)


def test_plain_week() -> None:
    cal = HolidayCalendar()
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Friday -> Monday
    assert cal.working_days_between(D(2026, 11, 27), D(2026, 11, 30)) == 1
    assert cal.working_days_between(D(2026, 11, 30), D(2026, 11, 27)) == 0


@given(
    st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31)),
    st.integers(min_value=0, max_value=40),
)
def test_adding_and_counting_agree(start: dt.date, days: int) -> None:
    end = CAL.add_working_days(start, days)
    assert CAL.working_days_between(start, end) == days
    assert days == 0 or CAL.is_working_day(end)


def test_operator_file_with_ranges(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text("holidays:\n  - 2030-10-01..2030-10-03\nworking_days:\n  - 2030-10-05\n")
    cal = load_calendar(path)
    assert not cal.is_working_day(D(2030, 10, 2))
    assert cal.is_working_day(D(2030, 10, 5))
