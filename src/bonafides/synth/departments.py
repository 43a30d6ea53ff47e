"""Departments as synthetic decisions need them: who may decide, and how they number.

(source department, decision number) is the idempotency key, so the numbers must never
repeat, even across ten million records. A number has the form of its kind:

- an administrative body's document: its prefix (region abbreviation plus department
  abbreviation, 浙市监, 杭税, 国应急, distinct from every other department's), the
  document character (许 licence, 处罚 or 罚 penalty, 稽罚 a tax penalty, 通 a tax notice,
  ...), 〔year〕 and the number: 浙市监许〔2025〕12号;
- a court case: （year）, the court's code (浙 high court, 浙01 intermediate, 浙0106
  basic), the case kind (执 enforcement, 刑初 criminal first instance) and the number:
  （2025）浙0106执12号.

Everything but the sequence number is the number's *head*; each head has its own counter,
so numbers are unique across the whole data set (department prefixes differ, and courts
that pass on cases of one basic court share its counter), which also keeps a file that
mixes departments safe to load under a single source.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from random import Random
from typing import Final

from bonafides.catalogue import (
    Catalogue,
    Department,
    DepartmentBranch,
    DepartmentLevel,
    Polarity,
    RecordType,
)
from bonafides.codes import make_uscc
from bonafides.synth.places import CITIES, PROVINCES

#: Keyword in a department's name -> (abbreviation in document numbers, content domain).
#: Order matters: the first keyword found wins (自然科学基金 before 自然资源).
_DEPARTMENT_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("市场监督管理", "市监", "market"),
    ("税务", "税", "tax"),
    ("人民法院", "法", "courts"),
    ("检察", "检", "procuratorate"),
    ("人力资源和社会保障", "人社", "labour"),
    ("住房和城乡建设", "建", "construction"),
    ("生态环境", "环", "environment"),
    ("财政", "财", "procurement"),
    ("发展和改革", "发改", "general"),
    ("海关", "关", "customs"),
    ("应急管理", "应急", "production_safety"),
    ("消防", "消", "fire_safety"),
    ("公安", "公", "fire_safety"),
    ("交通运输", "交", "transport"),
    ("水利", "水", "construction"),
    ("知识产权", "知", "ip"),
    ("自然科学基金", "基金", "education_research"),
    ("科学技术", "科", "education_research"),
    ("教育", "教", "education_research"),
    ("文化和旅游", "文旅", "culture_tourism"),
    ("统计", "统", "statistics"),
    ("药品监督", "药监", "food_drug"),
    ("医疗保障", "医保", "healthcare"),
    ("卫生健康", "卫健", "healthcare"),
    ("商务", "商", "market"),
    ("证券监督", "证监", "finance"),
    ("金融监督", "金监", "finance"),
    ("人民银行", "银", "finance"),
    ("能源", "能源", "general"),
    ("工业和信息化", "工信", "general"),
    ("农业农村", "农", "agriculture"),
    ("自然资源", "自然资源", "general"),
    ("司法", "司", "general"),
    ("民政", "民", "general"),
)

#: Type-code words -> the character a document number uses for that kind of decision.
_DOCUMENT_WORDS: Final[tuple[tuple[str, str], ...]] = (
    ("licence", "许"),
    ("commitment", "诺"),
    ("commendation", "表"),
    ("grade", "评"),
    ("rating", "评"),
    ("spot_check", "查"),
    ("list", "列"),
    ("abnormal", "列"),
    ("dishonest", "列"),
    ("penalty", "罚"),
    ("violation", "罚"),
)

# Where a department sits relative to a subject decides how likely it decided about it:
# the subject's own city, then its province, and national bodies mostly where no local
# department of the system exists.
_MUNICIPAL_WEIGHT: Final = 6.0
_PROVINCIAL_WEIGHT: Final = 3.0
_NATIONAL_WEIGHT_LOCAL: Final = 0.15
_NATIONAL_WEIGHT: Final = 1.0


def _synthetic_uscc(department: Department) -> str:
    """A stable, valid organ code (11...) for a department whose real code the catalogue
    leaves out; derived from the department code so every seed agrees on it."""
    digest = hashlib.sha256(department.code.encode()).hexdigest()
    body = f"{int(digest[:12], 16) % 10**8:08d}"
    return make_uscc("1", "1", department.region, body)


def _region_abbr(department: Department) -> str:
    if department.level is DepartmentLevel.NATIONAL:
        return "国"
    if department.level is DepartmentLevel.MUNICIPAL and department.region[:4] in CITIES:
        return CITIES[department.region[:4]][0][0]
    return PROVINCES.get(department.region[:2], ("", "", "地"))[2]


def _words(name: str) -> tuple[str, str]:
    for keyword, abbr, domain in _DEPARTMENT_WORDS:
        if keyword in name:
            return abbr, domain
    return name[-4:-1] or name, "general"


@dataclass(frozen=True, slots=True)
class DeptInfo:
    code: str
    name_zh: str
    uscc: str
    region: str
    level: DepartmentLevel
    prefix: str  # 浙市监, or a court's code (浙01); unique among departments
    domain: str


def _court_code(department: Department) -> str:
    """最高法 for the Supreme People's Court, 浙 for a high court, 浙01 below it."""
    if department.level is DepartmentLevel.NATIONAL:
        return "最高法"
    abbr = PROVINCES.get(department.region[:2], ("", "", "地"))[2]
    if department.level is DepartmentLevel.PROVINCIAL:
        return abbr
    return abbr + department.region[2:4]


#: Record fields whose decision numbers are court case numbers -> the case kind.
_CASE_KINDS: Final[dict[str, str]] = {
    "courts": "执",  # enforcement: defaulter listings and consumption orders
    "procuratorate": "刑初",  # a bribery record cites the criminal judgment
}


def case_kind(rtype: RecordType) -> str | None:
    """执 or 刑初 for a type numbered by court case, None for a department's document."""
    return _CASE_KINDS.get(rtype.field)


def court_code(region: str, abbr: str) -> str:
    """The case-number code of the basic court of a county: 浙0106 for 330106."""
    return f"{abbr}{region[2:6]}"


def document_char(rtype: RecordType) -> str:
    """The character that says what kind of decision a number belongs to (罚, 许, ...)."""
    if rtype.field == "tax":
        # Tax penalties are decided by the inspection bureau (稽查局); grades are notified
        # by a tax matters notice (税务事项通知书).
        return "稽罚" if rtype.polarity is Polarity.NEGATIVE else "通"
    if rtype.dual_publicity == "licence":
        return "许"
    if rtype.dual_publicity == "penalty":
        return "罚"
    for word, char in _DOCUMENT_WORDS:
        if word in rtype.code:
            return char
    return "表" if rtype.polarity is Polarity.POSITIVE else "决"


def department_infos(catalogue: Catalogue) -> dict[str, DeptInfo]:
    infos: dict[str, DeptInfo] = {}
    prefixes: set[str] = set()
    usccs: set[str] = set()
    for department in catalogue.departments:
        abbr, domain = _words(department.name_zh)
        court = department.branch is DepartmentBranch.JUDICIAL
        prefix = _court_code(department) if court else _region_abbr(department) + abbr
        if prefix in prefixes:
            prefix += department.region[2:6]
        if prefix in prefixes:
            prefix = department.name_zh
        prefixes.add(prefix)
        uscc = department.uscc or _synthetic_uscc(department)
        if uscc in usccs:
            raise ValueError(f"department {department.code} would share a USCC; rename it")
        usccs.add(uscc)
        infos[department.code] = DeptInfo(
            code=department.code,
            name_zh=department.name_zh,
            uscc=uscc,
            region=department.region,
            level=department.level,
            prefix=prefix,
            domain=domain,
        )
    return infos


def document_head(dept: DeptInfo, char: str, year: int) -> str:
    """浙市监许〔2025〕: an administrative document's number but for its sequence. Market
    regulators write their penalties 处罚 (京市监处罚〔2025〕12号)."""
    if char == "罚" and dept.domain == "market":
        char = "处罚"
    return f"{dept.prefix}{char}〔{year}〕"


def case_head(court: str, kind: str, year: int) -> str:
    """（2025）浙0106执: a court case number but for its sequence."""
    return f"（{year}）{court}{kind}"


@dataclass(slots=True)
class Numbering:
    """One counter per number head (see the module's docstring); seeded starts so numbers
    do not all begin at 1."""

    rng: Random
    counters: dict[str, int] = field(default_factory=dict)

    def number(self, head: str) -> str:
        value = self.counters.get(head)
        if value is None:
            value = 1 + int(self.rng.random() * 40)
        self.counters[head] = value + 1
        return f"{head}{value}号"


@dataclass(frozen=True, slots=True)
class _Choice:
    depts: tuple[DeptInfo, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: Random) -> DeptInfo:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.depts[min(index, len(self.depts) - 1)]


class DeptChooser:
    """Which department decided: one of those allowed to submit the type, weighted by
    how close it sits to the subject (its city, its province, or national)."""

    def __init__(self, catalogue: Catalogue, infos: dict[str, DeptInfo]) -> None:
        self._infos = infos
        self._eligible: dict[str, tuple[DeptInfo, ...]] = {
            rtype.code: tuple(
                infos[d.code]
                for d in catalogue.departments
                if catalogue.may_submit(rtype.code, d.code)
            )
            for rtype in catalogue.types
        }
        self._cache: dict[tuple[str, str], _Choice] = {}
        # Only where a department sits matters, so prefectures without local departments
        # share one choice per province (or one for the whole country).
        self._provinces = {
            d.region[:2] for d in infos.values() if d.level is DepartmentLevel.PROVINCIAL
        }
        self._prefectures = {
            d.region[:4] for d in infos.values() if d.level is DepartmentLevel.MUNICIPAL
        }

    def eligible(self, type_code: str) -> Sequence[DeptInfo]:
        return self._eligible[type_code]

    def _choice(self, type_code: str, prefecture: str) -> _Choice:
        depts = self._eligible[type_code]
        local = [
            _MUNICIPAL_WEIGHT
            if d.level is DepartmentLevel.MUNICIPAL and d.region[:4] == prefecture
            else _PROVINCIAL_WEIGHT
            if d.level is DepartmentLevel.PROVINCIAL and d.region[:2] == prefecture[:2]
            else 0.0
            for d in depts
        ]
        national = _NATIONAL_WEIGHT_LOCAL if any(local) else _NATIONAL_WEIGHT
        weights = [
            w if w else (national if d.level is DepartmentLevel.NATIONAL else 0.0)
            for w, d in zip(local, depts, strict=True)
        ]
        if not any(weights):
            weights = [1.0] * len(depts)
        kept = [(d, w) for d, w in zip(depts, weights, strict=True) if w > 0]
        return _Choice(tuple(d for d, _ in kept), tuple(accumulate(w for _, w in kept)))

    def draw(self, rng: Random, type_code: str, region: str) -> DeptInfo:
        key = (type_code, region[:4])
        choice = self._cache.get(key)
        if choice is None:
            prefecture = region[:4]
            if prefecture not in self._prefectures:
                prefecture = region[:2] + "00" if region[:2] in self._provinces else "0000"
            choice = self._cache.get((type_code, prefecture))
            if choice is None:
                choice = self._cache[(type_code, prefecture)] = self._choice(type_code, prefecture)
            self._cache[key] = choice
        return choice.draw(rng)
