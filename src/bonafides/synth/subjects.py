"""Synthetic subjects: who they are, with valid codes, names, former names and a region.

The mix follows a regional platform's register: mostly enterprises, then individual
businesses, the rural organisations of the §69 demonstration data (farmers' cooperatives,
village collectives), social organisations, public institutions and a few government
bodies, and about 15% natural persons, a few of them minors. A person appears only because
a decision concerns them (principle 7), so every subject made here gets records.

Codes are unique by construction, not by luck: an organisation's code body is a bijection
of its running number, and a person's ID number is redrawn on the rare collision.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import accumulate
from random import Random
from typing import Final

from bonafides.codes import USCC_ALPHABET, make_resident_id, make_uscc
from bonafides.records import SubjectKind, SubjectRef, kind_of_uscc
from bonafides.synth import orgnames
from bonafides.synth.industries import ENTERPRISE_SECTIONS, SHOP_SECTIONS
from bonafides.synth.names import person_name, trade_name
from bonafides.synth.orgnames import Name
from bonafides.synth.places import Place, PlaceSampler


@dataclass(frozen=True, slots=True)
class SubjectClass:
    """One kind of subject as registered: its code prefix, share and record volume."""

    key: str
    authority: str  # USCC registration authority; "" for natural persons
    inst_type: str
    share: float
    mean_records: float
    rename_rate: float = 0.0
    body: str = ""  # letters heading the organisation code body (MA, MJ), or digits only

    @property
    def kind(self) -> SubjectKind:
        if not self.authority:
            return SubjectKind.NATURAL_PERSON
        return kind_of_uscc(self.authority, self.inst_type)


PERSON: Final = SubjectClass("person", "", "", 0.15, 1.6)
CLASSES: Final[tuple[SubjectClass, ...]] = (
    SubjectClass("enterprise", "9", "1", 0.615, 14.0, rename_rate=0.10, body="MA"),
    SubjectClass("individual_business", "9", "2", 0.14, 5.0, rename_rate=0.04, body="MA"),
    SubjectClass("cooperative", "9", "3", 0.03, 6.0, rename_rate=0.05, body="MA"),
    SubjectClass("rural_collective", "N", "2", 0.01, 4.0),
    SubjectClass("association", "5", "1", 0.008, 4.0, rename_rate=0.05, body="MJ"),
    SubjectClass("private_unit", "5", "2", 0.012, 5.0, rename_rate=0.05, body="MJ"),
    SubjectClass("foundation", "5", "3", 0.002, 3.0, body="MJ"),
    SubjectClass("public_institution", "1", "2", 0.02, 6.0),
    SubjectClass("government_body", "1", "1", 0.005, 4.0),
    SubjectClass("law_firm", "3", "1", 0.005, 4.0),
    PERSON,
)

#: Share of natural persons who are minors (under 18 on ``today``), and the age from which
#: a minor can be the subject of an administrative decision at all.
MINOR_SHARE: Final = 0.03
MINOR_MIN_AGE: Final = 14
#: Share of renamed organisations that were renamed twice.
TWICE_RENAMED: Final = 0.15
HISTORY_YEARS: Final = 6

_BASE31: Final = USCC_ALPHABET
_LETTER_SPACE: Final = 31**6
_DIGIT_SPACE: Final = 10**8
# Multipliers coprime with the spaces make index -> body a bijection (a scrambled counter).
_LETTER_STEP: Final = 387_420_489  # 3**18, coprime with 31
_DIGIT_STEP: Final = 48_271_219  # odd and not a multiple of 5


def add_years(day: dt.date, years: int) -> dt.date:
    """Same day ``years`` later; 29 February becomes 1 March, so a birthday is never early."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


@dataclass(slots=True)
class SubjectDraft:
    """A subject while its records are drawn; the public result is built from it."""

    cls: SubjectClass
    ref: SubjectRef
    place: Place
    industry: str | None
    #: Earlier names, oldest first: (name, English name, last day in use + 1).
    former: list[tuple[str, str, dt.date]] = field(default_factory=list)
    representative: str | None = None
    representative_id: str | None = None
    birth: dt.date | None = None
    male: bool = True
    minor: bool = False
    risk: int = 1  # 0 careful, 1 ordinary, 2 repeatedly in trouble

    def ref_on(self, day: dt.date, refs: dict[str, SubjectRef]) -> SubjectRef:
        """The subject as a decision of ``day`` named it: renamed firms keep old decisions
        under their old name. ``refs`` caches one SubjectRef per name."""
        for name, name_en, until in self.former:
            if day < until:
                ref = refs.get(name)
                if ref is None:
                    ref = refs[name] = SubjectRef(
                        code=self.ref.code,
                        kind=self.ref.kind,
                        name=name,
                        name_en=name_en,
                        region=self.ref.region,
                        adult_from=self.ref.adult_from,
                    )
                return ref
        return self.ref


@dataclass(frozen=True, slots=True)
class CodeOffsets:
    """Where the scrambled counters of organisation code bodies start; shared by all blocks
    of one data set so that bodies stay unique across them."""

    letters: int
    digits: int

    @classmethod
    def draw(cls, rng: Random) -> CodeOffsets:
        return cls(int(rng.random() * _LETTER_SPACE), int(rng.random() * _DIGIT_SPACE))


class SubjectFactory:
    """Draws subjects of the kinds the catalogue can hold, in a reproducible order.

    ``first_index`` is the running number of the first subject drawn (blocks of one data
    set continue each other's numbering, which keeps organisation codes unique).
    """

    def __init__(
        self,
        rng: Random,
        today: dt.date,
        kinds: Collection[SubjectKind],
        *,
        places: PlaceSampler,
        offsets: CodeOffsets,
        first_index: int = 0,
    ) -> None:
        self.rng = rng
        self.today = today
        self.classes = tuple(c for c in CLASSES if c.kind in kinds)
        if not self.classes:
            raise ValueError("the catalogue admits no subject kind the generator knows")
        self._cumulative = tuple(accumulate(c.share for c in self.classes))
        self.places = places
        self._enterprise_sections = tuple(ENTERPRISE_SECTIONS)
        self._enterprise_weights = tuple(accumulate(w for w, _ in ENTERPRISE_SECTIONS.values()))
        self._shop_sections = tuple(SHOP_SECTIONS)
        self._shop_weights = tuple(accumulate(w for w, _ in SHOP_SECTIONS.values()))
        self._offsets = offsets
        self._issued_ids: set[str] = set()
        self._index = first_index
        self._history_start = today - dt.timedelta(days=round(HISTORY_YEARS * 365.25))

    # ---- helpers

    def _weighted(self, sections: tuple[str, ...], cumulative: tuple[float, ...]) -> str:
        index = bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])
        return sections[min(index, len(sections) - 1)]

    def _body(self, cls: SubjectClass, number: int) -> str:
        """Eight characters of organisation code, unique per subject number."""
        if cls.body:
            value = (number * _LETTER_STEP + self._offsets.letters) % _LETTER_SPACE
            chars = []
            for _ in range(6):
                value, digit = divmod(value, 31)
                chars.append(_BASE31[digit])
            return cls.body + "".join(chars)
        value = (number * _DIGIT_STEP + self._offsets.digits) % _DIGIT_SPACE
        return f"{value:08d}"

    def _birth(self, min_age: float, max_age: float) -> dt.date:
        age_days = round((min_age + (max_age - min_age) * self.rng.random()) * 365.2425)
        return self.today - dt.timedelta(days=age_days)

    def _resident_id(self, region: str, birth: dt.date, male: bool) -> str:
        while True:
            seq = int(self.rng.random() * 500) * 2 + (1 if male else 0)
            number = make_resident_id(region, birth, seq)
            if number not in self._issued_ids:
                self._issued_ids.add(number)
                return number

    def _representative(self, place: Place) -> tuple[str, str]:
        male = self.rng.random() < 0.7
        name, _ = person_name(self.rng, male=male)
        birth = self._birth(25, 68)
        seq = int(self.rng.random() * 500) * 2 + (1 if male else 0)
        return name, make_resident_id(place.region, birth, seq)

    def _risk(self) -> int:
        roll = self.rng.random()
        return 0 if roll < 0.55 else 1 if roll < 0.9 else 2

    # ---- names

    def _org_name(self, cls: SubjectClass, place: Place, industry: str, trade: Name) -> Name:
        if cls.key == "enterprise":
            return orgnames.enterprise(self.rng, place, industry, trade)
        if cls.key == "individual_business":
            return orgnames.individual_business(self.rng, place, industry, trade)
        if cls.key == "cooperative":
            return orgnames.cooperative(self.rng, place, trade)
        if cls.key == "rural_collective":
            return orgnames.rural_collective(self.rng, place, trade)
        if cls.key in ("association", "private_unit", "foundation"):
            return orgnames.social_organisation(self.rng, place, cls.inst_type, trade)
        if cls.key == "government_body":
            return orgnames.government_body(self.rng, place)
        return orgnames.law_firm(place, trade)

    def _industry(self, cls: SubjectClass) -> str:
        if cls.key == "enterprise":
            return self._weighted(self._enterprise_sections, self._enterprise_weights)
        if cls.key == "individual_business":
            return self._weighted(self._shop_sections, self._shop_weights)
        if cls.key in ("cooperative", "rural_collective"):
            return "A"
        if cls.key == "law_firm":
            return "L"
        return "S"

    def _renames(
        self, cls: SubjectClass, place: Place, industry: str, trade: Name, current: Name
    ) -> list[tuple[str, str, dt.date]]:
        if self.rng.random() >= cls.rename_rate:
            return []
        span = (self.today - self._history_start).days - 30
        dates = [self._history_start + dt.timedelta(days=int(self.rng.random() * span))]
        if self.rng.random() < TWICE_RENAMED:
            dates.append(self._history_start + dt.timedelta(days=int(self.rng.random() * span)))
        former: list[tuple[str, str, dt.date]] = []
        seen = {current[0]}
        for until in sorted(dates):
            for _ in range(8):
                old_trade = trade if self.rng.random() < 0.5 else trade_name(self.rng)
                name, name_en = self._org_name(cls, place, industry, old_trade)
                if name not in seen:
                    seen.add(name)
                    former.append((name, name_en, until))
                    break
        return former

    # ---- subjects

    def draw(self) -> SubjectDraft:
        index = bisect.bisect_right(self._cumulative, self.rng.random() * self._cumulative[-1])
        cls = self.classes[min(index, len(self.classes) - 1)]
        place = self.places.draw(self.rng)
        number = self._index
        self._index += 1
        if cls is PERSON:
            return self._person(place)
        return self._organisation(cls, place, number)

    def _person(self, place: Place) -> SubjectDraft:
        minor = self.rng.random() < MINOR_SHARE
        birth = self._birth(MINOR_MIN_AGE, 17.95) if minor else self._birth(18.5, 75)
        male = self.rng.random() < 0.55
        name, name_en = person_name(self.rng, male=male)
        ref = SubjectRef(
            code=self._resident_id(place.region, birth, male),
            kind=SubjectKind.NATURAL_PERSON,
            name=name,
            name_en=name_en,
            region=place.region,
            adult_from=add_years(birth, 18),
        )
        return SubjectDraft(
            cls=PERSON,
            ref=ref,
            place=place,
            industry=None,
            birth=birth,
            male=male,
            minor=minor,
            risk=self._risk(),
        )

    def _organisation(self, cls: SubjectClass, place: Place, number: int) -> SubjectDraft:
        trade = trade_name(self.rng)
        if cls.key == "public_institution":
            name, name_en, industry = orgnames.public_institution(self.rng, place)
        else:
            industry = self._industry(cls)
            name, name_en = self._org_name(cls, place, industry, trade)
        code = make_uscc(cls.authority, cls.inst_type, place.region, self._body(cls, number))
        representative, representative_id = self._representative(place)
        ref = SubjectRef(code=code, kind=cls.kind, name=name, name_en=name_en, region=place.region)
        return SubjectDraft(
            cls=cls,
            ref=ref,
            place=place,
            industry=industry,
            former=self._renames(cls, place, industry, trade, (name, name_en)),
            representative=representative,
            representative_id=representative_id,
            risk=self._risk(),
        )
