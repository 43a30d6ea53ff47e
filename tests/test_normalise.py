"""Messy export spellings: read when unambiguous, refused with a reason otherwise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bonafides import normalise
from bonafides.normalise import BadValueError

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_spelling_of_a_date_reads_back(day: dt.date) -> None:
    spellings = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        day.strftime("%Y%m%d"),
        day.isoformat().translate(FULL_WIDTH),
        f"{day.isoformat()} 00:00:00",
    ]
    for spelling in spellings:
        assert normalise.date(spelling).value == day, spelling


def test_iso_date_needs_no_note_but_others_say_what_was_read() -> None:
    assert normalise.date("2021-05-06").note is None
    assert normalise.date("2021年5月6日").note == "date '2021年5月6日' read as 2021-05-06"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2021-02-30", "is not a real date"),
        ("2021-13-01", "is not a real date"),
        ("06/05/2021", "is not a date"),
        ("yesterday", "is not a date"),
    ],
)
def test_impossible_or_ambiguous_dates_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(BadValueError, match=reason):
        normalise.date(raw)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_amounts_with_separators_and_full_width_digits(amount: Decimal) -> None:
    plain = f"{amount:f}"
    grouped = f"{amount:,f}"
    for spelling in (plain, grouped, plain.translate(FULL_WIDTH)):
        assert normalise.decimal(spelling).value == amount


@pytest.mark.parametrize("raw", ["1,23.5", "12.3.4", "abc", "1e5", "-3", "5元"])
def test_unreadable_amounts_are_refused(raw: str) -> None:
    with pytest.raises(BadValueError):
        normalise.decimal(raw)


@pytest.mark.parametrize("raw", ["", "  ", "— —", "—", "无", "/", "-", "NULL", "暂无"])
def test_empty_markers(raw: str) -> None:
    assert normalise.is_empty(raw)


@pytest.mark.parametrize("raw", ["0", "无锡", "罚款", "-1"])
def test_values_that_look_empty_but_are_not(raw: str) -> None:
    assert not normalise.is_empty(raw)


def test_text_collapses_whitespace_and_keeps_chinese_punctuation() -> None:
    cleaned = normalise.text("  罚款金额（万元）\u3000 2  ")
    assert cleaned.value == "罚款金额（万元） 2"
    assert cleaned.note == "whitespace trimmed"


def test_integers_and_booleans() -> None:
    assert normalise.integer("１,000").value == 1000
    with pytest.raises(BadValueError, match="whole number"):
        normalise.integer("1.5")
    assert normalise.boolean("是").value is True
    assert normalise.boolean("否").value is False
    with pytest.raises(BadValueError):
        normalise.boolean("maybe")


@example("a\u00a8")
@example("（２０２６）京执\u00a8９３０４号")
@given(st.text(max_size=40))
def test_a_decision_number_is_spelt_once_and_for_all(raw: str) -> None:
    """Normalising a normalised number changes nothing, whatever the input: otherwise a
    record stored under one spelling is missed by the next resubmission of it ('a ¨' used
    to become 'a' and a combining diaeresis, which a second pass composed into 'ä')."""
    once = normalise.decision_number(raw).value
    assert normalise.decision_number(once).value == once
