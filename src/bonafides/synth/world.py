"""Everything the generator looks up, built once from (seed, catalogue, today).

Record types with their field plans and publication rules, the weighted tables of which
types each kind of subject gets, departments with their house styles, and the working-day
calendar. Nothing here changes while subjects are drawn, so worker processes can share it.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from dataclasses import dataclass
from itertools import accumulate
from random import Random
from typing import Final

from bonafides.catalogue import Catalogue, Polarity, RecordType, Severity, SeverityPublication
from bonafides.records import SubjectKind
from bonafides.synth.departments import (
    DeptChooser,
    DeptInfo,
    case_head,
    case_kind,
    court_code,
    department_infos,
    document_char,
    document_head,
)
from bonafides.synth.fields import compile_plan, is_sensitive
from bonafides.synth.places import Place
from bonafides.synth.rows import DateSpeller, RowMaker
from bonafides.synth.spelling import HouseStyle
from bonafides.synth.subjects import HISTORY_YEARS
from bonafides.workdays import load_calendar

#: Share of records per kind of record type, before each subject's own mix: licences and
#: penalties are the bulk of real credit data about organisations, serious listings are
#: rare. A person appears only through decisions about them, most often court
#: enforcement and penalties, so persons have their own mix.
CATEGORY_SHARES: Final[dict[str, float]] = {
    "licence": 40.0,
    "penalty": 26.0,
    "neutral": 14.0,
    "positive": 8.0,
    "negative": 9.0,
    "serious": 3.0,
}
PERSON_CATEGORY_SHARES: Final[dict[str, float]] = {
    "licence": 25.0,
    "penalty": 35.0,
    "neutral": 5.0,
    "positive": 5.0,
    "negative": 15.0,
    "serious": 15.0,
}
#: Types far more common than their category's average (abnormal-operations listings run
#: to millions nationally; random inspections are routine).
TYPE_HINTS: Final[dict[str, float]] = {
    "abnormal_operations": 5.0,
    "spot_check": 3.0,
    "defaulter": 3.0,
    "consumption_restriction": 2.0,
    "sampling_failure": 2.0,
    "credit_grade": 1.5,
}
#: No type a subject can have is rarer than this share of the average type, so every type
#: turns up in a data set of a few thousand subjects.
TYPE_FLOOR: Final = 0.15
_SERIOUS_WORDS: Final = ("list", "dishonest", "blacklist", "serious", "ban", "major", "fraud")
#: How much more often negative (positive) records concern a careful, ordinary or
#: troubled subject.
RISK_NEGATIVE: Final = (0.3, 1.0, 3.5)
RISK_POSITIVE: Final = (1.5, 1.0, 0.3)
_MONTH_DAYS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end, exactly
    as the catalogue's ``Period.add_to`` counts (tests keep the two in step)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if day.day <= 28:
        return dt.date(year, month0 + 1, day.day)
    last = _MONTH_DAYS[month0] + (month0 == 1 and calendar.isleap(year))
    return dt.date(year, month0 + 1, min(day.day, last))


def category(rtype: RecordType) -> str:
    if rtype.dual_publicity == "licence":
        return "licence"
    if rtype.dual_publicity == "penalty" or rtype.code.endswith(".penalty"):
        return "penalty"
    if rtype.polarity is Polarity.POSITIVE:
        return "positive"
    if rtype.polarity is Polarity.NEUTRAL:
        return "neutral"
    return "serious" if any(w in rtype.code for w in _SERIOUS_WORDS) else "negative"


@dataclass(frozen=True, slots=True)
class TypeInfo:
    rtype: RecordType
    rows: RowMaker
    char: str  # the character of its document numbers (罚, 许, ...)
    case: str | None  # the case kind (执, 刑初) of a type numbered by court case
    category: str
    hint: float  # how much more common than its category's average
    #: severity (None for types without) -> (min months, max months) of publication.
    publication: dict[str | None, tuple[int, int]]
    repair_months: int | None
    earliest: dt.date  # no decision older than the history window or the retention period
    minors: bool  # a minor may be the subject (dual-publicity licence and penalty types)
    legal_basis: str | None
    sensitive: frozenset[str]  # fields holding a person's ID number


@dataclass(frozen=True, slots=True)
class TypeTable:
    types: tuple[TypeInfo, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: Random) -> TypeInfo:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.types[min(index, len(self.types) - 1)]


def _publication(rtype: RecordType) -> dict[str | None, tuple[int, int]]:
    if isinstance(rtype.publication, SeverityPublication):
        return {
            s.value: (r.min_months, r.max_months) for s, r in rtype.publication.by_severity.items()
        }
    window = (rtype.publication.min_months, rtype.publication.max_months)
    return {s.value: window for s in Severity} | {None: window}


def _type_infos(
    catalogue: Catalogue, today: dt.date, history_start: dt.date, dates: DateSpeller
) -> tuple[TypeInfo, ...]:
    infos = []
    for rtype in catalogue.types:
        retention_start = add_months(today, -rtype.retention_months) + dt.timedelta(days=1)
        infos.append(
            TypeInfo(
                rtype=rtype,
                rows=RowMaker(compile_plan(rtype), dates),
                char=document_char(rtype),
                case=case_kind(rtype),
                category=category(rtype),
                hint=next((w for word, w in TYPE_HINTS.items() if word in rtype.code), 1.0),
                publication=_publication(rtype),
                repair_months=(rtype.min_months_before_repair or 0) if rtype.repairable else None,
                earliest=max(history_start, retention_start),
                minors=rtype.dual_publicity is not None,
                legal_basis="；".join(rtype.legal_basis) or None,
                sensitive=frozenset(f.name for f in rtype.fields if is_sensitive(f, rtype)),
            )
        )
    return tuple(infos)


def _tables(infos: tuple[TypeInfo, ...]) -> dict[tuple[SubjectKind, bool, int], TypeTable]:
    """Which types a subject can have and how often, per (kind, minor, risk)."""
    tables = {}
    for kind in SubjectKind:
        allowed = [i for i in infos if kind in i.rtype.subject_kinds]
        shares = PERSON_CATEGORY_SHARES if kind is SubjectKind.NATURAL_PERSON else CATEGORY_SHARES
        for minor in (False, True):
            candidates = ([i for i in allowed if i.minors] if minor else allowed) or allowed
            if not candidates:
                continue
            counts = {c: sum(1 for i in candidates if i.category == c) for c in shares}
            for risk in range(3):
                weights = []
                for info in candidates:
                    factor = 1.0
                    if info.rtype.polarity is Polarity.NEGATIVE:
                        factor = RISK_NEGATIVE[risk]
                    elif info.rtype.polarity is Polarity.POSITIVE:
                        factor = RISK_POSITIVE[risk]
                    share = shares[info.category] / counts[info.category]
                    weights.append(share * info.hint * factor)
                floor = TYPE_FLOOR * sum(weights) / len(weights)
                weights = [max(w, floor) for w in weights]
                tables[(kind, minor, risk)] = TypeTable(
                    tuple(candidates), tuple(accumulate(weights))
                )
    return tables


class World:
    def __init__(self, seed: int, catalogue: Catalogue, today: dt.date) -> None:
        self.seed = seed
        self.today = today
        self.catalogue = catalogue
        self.history_start = today - dt.timedelta(days=round(HISTORY_YEARS * 365.25))
        self.dates = DateSpeller()
        self.types = _type_infos(catalogue, today, self.history_start, self.dates)
        self.tables = _tables(self.types)
        self.kinds = tuple(k for k in SubjectKind if any(key[0] is k for key in self.tables))
        self.departments: dict[str, DeptInfo] = department_infos(catalogue)
        self.chooser = DeptChooser(catalogue, self.departments)
        houses = Random(f"bonafides-synth:{seed}:houses")  # noqa: S311 - test data
        self.houses = {code: HouseStyle.draw(houses) for code in self.departments}
        holidays = load_calendar()
        day, end = self.history_start - dt.timedelta(days=10), today + dt.timedelta(days=200)
        workdays: list[int] = []
        while day <= end:
            # Invented publication lags may run past the last notice: weekdays will do
            # for made-up data, which no deadline is ever counted on.
            if holidays.is_working_day(day) if holidays.covers(day) else day.weekday() < 5:
                workdays.append(day.toordinal())
            day += dt.timedelta(days=1)
        self.workdays = tuple(workdays)
        self._heads: dict[tuple[str, str, int], str] = {}

    def number_head(self, info: TypeInfo, dept: DeptInfo, year: int, place: Place) -> str:
        """The decision number but for its sequence: a court case names the subject's
        basic court (the court that enforces or tried it, as the record's court field
        says), a document the department that issued it."""
        if info.case is not None:
            return case_head(court_code(place.region, place.province_abbr), info.case, year)
        key = (dept.code, info.char, year)
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = document_head(dept, info.char, year)
        return head
