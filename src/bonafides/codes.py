"""Identity codes of credit subjects: organisations' USCC and persons' resident ID numbers.

Every record, list entry and check is keyed by one of these codes, so a code that is
accepted wrongly links a decision to the wrong subject, and a code that is refused wrongly
keeps a lawful decision out of the file. python-stdnum is the reference implementation
(the tests prove agreement with it); this module departs from it only where it refuses
real codes, and says so next to each departure.

Errors carry a reason a clerk can act on. Their ``str()`` is the reason alone: error text
ends up in logs and ingest reports, and the code itself may be a person's ID number.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal

import polars as pl
from stdnum import numdb

__all__ = [
    "EARLIEST_BIRTH_YEAR",
    "USCC_ALPHABET",
    "CodeError",
    "ResidentId",
    "Uscc",
    "gb11714_check_char",
    "is_valid_resident_id",
    "is_valid_uscc",
    "known_regions",
    "make_resident_id",
    "make_uscc",
    "mask_id",
    "normalise",
    "normalise_expr",
    "parse_resident_id",
    "parse_subject_code",
    "parse_uscc",
    "region_name",
    "ric_check_digit",
    "ric_valid_expr",
    "uscc_canonical_expr",
    "uscc_check_char",
    "uscc_of_checked",
    "uscc_valid_expr",
]

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015 leaves out I, O, S, V and Z so they cannot be misread as 1, 0, 5, U and 2."""

EARLIEST_BIRTH_YEAR: Final = 1850
"""No living subject was born earlier; an earlier year is a typo, not a person."""

_LENGTH: Final = 18
_DIGITS: Final = "0123456789"
_USCC_AUTHORITY_CHARS: Final = "123456789ANY"
_USCC_TYPE_CHARS: Final = USCC_ALPHABET[1:]
_USCC_VALUE: Final = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
# Weight of position i is 3**i mod 31 (GB 32100-2015); the check character has weight 1.
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
# Weight of position i is 2**(17 - i) mod 11 (ISO 7064 MOD 11-2); the check digit has weight 1.
_RIC_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_GB11714_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_GB11714_VALUE: Final = {ch: int(ch, 36) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

_STAGE_FORMAT: Final = 0
_STAGE_CONTENT: Final = 1
_STAGE_CHECK: Final = 2

# GB 32100-2015 table A.1 and its amendments: registration authority -> (English, Chinese).
_AUTHORITIES: Final[dict[str, tuple[str, str]]] = {
    "1": ("institutional staffing (government organs and public institutions)", "机构编制"),
    "2": ("foreign affairs", "外交"),
    "3": ("judicial administration", "司法行政"),
    "4": ("culture", "文化"),
    "5": ("civil affairs", "民政"),
    "6": ("tourism", "旅游"),
    "7": ("religious affairs", "宗教"),
    "8": ("trade unions", "工会"),
    "9": ("market regulation (industry and commerce)", "工商"),
    "A": ("Central Military Commission reform and staffing office", "中央军委改革和编制办公室"),
    "N": ("agriculture", "农业"),
    "Y": ("other", "其他"),
}

# (authority, institution type) -> (English, Chinese).
_INSTITUTION_TYPES: Final[dict[tuple[str, str], tuple[str, str]]] = {
    ("1", "1"): ("government organ", "机关"),
    ("1", "2"): ("public institution", "事业单位"),
    ("1", "3"): (
        "mass organisation staffed by the central staffing office",
        "中央编办直接管理机构编制的群众团体",
    ),
    ("1", "9"): ("other", "其他"),
    ("2", "1"): ("resident foreign news agency", "外国常驻新闻机构"),
    ("2", "9"): ("other", "其他"),
    ("3", "1"): ("law firm", "律师执业机构"),
    ("3", "2"): ("notary office", "公证处"),
    ("3", "3"): ("grassroots legal service office", "基层法律服务所"),
    ("3", "4"): ("forensic appraisal institution", "司法鉴定机构"),
    ("3", "5"): ("arbitration commission", "仲裁委员会"),
    ("3", "9"): ("other", "其他"),
    ("4", "1"): ("foreign cultural centre in China", "外国在华文化中心"),
    ("4", "9"): ("other", "其他"),
    ("5", "1"): ("social organisation", "社会团体"),
    ("5", "2"): ("private non-enterprise unit", "民办非企业单位"),
    ("5", "3"): ("foundation", "基金会"),
    ("5", "9"): ("other", "其他"),
    ("6", "1"): (
        "representative office of a foreign tourism authority",
        "外国旅游部门常驻代表机构",
    ),
    ("6", "2"): (
        "representative office of a Hong Kong, Macao or Taiwan tourism authority",
        "港澳台地区旅游部门常驻内地（大陆）代表机构",
    ),
    ("6", "9"): ("other", "其他"),
    ("7", "1"): ("venue for religious activities", "宗教活动场所"),
    ("7", "2"): ("religious college", "宗教院校"),
    ("7", "9"): ("other", "其他"),
    ("8", "1"): ("grassroots trade union", "基层工会"),
    ("8", "9"): ("other", "其他"),
    ("9", "1"): ("enterprise", "企业"),
    ("9", "2"): ("individual business", "个体工商户"),
    ("9", "3"): ("farmers' specialised cooperative", "农民专业合作社"),
    ("A", "1"): ("military public institution", "军队事业单位"),
    ("A", "9"): ("other", "其他"),
    ("N", "1"): ("group-level rural collective economic organisation", "组级集体经济组织"),
    ("N", "2"): ("village-level rural collective economic organisation", "村级集体经济组织"),
    ("N", "3"): ("township-level rural collective economic organisation", "乡镇级集体经济组织"),
    ("N", "9"): ("other", "其他"),
    ("Y", "1"): ("other", "其他"),
}

# Region-table names that stand for "the districts of this city" and similar groupings,
# not for a place a person or organisation can be in.
_PLACEHOLDER_NAMES: Final = frozenset({"市辖区", "县", "市区"})


class CodeError(ValueError):
    """A code that is not a valid USCC or resident ID number, with the reason why."""

    code: str
    reason: str
    stage: int

    def __init__(self, code: str, reason: str, *, stage: int = _STAGE_FORMAT) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        # How far parsing got; lets parse_subject_code pick the more telling of two errors.
        self.stage = stage

    def __str__(self) -> str:
        return self.reason


# --- normalisation ------------------------------------------------------------------------

_SEPARATOR_CATEGORIES: Final = frozenset({"Zs", "Zl", "Zp", "Pd", "Cf"})
_CONTROL_SPACES: Final = "\t\n\x0b\x0c\r\x85"
# The same character classes as _is_separator, for the vectorised path.
_SEPARATOR_REGEX: Final = r"[\t\n\x0B\x0C\r\x{85}\p{Zs}\p{Zl}\p{Zp}\p{Pd}\p{Cf}]"
_FULLWIDTH_FROM: Final = [chr(c) for c in range(0xFF01, 0xFF5F)]
_FULLWIDTH_TO: Final = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)]


def _is_separator(ch: str) -> bool:
    return ch in _CONTROL_SPACES or unicodedata.category(ch) in _SEPARATOR_CATEGORIES


def normalise(raw: str) -> str:
    """Bring a code typed by hand or exported by an office system to its canonical form.

    Exports from Chinese office software often carry full-width characters, ideographic
    spaces, dashes of every kind, zero-width characters and lower-case letters; none of
    them changes which code was meant.
    """
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not _is_separator(ch)).upper()


def normalise_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalise` for bulk files.

    Polars has no NFKC, so this folds only the full-width ASCII block (U+FF01-U+FF5E),
    which is what office exports actually contain. It agrees with :func:`normalise` on
    ASCII and full-width input; exotic compatibility characters (circled digits,
    mathematical letters, the Kelvin sign) are left alone and make the code invalid.
    """
    return (
        col.str.replace_many(_FULLWIDTH_FROM, _FULLWIDTH_TO)
        .str.replace_all(_SEPARATOR_REGEX, "")
        .str.to_uppercase()
    )


def _length_error(raw: str, code: str) -> CodeError:
    if not code:
        return CodeError(raw, f"empty, expected {_LENGTH} characters")
    unit = "character" if len(code) == 1 else "characters"
    reason = f"wrong length: {len(code)} {unit}, expected {_LENGTH}"
    if len(code) == 15 and all(ch in _DIGITS for ch in code):
        reason += " (a 15-digit ID number from before 1999 must be given in its 18-digit form)"
    return CodeError(raw, reason)


# --- region table ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Period:
    start: int | None
    end: int | None
    name: str


def _parse_periods(value: str) -> tuple[_Period, ...]:
    periods = []
    for part in value.split(","):
        if not part.startswith("["):
            periods.append(_Period(None, None, part))
            continue
        span, name = part[1:].split("]", 1)
        start, end = span.split("-")
        periods.append(_Period(int(start) if start else None, int(end) if end else None, name))
    return tuple(periods)


@dataclass(frozen=True, slots=True)
class _RegionTable:
    provinces: dict[str, str]
    regions: dict[str, tuple[_Period, ...]]


@functools.cache
def _region_table() -> _RegionTable:
    """Flatten stdnum's GB/T 2260 history once; numdb lookups one code at a time are slow."""
    provinces: dict[str, str] = {}
    regions: dict[str, tuple[_Period, ...]] = {}
    for length, low, high, props, children in numdb.get("cn/loc").prefixes:
        for number in range(int(low), int(high) + 1):
            province = str(number).zfill(length)
            provinces[province] = props.get("province", "")
            for sub_length, sub_low, sub_high, sub_props, _ in children:
                if "county" not in sub_props:
                    continue
                for sub_number in range(int(sub_low), int(sub_high) + 1):
                    code = province + str(sub_number).zfill(sub_length)
                    regions[code] = _parse_periods(sub_props["county"])
    return _RegionTable(provinces, regions)


def _last_year_in_use(periods: tuple[_Period, ...]) -> int | None:
    """None while the code is still in use."""
    if any(p.end is None for p in periods):
        return None
    return max(p.end for p in periods if p.end is not None)


def _latest_name(periods: tuple[_Period, ...]) -> str:
    return max(periods, key=lambda p: (p.end is None, p.end or 0, p.start or 0)).name


def _is_placeholder(name: str) -> bool:
    return name in _PLACEHOLDER_NAMES or "直辖" in name


def region_name(region: str) -> str | None:
    """Full name of a GB/T 2260 region code, e.g. 浙江省杭州市西湖区, or None if unknown.

    The latest name is used, because a renamed county is still the same place to the
    reader of a report.
    """
    table = _region_table()
    periods = table.regions.get(region)
    if periods is None:
        return None
    parts = [table.provinces.get(region[:2], "")]
    prefecture = table.regions.get(region[:4] + "00")
    if region[2:4] != "00" and region[4:] != "00" and prefecture is not None:
        parts.append(_latest_name(prefecture))
    parts.append(_latest_name(periods))
    names: list[str] = []
    for part in parts:
        if part and not _is_placeholder(part) and part not in names:
            names.append(part)
    return "".join(names) or None


@functools.cache
def _known_regions() -> tuple[str, ...]:
    return tuple(
        sorted(
            code
            for code, periods in _region_table().regions.items()
            if code[4:] != "00"
            and _last_year_in_use(periods) is None
            and not _is_placeholder(_latest_name(periods))
        )
    )


def known_regions() -> list[str]:
    """County-level region codes in use today, for synthetic data that looks real.

    Groupings such as 市辖区 are left out: they are codes, but no household is there.
    """
    return list(_known_regions())


# --- USCC ---------------------------------------------------------------------------------


def gb11714_check_char(first8: str) -> str:
    """Check character of a GB 11714 organisation code, which the USCC embeds whole.

    Most organisations registered before 2015 kept their old organisation code inside the
    USCC, so its own check character tells whether the embedded part is genuine.
    """
    if len(first8) != 8 or any(ch not in _GB11714_VALUE for ch in first8):
        raise ValueError(f"expected 8 digits or capital letters, got {first8!r}")
    total = sum(_GB11714_VALUE[ch] * w for ch, w in zip(first8, _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_check_char(first17: str) -> str:
    """Check character of a USCC from its 17 payload characters.

    Own arithmetic with the weights spelled out, so that the vectorised path (which reads
    the same sum differently) has a plain twin to be tested against; the tests prove it
    equals ``stdnum.cn.uscc.calc_check_digit``.
    """
    if len(first17) != 17:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    bad = next((ch for ch in first17 if ch not in _USCC_VALUE), None)
    if bad is not None:
        raise ValueError(f"character {bad!r} is not allowed in a USCC")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[-total % 31]


@dataclass(frozen=True, slots=True)
class Uscc:
    """A parsed Unified Social Credit Code (GB 32100-2015)."""

    code: str
    registration_authority: str
    authority_name: str
    institution_type: str
    institution_type_name: str | None
    region: str
    org_code: str
    check: str
    province_code: str

    @property
    def authority_name_zh(self) -> str:
        return _AUTHORITIES[self.registration_authority][1]

    @property
    def institution_type_name_zh(self) -> str | None:
        entry = _INSTITUTION_TYPES.get((self.registration_authority, self.institution_type))
        return None if entry is None else entry[1]

    @property
    def region_name(self) -> str | None:
        """None for codes outside GB/T 2260, such as 100000 for central bodies."""
        return region_name(self.region)

    @property
    def org_code_valid(self) -> bool:
        """Whether the embedded organisation code passes its own GB 11714 check.

        Reported, not enforced: GB 32100 makes only the 18th character a check on the code,
        and stdnum does not look at this one either. Every real code in the tests passes it,
        post-2015 ``MA...`` codes and individual businesses included, so a failure is a
        strong hint of a made-up code, worth a reviewer's look rather than a refusal.
        """
        return gb11714_check_char(self.org_code[:8]) == self.org_code[8]


def parse_uscc(raw: str) -> Uscc:
    """Parse a USCC, including those registered by authorities A, N and Y.

    stdnum 2.2 requires digits in positions 1-8 and so refuses rural collective economic
    organisations (N...) and the other letter authorities, which hold real codes.
    """
    code = normalise(raw)
    if len(code) != _LENGTH:
        raise _length_error(raw, code)
    for position, ch in enumerate(code, 1):
        if ch not in _USCC_VALUE:
            raise CodeError(raw, f"character {ch!r} (position {position}) is not allowed in a USCC")
    if code[0] not in _USCC_AUTHORITY_CHARS:
        raise CodeError(
            raw, f"registration authority {code[0]!r} (position 1) must be one of 1-9, A, N, Y"
        )
    if code[1] not in _USCC_TYPE_CHARS:
        raise CodeError(raw, f"institution type {code[1]!r} (position 2) is never assigned")
    for position in range(3, 9):
        if code[position - 1] not in _DIGITS:
            raise CodeError(
                raw,
                f"region code (positions 3-8) must be digits, "
                f"found {code[position - 1]!r} at position {position}",
            )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise CodeError(
            raw, f"check character should be {expected!r}, not {code[17]!r}", stage=_STAGE_CHECK
        )
    return _uscc_of(code)


def uscc_of_checked(code: str) -> Uscc:
    """The parsed form of a canonical code already found valid by :func:`uscc_valid_expr`
    (and equal to its own normalisation): bulk ingest checks a column at once and then
    needs only the parts, which :func:`parse_uscc` would check again one code at a time."""
    return _uscc_of(code)


def _uscc_of(code: str) -> Uscc:
    authority, inst_type = code[0], code[1]
    type_entry = _INSTITUTION_TYPES.get((authority, inst_type))
    return Uscc(
        code=code,
        registration_authority=authority,
        authority_name=_AUTHORITIES[authority][0],
        institution_type=inst_type,
        institution_type_name=None if type_entry is None else type_entry[0],
        region=code[2:8],
        org_code=code[8:17],
        check=code[17],
        province_code=code[2:4] + "0000",
    )


def is_valid_uscc(raw: str) -> bool:
    try:
        parse_uscc(raw)
    except CodeError:
        return False
    return True


def make_uscc(authority: str, inst_type: str, region: str, org_code8: str) -> str:
    """Build a valid USCC whose organisation code is itself valid, for synthetic data."""
    if authority not in _USCC_AUTHORITY_CHARS or len(authority) != 1:
        raise ValueError(f"registration authority must be one of 1-9, A, N, Y, got {authority!r}")
    if inst_type not in _USCC_TYPE_CHARS or len(inst_type) != 1:
        raise ValueError(f"institution type must be one of {_USCC_TYPE_CHARS}, got {inst_type!r}")
    if len(region) != 6 or any(ch not in _DIGITS for ch in region):
        raise ValueError(f"region must be 6 digits, got {region!r}")
    if len(org_code8) != 8 or any(ch not in _USCC_VALUE for ch in org_code8):
        raise ValueError(f"organisation code body must be 8 characters of {USCC_ALPHABET}")
    first17 = authority + inst_type + region + org_code8 + gb11714_check_char(org_code8)
    return first17 + uscc_check_char(first17)


# --- resident ID ----------------------------------------------------------------------------


def ric_check_digit(first17: str) -> str:
    """Check digit of a resident ID number from its 17 payload digits.

    ``stdnum.cn.ric.calc_check_digit`` expects all 18 characters and drops the last, so
    given 17 it silently computes over 16; this function takes exactly the payload.
    """
    if len(first17) != 17 or any(ch not in _DIGITS for ch in first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(ch) * w for ch, w in zip(first17, _RIC_WEIGHTS, strict=True))
    check = (1 - total) % 11
    return "X" if check == 10 else str(check)


def mask_id(number: str) -> str:
    """Show an ID number without its birth date and most of its digits (principle 5).

    The region and the last four characters are what a clerk needs to tell two people
    apart on a screen; anything that does not look like an ID number is hidden entirely.
    """
    code = normalise(number)
    if len(code) == _LENGTH:
        return code[:6] + "*" * 8 + code[-4:]
    if len(code) == 15:  # the pre-1999 15-digit number: region, YYMMDD, sequence
        return code[:6] + "*" * 6 + code[-3:]
    return "*" * len(code)


def mask_id_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`mask_id`, for codes in their normal form (``normalise_expr``):
    a batch masks every person's number at once instead of one call per line."""
    length = col.str.len_chars()
    return (
        pl.when(length == _LENGTH)
        .then(pl.concat_str(col.str.slice(0, 6), pl.lit("*" * 8), col.str.slice(_LENGTH - 4)))
        .when(length == 15)
        .then(pl.concat_str(col.str.slice(0, 6), pl.lit("*" * 6), col.str.slice(12)))
        .otherwise(col.str.replace_all(".", "*"))
    )


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A parsed resident ID number (GB 11643-1999).

    The repr is masked so that a stray log line or traceback does not disclose the number.
    """

    number: str = field(repr=False)
    region: str
    birth_date: date = field(repr=False)
    sex: Literal["M", "F"] = field(repr=False)
    check: str = field(repr=False)

    def __repr__(self) -> str:
        return f"ResidentId({self.masked!r})"

    @property
    def masked(self) -> str:
        return mask_id(self.number)

    @property
    def region_name(self) -> str | None:
        return region_name(self.region)

    def age_on(self, day: date) -> int:
        """Completed years on ``day``.

        A person born on 29 February completes a year on 1 March in common years: before
        then the year has not fully passed, and counting later errs on the side of minors.
        """
        if day < self.birth_date:
            raise ValueError("day is before the birth date")
        birth = self.birth_date
        before_birthday = (day.month, day.day) < (birth.month, birth.day)
        return day.year - birth.year - int(before_birthday)

    @property
    def adult_from(self) -> date:
        """The 18th birthday, or 1 March for someone born on 29 February (see age_on).

        Stored with the subject, it lets disclosure rules protect minors without reading
        the birth date again.
        """
        birth = self.birth_date
        try:
            return birth.replace(year=birth.year + 18)
        except ValueError:
            return date(birth.year + 18, 3, 1)

    def is_minor_on(self, day: date) -> bool:
        """Minors' records are never public (principle 5), so this gates disclosure.

        A day before the birth counts as minority: the answer must never open a record.
        """
        return day < self.adult_from


def _ric_birth_date(raw: str, code: str, today: date | None) -> date:
    year, month, day = code[6:10], code[10:12], code[12:14]
    try:
        birth = date(int(year), int(month), int(day))
    except ValueError:
        raise CodeError(
            raw, f"birth date {year}-{month}-{day} is not a real date", stage=_STAGE_CONTENT
        ) from None
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise CodeError(
            raw,
            f"birth date {birth.isoformat()} is before {EARLIEST_BIRTH_YEAR}",
            stage=_STAGE_CONTENT,
        )
    if today is not None and birth > today:
        raise CodeError(
            raw, f"birth date {birth.isoformat()} is in the future", stage=_STAGE_CONTENT
        )
    return birth


def _check_ric_region(raw: str, region: str, birth_year: int) -> None:
    """The region must exist in GB/T 2260 and must not have been retired before the birth.

    stdnum also refuses codes created after the birth year. That refuses real people:
    numbers were first issued from 1984 on, with the code in force at issue, so someone
    born in 1980 in Beijing's Fangshan district holds 110111 although that code dates
    from 1986. A code retired before the birth, by contrast, cannot have been issued.
    """
    periods = _region_table().regions.get(region)
    if periods is None:
        raise CodeError(raw, f"unknown region code {region}", stage=_STAGE_CONTENT)
    last_year = _last_year_in_use(periods)
    if last_year is not None and last_year < birth_year:
        raise CodeError(
            raw,
            f"region code {region} was retired in {last_year}, before the birth year {birth_year}",
            stage=_STAGE_CONTENT,
        )


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Parse an 18-digit resident ID number.

    Date and region are checked before the check digit: when both fail the typo is most
    likely in the date or region, and naming that part helps the clerk find it.
    """
    code = normalise(raw)
    if len(code) != _LENGTH:
        raise _length_error(raw, code)
    for position, ch in enumerate(code[:17], 1):
        if ch not in _DIGITS:
            raise CodeError(raw, f"character {ch!r} at position {position} is not a digit")
    if code[17] not in _DIGITS + "X":
        raise CodeError(raw, f"check character {code[17]!r} must be a digit or X")
    birth = _ric_birth_date(raw, code, today)
    _check_ric_region(raw, code[:6], birth.year)
    expected = ric_check_digit(code[:17])
    if code[17] != expected:
        raise CodeError(
            raw, f"check digit should be {expected!r}, not {code[17]!r}", stage=_STAGE_CHECK
        )
    return ResidentId(
        number=code,
        region=code[:6],
        birth_date=birth,
        sex="M" if int(code[16]) % 2 else "F",
        check=code[17],
    )


def is_valid_resident_id(raw: str, *, today: date | None = None) -> bool:
    try:
        parse_resident_id(raw, today=today)
    except CodeError:
        return False
    return True


def make_resident_id(region: str, birth: date, seq: int) -> str:
    """Build a valid resident ID number for synthetic data; odd ``seq`` means male."""
    if len(region) != 6 or any(ch not in _DIGITS for ch in region):
        raise ValueError(f"region must be 6 digits, got {region!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"sequence must be 0-999, got {seq}")
    first17 = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return first17 + ric_check_digit(first17)


# --- either kind ----------------------------------------------------------------------------


def _looks_like_ric(code: str) -> bool:
    """Whether the writer evidently meant a resident ID: ID-shaped, and a known region or a
    plausible birth date where a resident ID has them."""
    if (
        len(code) != _LENGTH
        or any(ch not in _DIGITS for ch in code[:17])
        or code[17] not in _DIGITS + "X"
    ):
        return False
    if code[:6] in _region_table().regions:
        return True
    try:
        birth = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    return birth.year >= EARLIEST_BIRTH_YEAR


def _plausible_uscc_region(region: str) -> bool:
    """Central bodies register under 100000; everyone else under a GB/T 2260 province."""
    return region[:2] == "10" or region[:2] in _region_table().provinces


def parse_subject_code(raw: str) -> Uscc | ResidentId:
    """Parse the key of a subject whose kind the input does not say.

    A string valid as both (rare, only all-digit codes) is taken as a resident ID, as a
    digit-only 18-character code with a real birth date almost always is one. A USCC is
    tried even when the input looks like a resident ID, because an all-digit USCC can carry
    a date-like run where the birth date would be. When neither parses, the error of the
    kind the writer evidently meant is raised.
    """
    try:
        return parse_resident_id(raw)
    except CodeError as err:
        ric_error = err
    code = normalise(raw)
    try:
        uscc = parse_uscc(raw)
    except CodeError as err:
        uscc_error = err
    else:
        # One all-digit string in 31 passes the USCC check by chance; a mistyped resident
        # ID must not turn into an organisation from a province that does not exist.
        if _looks_like_ric(code) and not _plausible_uscc_region(uscc.region):
            raise ric_error
        return uscc
    if _looks_like_ric(code):
        raise ric_error
    if uscc_error.stage > _STAGE_FORMAT or ric_error.stage == _STAGE_FORMAT:
        raise uscc_error
    raise ric_error


# --- vectorised validity for bulk files -----------------------------------------------------
#
# Per-row Python calls take over a minute on a 5-million-row file, and slicing a code into
# 17 one-character columns costs several times more than needed. Both check sums are
# instead read as one or two integers in a suitable radix, which Polars parses natively:
# - RIC: 13 = 2 (mod 11), so int(payload, 13) = sum(d_i * 2**(16 - i)) (mod 11), and the
#   MOD 11-2 sum with weights 2**(17 - i) is twice that.
# - USCC: 34 = 3 (mod 31), so the reversed payload read in radix 34 is sum(v_i * 3**i)
#   (mod 31), the GB 32100 sum, once the 31-character alphabet is renamed to the plain
#   digits 0-9A-U. 34**17 overflows 64 bits, so it is read in two parts.

_USCC_CLASS: Final = "[0-9A-HJ-NP-RTUWXY]"
_USCC_PATTERN: Final = rf"^[1-9ANY][1-9A-HJ-NP-RTUWXY][0-9]{{6}}{_USCC_CLASS}{{10}}$"
_RIC_PATTERN: Final = r"^[0-9]{17}[0-9X]$"
_USCC_TO_RADIX_DIGITS: Final = (list(USCC_ALPHABET[10:]), list("ABCDEFGHIJKLMNOPQRSTU"))
_OPEN_END: Final = 9999


def _null_stays_null(col: pl.Expr, valid: pl.Expr) -> pl.Expr:
    """A missing code is not an invalid one; ingest reports it as missing."""
    return pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(valid)


def uscc_valid_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`is_valid_uscc`; null in, null out.

    Best used in a lazy query: common-subexpression elimination then normalises the
    column once, where an eager ``select`` repeats it for every use (about twice as slow).
    """
    code = normalise_expr(col)
    digits = code.str.replace_many(*_USCC_TO_RADIX_DIGITS)
    reversed_payload = digits.str.slice(0, 17).str.reverse()
    high = reversed_payload.str.slice(0, 8).str.to_integer(base=34, strict=False)
    low = reversed_payload.str.slice(8, 9).str.to_integer(base=34, strict=False)
    check = digits.str.slice(17, 1).str.to_integer(base=34, strict=False)
    total = (high % 31) * pow(34, 9, 31) + low % 31 + check
    valid = code.str.contains(_USCC_PATTERN) & (total % 31 == 0).fill_null(False)
    return _null_stays_null(col, valid)


def uscc_canonical_expr(col: pl.Expr) -> pl.Expr:
    """Whether each cell is a valid USCC already written as :func:`normalise` writes it,
    so that :func:`parse_uscc` would return it unchanged (null for a missing cell)."""
    return col.str.contains(_USCC_PATTERN) & uscc_valid_expr(col)


@functools.cache
def _region_last_years() -> dict[str, int]:
    return {
        code: _last_year_in_use(periods) or _OPEN_END
        for code, periods in _region_table().regions.items()
    }


def ric_valid_expr(col: pl.Expr, *, today: date | None = None) -> pl.Expr:
    """Vectorised :func:`is_valid_resident_id`, with the same date and region rules.

    Null in, null out. Best used in a lazy query, as :func:`uscc_valid_expr`.
    """
    code = normalise_expr(col)
    payload = code.str.slice(0, 17).str.to_integer(base=13, strict=False)
    last = code.str.slice(17, 1)
    check = pl.when(last == "X").then(pl.lit(10)).otherwise(last.str.to_integer(strict=False))
    check_ok = ((2 * (payload % 11) + check) % 11 == 1).fill_null(False)
    birth = code.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    date_ok = birth.is_not_null() & (birth.dt.year() >= EARLIEST_BIRTH_YEAR)
    if today is not None:
        date_ok = date_ok & (birth <= pl.lit(today))
    last_year = code.str.slice(0, 6).replace_strict(
        _region_last_years(), default=None, return_dtype=pl.Int32
    )
    region_ok = (last_year >= birth.dt.year()).fill_null(False)
    structure_ok = code.str.contains(_RIC_PATTERN)
    return _null_stays_null(col, structure_ok & date_ok.fill_null(False) & region_ok & check_ok)
