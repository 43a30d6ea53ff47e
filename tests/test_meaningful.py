"""The free-text minimum, fair to Chinese and English: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonafides.meaningful import fewest_characters, measure, requirement, says_enough


@pytest.mark.parametrize(
    ("text", "minimum", "enough"),
    [
        ("贷款审批", 5, True),
        ("贷款审批", 10, True),
        ("现场核验", 10, True),
        ("审批", 5, True),
        ("批", 5, False),
        ("罚款有误", 11, False),
        ("loans", 5, True),
        ("loan", 5, False),
        ("Loan approval", 10, True),
        ("ＡＢＣＤＥ", 5, True),
        (".....", 5, False),
        ("？？？？？？？？", 2, False),
        ("  a  b  c  d  ", 5, False),
        ("", 1, False),
        ("贷款 review", 10, True),
    ],
)
def test_examples(text: str, minimum: int, enough: bool) -> None:
    assert says_enough(text, minimum) is enough


@pytest.mark.parametrize(("minimum", "fewest"), [(0, 0), (1, 1), (2, 1), (5, 2), (10, 4), (20, 8)])
def test_fewest_characters_is_what_chinese_needs(minimum: int, fewest: int) -> None:
    assert fewest_characters(minimum) == fewest
    assert says_enough("审" * fewest, minimum)
    if fewest > 1:
        assert not says_enough("审" * (fewest - 1), minimum)
    assert f"{fewest} Chinese characters" in requirement(minimum)


_NOISE = st.text(st.sampled_from(" \t\n.,;:!?，。；：！？、（）()-—…“”"), max_size=20)


@given(st.text(max_size=40), _NOISE)
def test_punctuation_and_spaces_say_nothing(text: str, noise: str) -> None:
    assert measure(noise) == 0
    assert measure(text + noise) == measure(text)


@given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=30))
def test_a_chinese_text_weighs_more_than_its_length(text: str) -> None:
    assert measure(text) == 2.5 * len(text)
