"""USCC and resident ID codes: properties, agreement with python-stdnum, known gaps.

stdnum is the reference. Where this package departs from it, a test below shows the input
on which they differ and why, so a reader can judge each departure on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from bonafides import codes
from bonafides.codes import (
    USCC_ALPHABET,
    CodeError,
    ResidentId,
    Uscc,
    gb11714_check_char,
    is_valid_resident_id,
    is_valid_uscc,
    known_regions,
    make_resident_id,
    make_uscc,
    mask_id,
    mask_id_expr,
    normalise,
    normalise_expr,
    parse_resident_id,
    parse_subject_code,
    parse_uscc,
    region_name,
    ric_check_digit,
    ric_valid_expr,
    uscc_check_char,
    uscc_valid_expr,
)
from tests import factories

FAST = settings(max_examples=30, deadline=None)
SLOWER = settings(max_examples=60, deadline=None)

TODAY = factories.office_today()
REGIONS = known_regions()
AUTHORITIES = "123456789ANY"
INSTITUTION_TYPES = USCC_ALPHABET[1:]
DIGITS = "0123456789"
USCC_POSITION_ALPHABETS = [AUTHORITIES, INSTITUTION_TYPES] + [DIGITS] * 6 + [USCC_ALPHABET] * 10
RIC_POSITION_ALPHABETS = [DIGITS] * 17 + [DIGITS + "X"]

# Found online by stdnum's authors (tests/test_cn_uscc.doctest); a sample of each shape.
REAL_USCCS = [
    "121200004013590816",
    "91110000600037341L",
    "91110000710926094P",
    "91152201078371135X",
    "9115220107837757XE",
    "91310115MA1K3BTP2B",
    "91340600MA2PBP2120",
    "91620105L015101280",
    "92340602MA2PBMEM24",
    "92340621MA2UK3PJXE",
]


# --- strategies ---------------------------------------------------------------------------


@st.composite
def usccs(draw: st.DrawFn, authorities: str = AUTHORITIES) -> str:
    return make_uscc(
        draw(st.sampled_from(authorities)),
        draw(st.sampled_from(INSTITUTION_TYPES)),
        draw(st.sampled_from(REGIONS)),
        draw(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)),
    )


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    return make_resident_id(
        draw(st.sampled_from(REGIONS)),
        draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY)),
        draw(st.integers(0, 999)),
    )


JUNK = "OISVZ -abcxy"


@st.composite
def corrupted(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    code = draw(base)
    position = draw(st.integers(0, len(code) - 1))
    edit = draw(st.sampled_from(["substitute", "swap", "delete", "insert", "date"]))
    char = draw(st.sampled_from(USCC_ALPHABET + JUNK))
    if edit == "substitute":
        return code[:position] + char + code[position + 1 :]
    if edit == "swap" and position < len(code) - 1:
        return code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    if edit == "delete":
        return code[:position] + code[position + 1 :]
    if edit == "insert":
        return code[:position] + char + code[position:]
    # A resident ID's date part set to an impossible or far-off day, checksum kept right.
    day = draw(st.sampled_from(["19900230", "20230229", "18491231", "19901301", "29991231"]))
    first17 = code[:6] + day + code[14:17]
    return first17 + ric_check_digit(first17) if first17.isdigit() else first17 + code[17]


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@st.composite
def decorated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A valid code as an office export might carry it."""
    code = draw(base)
    if draw(st.booleans()):
        code = code.lower()
    if draw(st.booleans()):
        code = fullwidth(code)
    cut = draw(st.integers(0, len(code)))
    separator = draw(st.sampled_from([" ", "-", "\u3000", "\u200b", "\t", "－", "–"]))
    return f" {code[:cut]}{separator}{code[cut:]}\n"


def mixed_codes() -> st.SearchStrategy[str]:
    return st.one_of(
        usccs(),
        resident_ids(),
        corrupted(usccs()),
        corrupted(resident_ids()),
        decorated(usccs()),
        decorated(resident_ids()),
        st.text(alphabet=USCC_ALPHABET + JUNK, min_size=16, max_size=19),
        st.text(alphabet=DIGITS + "X", min_size=17, max_size=19),
    )


def swap(code: str, i: int, j: int) -> str:
    chars = list(code)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def with_check(first17: str) -> str:
    return first17 + ric_check_digit(first17)


def reason_of(raw: str, parse: Callable[[str], object] = parse_subject_code) -> str:
    with pytest.raises(CodeError) as info:
        parse(raw)
    return info.value.reason


# --- USCC -----------------------------------------------------------------------------------


def test_known_uscc_parses_into_its_parts() -> None:
    parsed = parse_uscc("91110000600037341L")
    assert parsed == Uscc(
        code="91110000600037341L",
        registration_authority="9",
        authority_name="market regulation (industry and commerce)",
        institution_type="1",
        institution_type_name="enterprise",
        region="110000",
        org_code="600037341",
        check="L",
        province_code="110000",
    )
    assert parsed.region_name == "北京市"
    assert parsed.authority_name_zh == "工商"
    assert parsed.institution_type_name_zh == "企业"
    assert parsed.org_code_valid


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_usccs_are_valid(code: str) -> None:
    assert parse_uscc(code).code == code
    assert parse_uscc(code).org_code_valid  # even post-2015 MA... codes keep GB 11714
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9111000060003734", "wrong length: 16 characters, expected 18"),
        ("91110000600037341L0", "wrong length: 19 characters, expected 18"),
        ("", "empty, expected 18 characters"),
        ("91110000600037341M", "check character should be 'L', not 'M'"),
        ("9111000060003734OL", "character 'O' (position 17) is not allowed in a USCC"),
        (
            "0111000060003734 1L",
            "registration authority '0' (position 1) must be one of 1-9, A, N, Y",
        ),
        (
            "B1110000600037341L",
            "registration authority 'B' (position 1) must be one of 1-9, A, N, Y",
        ),
        ("90110000600037341L", "institution type '0' (position 2) is never assigned"),
        (
            "911A0000600037341L",
            "region code (positions 3-8) must be digits, found 'A' at position 4",
        ),
    ],
)
def test_uscc_errors_name_the_problem(raw: str, reason: str) -> None:
    with pytest.raises(CodeError) as info:
        parse_uscc(raw)
    error = info.value
    assert error.reason == reason
    assert error.code == raw
    assert str(error) == reason


def test_letter_authorities_are_accepted_although_stdnum_refuses_them() -> None:
    for authority, inst_type, expected in [
        ("N", "2", "village-level rural collective economic organisation"),
        ("A", "1", "military public institution"),
        ("Y", "1", "other"),
    ]:
        code = make_uscc(authority, inst_type, "330106", "MA2PBP21")
        parsed = parse_uscc(code)
        assert parsed.institution_type_name == expected
        assert parsed.region_name == "浙江省杭州市西湖区"
        assert not stdnum_uscc.is_valid(code)
        # ... and only because of the first character: the check character is the same.
        assert stdnum_uscc.calc_check_digit(code[:17]) == code[17]


def test_zero_in_positions_1_and_2_is_refused_although_stdnum_accepts_it() -> None:
    """GB 32100 never assigns '0' as authority or type; stdnum only asks for digits."""
    for first2 in ("01", "90", "00"):
        first17 = first2 + "110000" + "600037341"
        code = first17 + uscc_check_char(first17)
        assert stdnum_uscc.is_valid(code)
        assert not is_valid_uscc(code)


def test_unknown_institution_type_and_region_are_reported_not_refused() -> None:
    code = make_uscc("9", "8", "100000", "40000062")
    parsed = parse_uscc(code)
    assert parsed.institution_type_name is None
    assert parsed.institution_type_name_zh is None
    assert parsed.region_name is None


def test_org_code_check_is_reported_not_enforced() -> None:
    code = make_uscc("9", "1", "110105", "12345678")
    first17 = code[:16] + ("0" if code[16] != "0" else "1")
    bad_org = first17 + uscc_check_char(first17)
    assert is_valid_uscc(bad_org)
    assert stdnum_uscc.is_valid(bad_org)
    assert not parse_uscc(bad_org).org_code_valid
    assert parse_uscc(code).org_code_valid


def test_gb11714_check_char_known_values() -> None:
    # 60003734-1 is in the stdnum example; X and 0 stand for 10 and 11.
    assert gb11714_check_char("60003734") == "1"
    results = {gb11714_check_char(f"{n:08d}") for n in range(200)}
    assert {"X", "0"} <= results
    with pytest.raises(ValueError, match="8 digits"):
        gb11714_check_char("1234567")


@FAST
@given(usccs())
def test_generated_usccs_are_valid(code: str) -> None:
    parsed = parse_uscc(code)
    assert parsed.code == code
    assert parsed.region in REGIONS
    assert parsed.province_code == code[2:4] + "0000"
    assert parsed.org_code_valid
    assert parsed.region_name is not None
    assert parsed.authority_name


@FAST
@given(usccs())
def test_every_uscc_single_substitution_is_caught(code: str) -> None:
    for position, alphabet in enumerate(USCC_POSITION_ALPHABETS):
        for char in alphabet:
            if char != code[position]:
                assert not is_valid_uscc(code[:position] + char + code[position + 1 :])


@FAST
@given(usccs())
def test_every_uscc_adjacent_transposition_is_caught(code: str) -> None:
    for i in range(17):
        if code[i] != code[i + 1]:
            assert not is_valid_uscc(swap(code, i, i + 1))


def test_uscc_check_sum_catches_every_substitution_and_adjacent_swap_exhaustively() -> None:
    """Over all values, not just sampled codes: 31 is prime and no weight or weight
    difference of neighbours is a multiple of it."""
    weights = [*codes._USCC_WEIGHTS, 1]
    for i, w in enumerate(weights):
        assert all((w * d) % 31 for d in range(1, 31)), i
    for i in range(17):
        assert all(((weights[i] - weights[i + 1]) * d) % 31 for d in range(1, 31)), i


def test_uscc_first_and_check_character_swap_is_not_caught() -> None:
    """Positions 1 and 18 both weigh 1 (3**0 and the check itself), so exchanging them keeps
    the sum: a check character from 1-9, A, N, Y swapped into first place yields another
    valid code, usually of another kind of organisation. It is the only equal-weight pair."""
    weights = [*codes._USCC_WEIGHTS, 1]
    equal = [
        (i + 1, j + 1) for i, j in itertools.combinations(range(18), 2) if weights[i] == weights[j]
    ]
    assert equal == [(1, 18)]
    for n in itertools.count():
        code = make_uscc("9", "1", "110105", f"{n:08d}")
        if code[17] in AUTHORITIES and code[17] != "9":
            break
    swapped = swap(code, 0, 17)
    assert is_valid_uscc(swapped)
    assert parse_uscc(swapped).registration_authority == code[17]


# --- stdnum agreement for USCC ----------------------------------------------------------------


def digit_led() -> st.SearchStrategy[str]:
    return st.one_of(
        usccs(authorities="123456789"),
        corrupted(usccs(authorities="123456789")),
        st.builds(
            lambda a, b: a + b,
            st.text(alphabet=DIGITS, min_size=8, max_size=8),
            st.text(alphabet=USCC_ALPHABET, min_size=10, max_size=10),
        ),
    )


@SLOWER
@given(digit_led())
def test_uscc_verdict_equals_stdnum_when_first_8_are_digits(code: str) -> None:
    normal = normalise(code)
    if normal[:8].isdigit() and "0" not in normal[:2]:
        assert is_valid_uscc(code) == bool(stdnum_uscc.is_valid(normal))
    elif normal[:8].isdigit():
        assert not is_valid_uscc(code)


@SLOWER
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_char_equals_stdnum(first17: str) -> None:
    assert uscc_check_char(first17) == stdnum_uscc.calc_check_digit(first17)


def test_uscc_check_char_wants_17_alphabet_characters() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_char("9111000060003734")
    with pytest.raises(ValueError, match="'O'"):
        uscc_check_char("9111000060003734O")


def test_make_uscc_refuses_bad_parts() -> None:
    with pytest.raises(ValueError, match="authority"):
        make_uscc("B", "1", "110105", "12345678")
    with pytest.raises(ValueError, match="institution type"):
        make_uscc("9", "0", "110105", "12345678")
    with pytest.raises(ValueError, match="region"):
        make_uscc("9", "1", "11010", "12345678")
    with pytest.raises(ValueError, match="organisation code"):
        make_uscc("9", "1", "110105", "1234567O")


# --- resident ID ----------------------------------------------------------------------------


def test_known_resident_id_parses() -> None:
    parsed = parse_resident_id("360426199101010071")
    assert parsed.number == "360426199101010071"
    assert parsed.region == "360426"
    assert parsed.birth_date == date(1991, 1, 1)
    assert parsed.sex == "M"
    assert parsed.check == "1"
    assert parsed.region_name == "江西省九江市德安县"
    assert stdnum_ric.is_valid("360426199101010071")


def test_lower_case_x_check_digit_is_accepted() -> None:
    parsed = parse_resident_id("44011320141005001x")
    assert parsed.number == "44011320141005001X"
    assert parsed.sex == "M"
    assert parse_resident_id(make_resident_id("110105", date(1990, 1, 1), 2)).sex == "F"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("36042619910101007", "wrong length: 17 characters, expected 18"),
        ("360426910101007", "wrong length: 15 characters, expected 18 (a 15-digit ID number "
         "from before 1999 must be given in its 18-digit form)"),
        ("3604261991010100A1", "character 'A' at position 17 is not a digit"),
        ("36042619910101007Y", "check character 'Y' must be a digit or X"),
        ("360426199101010072", "check digit should be '1', not '2'"),
        (with_check("11010519900230002"), "birth date 1990-02-30 is not a real date"),
        (make_resident_id("999999", date(1990, 1, 1), 1), "unknown region code 999999"),
        (make_resident_id("119999", date(1990, 1, 1), 1), "unknown region code 119999"),
        (make_resident_id("110105", date(1849, 12, 31), 1), "birth date 1849-12-31 is before 1850"),
        (make_resident_id("110103", date(2015, 1, 1), 1),
         "region code 110103 was retired in 2010, before the birth year 2015"),
    ],
)  # fmt: skip
def test_resident_id_errors_name_the_problem(raw: str, reason: str) -> None:
    assert reason_of(raw, parse_resident_id) == reason


def test_birth_in_the_future_is_refused_when_today_is_given() -> None:
    number = make_resident_id("110105", date(2030, 5, 1), 1)
    assert is_valid_resident_id(number)
    with pytest.raises(CodeError) as info:
        parse_resident_id(number, today=date(2030, 4, 30))
    assert info.value.reason == "birth date 2030-05-01 is in the future"
    assert is_valid_resident_id(number, today=date(2030, 5, 1))


@FAST
@given(resident_ids())
def test_generated_resident_ids_are_valid(number: str) -> None:
    parsed = parse_resident_id(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date.isoformat().replace("-", "") == number[6:14]
    assert parsed.sex == ("M" if int(number[16]) % 2 else "F")


@FAST
@given(resident_ids())
def test_every_resident_id_single_substitution_is_caught(number: str) -> None:
    for position, alphabet in enumerate(RIC_POSITION_ALPHABETS):
        for char in alphabet:
            if char != number[position]:
                assert not is_valid_resident_id(number[:position] + char + number[position + 1 :])


@FAST
@given(resident_ids())
def test_every_resident_id_adjacent_transposition_is_caught(number: str) -> None:
    for i in range(17):
        if number[i] != number[i + 1]:
            assert not is_valid_resident_id(swap(number, i, i + 1))


def test_mod_11_2_catches_every_substitution_and_adjacent_swap_exhaustively() -> None:
    weights = [*codes._RIC_WEIGHTS, 1]
    assert weights == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2, 1]
    for i, w in enumerate(weights):
        assert all((w * d) % 11 for d in range(1, 11)), i
    for i in range(17):
        assert all(((weights[i] - weights[i + 1]) * d) % 11 for d in range(1, 11)), i


def test_mod_11_2_misses_swaps_ten_positions_apart() -> None:
    """2 has order 10 modulo 11, so positions ten apart weigh the same and exchanging their
    digits keeps the check digit: 1-11, 2-12, ..., 7-17, and 8-18 (the year's second digit
    with the check digit). Date and region checks catch some of these, not all."""
    weights = [*codes._RIC_WEIGHTS, 1]
    equal = [
        (i + 1, j + 1) for i, j in itertools.combinations(range(18), 2) if weights[i] == weights[j]
    ]
    assert equal == [(i, i + 10) for i in range(1, 9)]
    for seq in itertools.count():
        number = make_resident_id("110105", date(1990, 1, 1), seq)
        if number[17] == "8":
            break
    swapped = swap(number, 7, 17)  # born 1990 with check 8 -> born 1890 with check 9
    assert parse_resident_id(swapped).birth_date == date(1890, 1, 1)


# --- stdnum agreement for resident IDs --------------------------------------------------------


@SLOWER
@given(st.text(alphabet=DIGITS, min_size=17, max_size=17), st.sampled_from(DIGITS + "X"))
def test_ric_check_digit_equals_stdnum_given_18_characters(first17: str, last: str) -> None:
    assert ric_check_digit(first17) == stdnum_ric.calc_check_digit(first17 + last)


def test_stdnum_ric_check_digit_given_17_characters_is_wrong() -> None:
    """stdnum drops the last character it is given, so 17 characters compute over 16."""
    first17 = "36042619910101007"
    assert ric_check_digit(first17) == "1"  # 360426199101010071 is valid
    assert stdnum_ric.calc_check_digit(first17) == "8"
    disagreements = sum(
        ric_check_digit(f"{n:017d}") != stdnum_ric.calc_check_digit(f"{n:017d}")
        for n in range(10**12, 10**12 + 500)
    )
    assert disagreements > 400


def test_ric_check_digit_wants_17_digits() -> None:
    with pytest.raises(ValueError, match="17 digits"):
        ric_check_digit("360426199101010071")
    with pytest.raises(ValueError, match="17 digits"):
        ric_check_digit("3604261991010100X")


def stdnum_ric_verdict(number: str) -> bool:
    """stdnum's verdict on the normalised number: it strips no separators from an ID."""
    try:
        return bool(stdnum_ric.is_valid(normalise(number)))
    except KeyError:  # stdnum 2.2 bug: known province, unknown county
        return False


def county_in_use(region: str, year: int) -> bool:
    """stdnum's rule, re-read from its own data: some name of the county covers the year."""
    table = codes._region_table().regions[region]
    return any((p.start or 0) <= year <= (p.end or 9999) for p in table)


@SLOWER
@given(st.one_of(resident_ids(), corrupted(resident_ids())))
def test_resident_id_verdict_differs_from_stdnum_only_where_documented(number: str) -> None:
    ours = is_valid_resident_id(number)
    theirs = stdnum_ric_verdict(number)
    if ours and not theirs:
        parsed = parse_resident_id(number)
        assert not county_in_use(parsed.region, parsed.birth_date.year)
    elif theirs and not ours:
        assert int(normalise(number)[6:10]) < codes.EARLIEST_BIRTH_YEAR


def test_stdnum_crashes_on_unknown_county_of_known_province() -> None:
    number = make_resident_id("119999", date(1990, 1, 1), 1)
    with pytest.raises(KeyError):
        stdnum_ric.is_valid(number)
    assert reason_of(number, parse_resident_id) == "unknown region code 119999"


def test_region_created_after_birth_is_accepted_although_stdnum_refuses() -> None:
    """Numbers were first issued from 1984 on: someone born in Fangshan in 1980 holds
    110111 though that code dates from 1986. A retired code still cannot be new."""
    number = make_resident_id("110111", date(1980, 12, 1), 7)
    assert not stdnum_ric.is_valid(number)
    assert parse_resident_id(number).region_name == "北京市房山区"
    retired = make_resident_id("110201", date(1993, 12, 1), 7)
    assert not stdnum_ric.is_valid(retired)
    assert not is_valid_resident_id(retired)


def test_make_resident_id_refuses_bad_parts() -> None:
    with pytest.raises(ValueError, match="region"):
        make_resident_id("11010", date(1990, 1, 1), 1)
    with pytest.raises(ValueError, match="sequence"):
        make_resident_id("110105", date(1990, 1, 1), 1000)


# --- masking and minors ----------------------------------------------------------------------


def test_masking_hides_the_birth_date() -> None:
    number = make_resident_id("110105", date(1990, 1, 1), 2)
    assert mask_id(number) == "110105********" + number[-4:]
    assert mask_id("11010519900101002x") == "110105********002X"
    assert mask_id("110105900101002") == "110105******002"
    assert mask_id("1234") == "****"
    assert mask_id("") == ""


@FAST
@given(resident_ids())
def test_masked_never_shows_the_number(number: str) -> None:
    parsed = parse_resident_id(number)
    assert parsed.masked == number[:6] + "*" * 8 + number[14:]
    assert number not in repr(parsed)
    assert parsed.masked in repr(parsed)
    assert number[6:14] not in parsed.masked


def person(birth: date) -> ResidentId:
    return parse_resident_id(make_resident_id("110105", birth, 1))


def test_age_changes_on_the_birthday() -> None:
    subject = person(date(2000, 5, 10))
    assert subject.age_on(date(2018, 5, 9)) == 17
    assert subject.age_on(date(2018, 5, 10)) == 18
    assert subject.is_minor_on(date(2018, 5, 9))
    assert not subject.is_minor_on(date(2018, 5, 10))
    assert subject.adult_from == date(2018, 5, 10)
    assert subject.age_on(date(2000, 5, 10)) == 0
    with pytest.raises(ValueError, match="before the birth"):
        subject.age_on(date(2000, 5, 9))
    assert subject.is_minor_on(date(1999, 1, 1))


def test_born_on_29_february() -> None:
    subject = person(date(2004, 2, 29))
    assert subject.age_on(date(2022, 2, 28)) == 17
    assert subject.age_on(date(2022, 3, 1)) == 18
    assert subject.is_minor_on(date(2022, 2, 28))
    assert not subject.is_minor_on(date(2022, 3, 1))
    assert subject.adult_from == date(2022, 3, 1)
    assert subject.age_on(date(2008, 2, 29)) == 4  # leap year: on the day itself
    assert subject.age_on(date(2008, 2, 28)) == 3


@FAST
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=40_000),
)
def test_minor_agrees_with_age(birth: date, days: int) -> None:
    subject = person(birth)
    day = birth + timedelta(days=days)
    age = subject.age_on(day)
    assert subject.is_minor_on(day) == (age < 18)
    assert subject.is_minor_on(day) == (day < subject.adult_from)


# --- normalisation -----------------------------------------------------------------------------


def test_normalise_handles_office_exports() -> None:
    assert normalise("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"
    assert normalise(" 9111 0000-6000 3734 1l ") == "91110000600037341L"
    assert normalise("9111\u30000000\u200b600037341L\ufeff") == "91110000600037341L"
    assert normalise("360426–19910101–0071") == "360426199101010071"
    assert normalise("３６０４２６１９９１０１０１００７ｘ") == "36042619910101007X"
    assert parse_uscc("９１１１００００６０００３７３４１ｌ").code == "91110000600037341L"


@FAST
@given(st.one_of(decorated(usccs()), decorated(resident_ids())))
def test_decorated_codes_parse(raw: str) -> None:
    parsed = parse_subject_code(raw)
    text = parsed.code if isinstance(parsed, Uscc) else parsed.number
    assert text == normalise(raw)


# --- either kind -------------------------------------------------------------------------------


def test_subject_code_detects_the_kind() -> None:
    assert isinstance(parse_subject_code("360426199101010071"), ResidentId)
    assert isinstance(parse_subject_code("91110000600037341L"), Uscc)
    assert isinstance(parse_subject_code("121200004013590816"), Uscc)
    assert isinstance(parse_subject_code(make_uscc("N", "1", "330106", "00000001")), Uscc)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("360426199113010071", "birth date 1991-13-01 is not a real date"),
        ("360426199101010072", "check digit should be '1', not '2'"),
        ("91110000600037341M", "check character should be 'L', not 'M'"),
        ("911100006000373410", "check character should be 'L', not '0'"),
        ("9111000060003734OL", "character 'O' (position 17) is not allowed in a USCC"),
        ("3604261991010100", "wrong length: 16 characters, expected 18"),
        # Valid as a USCC by the 1-in-31 chance, but region 010320 is no province: the
        # writer meant a resident ID whose region was retired before the birth.
        (
            "110103201501010011",
            "region code 110103 was retired in 2010, before the birth year 2015",
        ),
    ],
)
def test_subject_code_gives_the_telling_error(raw: str, reason: str) -> None:
    assert reason_of(raw) == reason


def test_subject_code_all_digit_uscc_with_date_like_run() -> None:
    """Region 110119 plus an organisation code starting 700123 reads as born 1970-01-23;
    the resident-ID reading fails (no region 911101) and the USCC one must win."""
    code = next(
        c for n in range(100) if (c := make_uscc("9", "1", "110119", f"700123{n:02d}")).isdigit()
    )
    assert date(1970, 1, 23).strftime("%Y%m%d") == code[6:14]
    assert isinstance(parse_subject_code(code), Uscc)


# --- regions ----------------------------------------------------------------------------------


def test_known_regions_are_current_counties() -> None:
    assert sorted(REGIONS) == REGIONS
    assert all(len(r) == 6 and r.isdigit() and not r.endswith("00") for r in REGIONS)
    assert {"110105", "330106", "429004"} <= set(REGIONS)
    assert "110103" not in REGIONS  # Chongwen, merged in 2010
    assert "130101" not in REGIONS  # 市辖区, a grouping, not a place
    assert len(REGIONS) > 2500
    assert known_regions() is not known_regions()


@pytest.mark.parametrize(
    ("region", "name"),
    [
        ("110105", "北京市朝阳区"),
        ("110000", "北京市"),
        ("330100", "浙江省杭州市"),
        ("330106", "浙江省杭州市西湖区"),
        ("429004", "湖北省仙桃市"),
        ("120110", "天津市东丽区"),
        ("100000", None),
        ("999999", None),
    ],
)
def test_region_names(region: str, name: str | None) -> None:
    assert region_name(region) == name


# --- vectorised --------------------------------------------------------------------------------


@SLOWER
@given(st.lists(st.one_of(mixed_codes(), st.none()), min_size=1, max_size=40))
def test_vectorised_validity_agrees_with_scalar(values: list[str | None]) -> None:
    frame = pl.DataFrame({"code": values}, schema={"code": pl.String})
    result = frame.select(
        uscc=uscc_valid_expr(pl.col("code")),
        ric=ric_valid_expr(pl.col("code")),
        ric_2010=ric_valid_expr(pl.col("code"), today=date(2010, 1, 1)),
    )
    expected_uscc = [None if v is None else is_valid_uscc(v) for v in values]
    expected_ric = [None if v is None else is_valid_resident_id(v) for v in values]
    expected_2010 = [
        None if v is None else is_valid_resident_id(v, today=date(2010, 1, 1)) for v in values
    ]
    assert result["uscc"].to_list() == expected_uscc
    assert result["ric"].to_list() == expected_ric
    assert result["ric_2010"].to_list() == expected_2010


@SLOWER
@given(st.lists(mixed_codes(), min_size=1, max_size=40))
def test_vectorised_masking_agrees_with_scalar(values: list[str]) -> None:
    """On every code whose normal forms agree (ASCII and full-width input), and on the
    known spellings of each length."""
    values = [v for v in values if pl.select(normalise_expr(pl.lit(v))).item() == normalise(v)]
    values += ["11010519900101002x", "110105900101002", "1234", ""]
    frame = pl.DataFrame({"code": values}, schema={"code": pl.String})
    masked = frame.select(mask_id_expr(normalise_expr(pl.col("code"))))
    assert masked.to_series().to_list() == [mask_id(v) for v in values]


def test_vectorised_validity_on_known_codes_lazily() -> None:
    values = [*REAL_USCCS, "360426199101010071", "44011320141005001x", "91110000600037341M"]
    frame = pl.LazyFrame({"code": values}).select(
        uscc=uscc_valid_expr(pl.col("code")), ric=ric_valid_expr(pl.col("code"))
    )
    result = frame.collect()
    assert result["uscc"].to_list() == [True] * len(REAL_USCCS) + [False, False, False]
    assert result["ric"].to_list() == [False] * len(REAL_USCCS) + [True, True, False]
