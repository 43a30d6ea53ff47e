"""The rule language: lists, actions, joint memoranda with their measures, and grades.

The content lives in YAML (``rules/data``); this module holds the shapes and the checks a
rule set must pass before anything is evaluated with it. Models are frozen and forbid
unknown keys, so a misspelt key in a rule fails at load instead of silently widening or
narrowing a sanction. References to the record-type catalogue (types, their fields,
departments) are checked when a rule set is bound to a catalogue (``Rules``).

One rule set feeds two evaluators that must agree: ``rules.evaluate`` (Python, one subject)
and ``rules.compile`` (SQL, whole tables). Anything added here needs both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bonafides.catalogue import Catalogue, FieldType, Polarity, Severity
from bonafides.records import (
    EFFECTIVE_STATUSES,
    ORGANISATION_KINDS,
    RecordStatus,
    SubjectKind,
    canonical_json,
)
from bonafides.rules.dates import add_days, add_months

__all__ = [
    "EVALUATOR",
    "Action",
    "Effect",
    "EntryLine",
    "FieldTest",
    "GradeLine",
    "GradeScheme",
    "GradeTest",
    "ListKind",
    "ListRule",
    "Match",
    "Measure",
    "Memorandum",
    "MonthsDuration",
    "RuleSet",
    "RuleSetError",
    "Rules",
    "Term",
    "Window",
]

#: Name and version of the semantics both evaluators implement. Stored with every list
#: entry and check, so an answer can say which algorithm made it (STYLE: named, versioned).
EVALUATOR = "rules-v1"

ALL_KINDS: tuple[SubjectKind, ...] = tuple(SubjectKind)
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile("[A-Za-z]")
_COMPARABLE = (FieldType.INTEGER, FieldType.DECIMAL, FieldType.DATE)
_EQUATABLE = (
    FieldType.STRING,
    FieldType.TEXT,
    FieldType.ENUM,
    FieldType.INTEGER,
    FieldType.BOOLEAN,
    FieldType.CODE,
    FieldType.USCC,
)


class RuleSetError(ValueError):
    """A rule set that does not fit the catalogue or itself; the message names every problem."""


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True
    )


class ListKind(StrEnum):
    RED = "red"  # trustworthy: rewards
    BLACK = "black"  # seriously untrustworthy: sanctions


class Effect(StrEnum):
    PROHIBIT = "prohibit"
    RESTRICT = "restrict"
    SCRUTINISE = "scrutinise"
    PREFER = "prefer"
    FAST_TRACK = "fast_track"
    WAIVE = "waive"

    @property
    def is_sanction(self) -> bool:
        return self in (Effect.PROHIBIT, Effect.RESTRICT, Effect.SCRUTINISE)

    @property
    def rank(self) -> int:
        """Strongest first, so an answer can lead with what matters most to the inquirer."""
        return list(Effect).index(self)


# --------------------------------------------------------------------------- conditions


Threshold = dt.date | Decimal


class FieldTest(_Model):
    """A predicate on one content field of a record.

    ``eq``/``in`` compare whole values; ``has`` looks for one value of a multi-valued enum
    (stored joined by ``;``); ``gte``/``lte`` compare numbers or dates and may be combined
    into a range. A missing value satisfies no test.
    """

    field: str
    eq: str | int | bool | None = None
    in_: tuple[str | int, ...] | None = Field(default=None, alias="in")
    has: str | None = None
    gte: Threshold | None = None
    lte: Threshold | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> FieldTest:
        used = [
            name
            for name, value in (
                ("eq", self.eq),
                ("in", self.in_),
                ("has", self.has),
                ("range", self.gte if self.gte is not None else self.lte),
            )
            if value is not None
        ]
        if len(used) != 1:
            raise ValueError(
                f"field test on {self.field!r} needs exactly one of eq, in, has, gte/lte"
            )
        if self.in_ is not None and not self.in_:
            raise ValueError(f"field test on {self.field!r}: 'in' must list values")
        if self.gte is not None and self.lte is not None and type(self.gte) is not type(self.lte):
            raise ValueError(f"field test on {self.field!r}: gte and lte must be of one kind")
        return self

    def describe(self) -> str:
        if self.eq is not None:
            return f"{self.field} = {self.eq}"
        if self.in_ is not None:
            return f"{self.field} in ({', '.join(str(v) for v in self.in_)})"
        if self.has is not None:
            return f"{self.field} includes {self.has}"
        parts = []
        if self.gte is not None:
            parts.append(f"{self.field} >= {self.gte}")
        if self.lte is not None:
            parts.append(f"{self.field} <= {self.lte}")
        return " and ".join(parts)


class Match(_Model):
    """Which of a subject's records a rule line looks at.

    ``types`` names record types; ``polarity`` instead takes every catalogue type of that
    polarity ("no negative record"). ``sources`` narrows to decisions of those departments
    or departments under them. ``statuses`` narrows the states that count; it can only
    narrow: a record outside ``EFFECTIVE_STATUSES`` never counts.
    """

    types: tuple[str, ...] = ()
    polarity: Polarity | None = None
    sources: tuple[str, ...] = ()
    severity: tuple[Severity, ...] = ()
    statuses: tuple[RecordStatus, ...] = ()
    where: tuple[FieldTest, ...] = ()

    @model_validator(mode="after")
    def _selector(self) -> Match:
        if bool(self.types) == (self.polarity is not None):
            raise ValueError("a match names either record types or a polarity")
        outside = [s.value for s in self.statuses if s not in EFFECTIVE_STATUSES]
        if outside:
            raise ValueError(
                f"statuses {outside} never count (only {sorted(EFFECTIVE_STATUSES)} do)"
            )
        return self

    def describe(self) -> str:
        what = ", ".join(self.types) if self.types else f"any {self.polarity} record"
        bits = [what]
        if self.sources:
            bits.append(f"from {', '.join(self.sources)}")
        if self.severity:
            bits.append(f"severity {'/'.join(s.value for s in self.severity)}")
        if self.statuses:
            bits.append(f"status {'/'.join(s.value for s in self.statuses)}")
        bits.extend(t.describe() for t in self.where)
        return "; ".join(bits)


class Window(_Model):
    """``at_least`` matching records decided within ``within_months`` before a date.

    In an ``unless`` the window looks back from an entry's start (0: only records decided
    after the start matter); any such record after the start ends the entry.
    """

    match: Match
    within_months: int = Field(ge=0)
    at_least: int = Field(default=1, ge=1)

    def describe(self) -> str:
        many = f"{self.at_least} or more" if self.at_least > 1 else "a"
        return f"{many} {self.match.describe()} within {self.within_months} months"


class Term(_Model):
    """How long an entry lasts.

    It starts on the record's decision date, or on the date in ``start_field``, moved on by
    ``starts_after_months`` (an entry that follows from a state lasting that long). It ends
    ``months`` later, the day before the same calendar day. When ``until_field`` holds a
    date the deciding authority set, that date is the last day instead, but never later
    than ``months + extension_months`` after the start (the cap).
    """

    months: int = Field(gt=0)
    start_field: str | None = None
    starts_after_months: int = Field(default=0, ge=0)
    until_field: str | None = None
    extension_months: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _extension(self) -> Term:
        if self.extension_months and self.until_field is None:
            raise ValueError("extension_months needs an until_field that carries the extension")
        return self

    @property
    def cap_months(self) -> int:
        return self.months + self.extension_months

    def describe(self) -> str:
        start = self.start_field or "decision date"
        text = f"{self.months} months from the {start}"
        if self.starts_after_months:
            text = (
                f"starts {self.starts_after_months} months after the {start}, "
                f"lasts {self.months} months"
            )
        if self.until_field:
            text += f"; or until {self.until_field} if set, at most {self.cap_months} months"
        return text


class GradeTest(_Model):
    """The subject's grade in ``scheme``, as of the entry's first day, is one of ``in``."""

    scheme: str
    in_: tuple[str, ...] = Field(alias="in", min_length=1)


class Explained(_Model):
    """A rule line's reason, in both languages of the portal: the subject reads why in its
    own language, and the public pages show these words, never the rule's internal id."""

    explain_zh: str = Field(min_length=1)
    explain_en: str = Field(min_length=1)

    @model_validator(mode="after")
    def _languages(self) -> Explained:
        if not _HAN.search(self.explain_zh):
            raise ValueError(f"explain_zh {self.explain_zh!r} has no Chinese text")
        if not _LATIN.search(self.explain_en):
            raise ValueError(f"explain_en {self.explain_en!r} has no English text")
        return self

    @property
    def explain(self) -> str:
        """The English reason: what is stored with an entry and printed by the CLI."""
        return self.explain_en

    def explain_in(self, language: str) -> str:
        """The reason in ``language`` ("zh" or "en")."""
        return self.explain_zh if language == "zh" else self.explain_en


class EntryLine(Explained):
    """One way onto a list. A line with ``at_least`` > 1 counts records in a window."""

    match: Match
    at_least: int = Field(default=1, ge=1)
    within_months: int | None = Field(default=None, gt=0)
    unless: tuple[Window, ...] = ()
    grade: GradeTest | None = None
    term: Term
    removed_on: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> EntryLine:
        if self.at_least > 1:
            if self.within_months is None:
                raise ValueError("a count (at_least > 1) needs within_months")
            term = self.term
            if term.start_field or term.until_field or term.starts_after_months:
                raise ValueError(
                    "a count starts on the decision date that completes it: "
                    "no start_field, until_field or starts_after_months"
                )
            if self.removed_on:
                raise ValueError("a count has no single record whose removal date applies")
        elif self.within_months is not None:
            raise ValueError("within_months is only for counts (at_least > 1)")
        for window in self.unless:
            if window.at_least != 1:
                raise ValueError("an 'unless' window takes a single record (at_least 1)")
        return self


class ListRule(_Model):
    """A red or black list: who keeps it, on what legal basis, and its entry lines."""

    code: str
    kind: ListKind
    title_zh: str
    title_en: str
    owner: str
    legal_basis: tuple[str, ...] = Field(min_length=1)
    subject_kinds: tuple[SubjectKind, ...] = ALL_KINDS
    description: str = ""
    entry: tuple[EntryLine, ...] = Field(min_length=1)

    def rule_ref(self, line: int) -> str:
        return f"{self.code}#{line}"


# --------------------------------------------------------------------------- measures


class Action(_Model):
    """Something a subject asks an authority for, which a measure can affect."""

    code: str
    title_zh: str
    title_en: str
    description: str = ""


class MonthsDuration(_Model):
    months: int = Field(gt=0)


#: "listed": the measure lasts as long as the list entry behind it.
Duration = Literal["listed"] | MonthsDuration


class Measure(_Model):
    """One reward or sanction: triggered by lists, for named actions only, with a basis."""

    code: str
    title_zh: str
    title_en: str
    lists: tuple[str, ...] = Field(min_length=1)
    actions: tuple[str, ...] = Field(min_length=1)
    effect: Effect
    department: str
    legal_basis: tuple[str, ...] = Field(min_length=1)
    duration: Duration = "listed"

    def ends(self, entry_from: dt.date, entry_until: dt.date) -> dt.date:
        """The last day the measure applies for an entry: never after the entry's own end."""
        if isinstance(self.duration, MonthsDuration):
            return min(entry_until, add_days(add_months(entry_from, self.duration.months), -1))
        return entry_until


class Memorandum(_Model):
    """A joint memorandum of cooperation signed by departments, and its measures."""

    code: str
    title_zh: str
    title_en: str
    document_no: str | None = None
    departments: tuple[str, ...] = Field(min_length=1)
    legal_basis: tuple[str, ...] = Field(min_length=1)
    measures: tuple[Measure, ...] = Field(min_length=1)


# --------------------------------------------------------------------------- grades


class GradeLine(Explained):
    """One line of a grading rule: a fixed ``grade`` when ``at_least`` records match in the
    window, or the value of ``from_field`` of the latest matching record."""

    match: Match
    within_months: int = Field(gt=0)
    at_least: int = Field(default=1, ge=1)
    grade: str | None = None
    from_field: str | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> GradeLine:
        if (self.grade is None) == (self.from_field is None):
            raise ValueError("a grade line gives either a fixed grade or from_field")
        if self.from_field is not None and self.at_least != 1:
            raise ValueError("from_field takes the latest record: at_least must be 1")
        return self


class GradeScheme(_Model):
    """A per-field classification of organisations (never of natural persons, principle 7)."""

    code: str
    field: str
    title_zh: str
    title_en: str
    owner: str
    legal_basis: tuple[str, ...] = Field(min_length=1)
    values: tuple[str, ...] = Field(min_length=1)
    subject_kinds: tuple[SubjectKind, ...] = tuple(
        k for k in SubjectKind if k in ORGANISATION_KINDS
    )
    lines: tuple[GradeLine, ...] = Field(min_length=1)

    @field_validator("subject_kinds")
    @classmethod
    def _organisations_only(cls, value: tuple[SubjectKind, ...]) -> tuple[SubjectKind, ...]:
        if SubjectKind.NATURAL_PERSON in value:
            raise ValueError("natural persons are never graded (DESIGN principle 7)")
        return value

    @model_validator(mode="after")
    def _grades_known(self) -> GradeScheme:
        for number, line in enumerate(self.lines, 1):
            if line.grade is not None and line.grade not in self.values:
                raise ValueError(f"line {number}: grade {line.grade!r} is not in {self.values}")
        return self

    def rule_ref(self, line: int) -> str:
        return f"grade:{self.code}#{line}"


# --------------------------------------------------------------------------- the set


class RuleSet(_Model):
    """Everything the rules directory holds, before it is checked against a catalogue."""

    version: str = Field(min_length=1)
    actions: tuple[Action, ...] = Field(min_length=1)
    lists: tuple[ListRule, ...] = Field(min_length=1)
    memoranda: tuple[Memorandum, ...] = ()
    grades: tuple[GradeScheme, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        groups: dict[str, Iterable[str]] = {
            "action": (a.code for a in self.actions),
            "list": (item.code for item in self.lists),
            "memorandum": (m.code for m in self.memoranda),
            "measure": (x.code for m in self.memoranda for x in m.measures),
            "grade scheme": (g.code for g in self.grades),
        }
        for what, codes in groups.items():
            seen: set[str] = set()
            for code in codes:
                if code in seen:
                    raise ValueError(f"duplicate {what} code {code!r}")
                seen.add(code)
        return self


class Rules:
    """A rule set bound to a catalogue: references checked, selectors expanded.

    Both evaluators take one of these, so the expansion of ``polarity`` and ``sources`` into
    concrete codes happens once and identically for Python and SQL.
    """

    def __init__(self, ruleset: RuleSet, catalogue: Catalogue) -> None:
        self.ruleset = ruleset
        self.catalogue = catalogue
        problems = _problems(ruleset, catalogue)
        if problems:
            raise RuleSetError("; ".join(problems))
        self.lists: dict[str, ListRule] = {item.code: item for item in ruleset.lists}
        self.actions: dict[str, Action] = {a.code: a for a in ruleset.actions}
        self.grades: dict[str, GradeScheme] = {g.code: g for g in ruleset.grades}
        self.measures: dict[str, tuple[Memorandum, Measure]] = {
            x.code: (m, x) for m in ruleset.memoranda for x in m.measures
        }
        self._by_action: dict[str, tuple[tuple[Memorandum, Measure], ...]] = {}

    @property
    def version(self) -> str:
        return self.ruleset.version

    @cached_property
    def digest(self) -> str:
        """sha256 of the canonical rule set: names exactly which rules made an entry."""
        body = {"rules": self.ruleset.model_dump(mode="json"), "catalogue": self.catalogue.digest}
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def types_of(self, match: Match) -> tuple[str, ...]:
        if match.types:
            return match.types
        return tuple(t.code for t in self.catalogue.types if t.polarity is match.polarity)

    def sources_of(self, match: Match) -> tuple[str, ...]:
        """Departments whose decisions count: those named and every department under them."""
        if not match.sources:
            return ()
        wanted = set(match.sources)
        return tuple(
            d.code
            for d in self.catalogue.departments
            if any(up.code in wanted for up in self.catalogue.lineage(d.code))
        )

    def field_type(self, match: Match, field: str) -> FieldType:
        return self.catalogue.type(self.types_of(match)[0]).content_field(field).type

    def measures_for(self, action: str) -> tuple[tuple[Memorandum, Measure], ...]:
        """Measures that name ``action``, strongest effect first; a measure never reaches
        an action it does not name."""
        found = self._by_action.get(action)
        if found is None:
            pairs = [pair for pair in self.measures.values() if action in pair[1].actions]
            pairs.sort(key=lambda pair: (pair[1].effect.rank, pair[1].code))
            found = self._by_action[action] = tuple(pairs)
        return found

    @cached_property
    def lists_by_type(self) -> Mapping[str, tuple[str, ...]]:
        """The lists each record type can put a subject on, in the rules' order."""
        found: dict[str, list[str]] = {}
        for code, item in self.lists.items():
            for line in item.entry:
                for type_code in self.types_of(line.match):
                    fed = found.setdefault(type_code, [])
                    if code not in fed:
                        fed.append(code)
        return {type_code: tuple(codes) for type_code, codes in found.items()}

    def lists_fed_by(self, type_code: str) -> tuple[str, ...]:
        return self.lists_by_type.get(type_code, ())

    def lists_for(self, action: str) -> tuple[str, ...]:
        codes = {code for _, m in self.measures_for(action) for code in m.lists}
        return tuple(code for code in self.lists if code in codes)

    def grade_dependencies(self, list_codes: Iterable[str]) -> tuple[str, ...]:
        schemes = {
            line.grade.scheme
            for code in list_codes
            for line in self.lists[code].entry
            if line.grade is not None
        }
        return tuple(sorted(schemes))


# --------------------------------------------------------------------------- reference checks


def _problems(ruleset: RuleSet, cat: Catalogue) -> list[str]:
    problems: list[str] = []
    departments = {d.code for d in cat.departments}
    actions = {a.code for a in ruleset.actions}
    lists = {item.code: item for item in ruleset.lists}
    schemes = {g.code: g for g in ruleset.grades}

    def check_match(where: str, match: Match) -> list[str]:
        """Problems of one selector; returns the type codes it covers."""
        types = list(match.types)
        if match.polarity is not None:
            types = [t.code for t in cat.types if t.polarity is match.polarity]
        unknown = [t for t in types if not cat.has_type(t)]
        if unknown:
            problems.append(f"{where}: unknown record types {unknown}")
            return []
        for source in match.sources:
            if source not in departments:
                problems.append(f"{where}: unknown department {source!r}")
        if match.severity:
            flat = [t for t in types if not cat.type(t).has_severity]
            if flat:
                problems.append(f"{where}: severity given but {flat} have none")
        for test in match.where:
            kinds = _field_kinds(cat, types, test.field)
            if kinds is None:
                problems.append(f"{where}: not every type has a field {test.field!r}")
                continue
            problems.extend(f"{where}: {p}" for p in _test_problems(test, kinds, cat, types))
        return types

    def check_date_field(where: str, types: list[str], name: str | None) -> None:
        if name is None or not types:
            return
        kinds = _field_kinds(cat, types, name)
        if kinds != {FieldType.DATE}:
            problems.append(f"{where}: {name!r} must be a date field of every type")

    for rule in ruleset.lists:
        if rule.owner not in departments:
            problems.append(f"list {rule.code}: unknown owner department {rule.owner!r}")
        for number, line in enumerate(rule.entry, 1):
            where = f"list {rule.code} line {number}"
            types = check_match(where, line.match)
            check_date_field(where, types, line.term.start_field)
            check_date_field(where, types, line.term.until_field)
            for name in line.removed_on:
                check_date_field(where, types, name)
            for window in line.unless:
                blockers = check_match(f"{where} unless", window.match)
                if line.at_least > 1 and set(blockers) & set(types):
                    problems.append(f"{where}: a count's 'unless' must look at other types")
            if line.grade is not None:
                scheme = schemes.get(line.grade.scheme)
                if scheme is None:
                    problems.append(f"{where}: unknown grade scheme {line.grade.scheme!r}")
                else:
                    odd = [g for g in line.grade.in_ if g not in scheme.values]
                    if odd:
                        problems.append(f"{where}: grades {odd} are not in {scheme.code}")
                    people = set(rule.subject_kinds) - set(scheme.subject_kinds)
                    if people:
                        problems.append(
                            f"{where}: grade {scheme.code} does not grade {sorted(people)}"
                        )

    for memo in ruleset.memoranda:
        for dept in memo.departments:
            if dept not in departments:
                problems.append(f"memorandum {memo.code}: unknown department {dept!r}")
        for measure in memo.measures:
            where = f"measure {measure.code}"
            if measure.department not in memo.departments:
                problems.append(f"{where}: {measure.department!r} did not sign {memo.code}")
            for code in measure.actions:
                if code not in actions:
                    problems.append(f"{where}: unknown action {code!r}")
            for code in measure.lists:
                target = lists.get(code)
                if target is None:
                    problems.append(f"{where}: unknown list {code!r}")
                elif measure.effect.is_sanction != (target.kind is ListKind.BLACK):
                    kind = "sanction" if measure.effect.is_sanction else "reward"
                    problems.append(f"{where}: a {kind} cannot follow from {target.kind} list")

    for scheme in ruleset.grades:
        where = f"grade {scheme.code}"
        if scheme.owner not in departments:
            problems.append(f"{where}: unknown owner department {scheme.owner!r}")
        try:
            cat.field(scheme.field)
        except KeyError:
            problems.append(f"{where}: unknown catalogue field {scheme.field!r}")
        for number, gline in enumerate(scheme.lines, 1):
            types = check_match(f"{where} line {number}", gline.match)
            if gline.from_field is not None and types:
                kinds = _field_kinds(cat, types, gline.from_field)
                if kinds is None or not kinds <= {FieldType.ENUM, FieldType.STRING}:
                    problems.append(
                        f"{where} line {number}: {gline.from_field!r} must be an enum or "
                        "string field of every type"
                    )
    return problems


def _field_kinds(cat: Catalogue, types: Iterable[str], name: str) -> set[FieldType] | None:
    kinds: set[FieldType] = set()
    for code in types:
        rtype = cat.type(code)
        if name not in rtype.field_names:
            return None
        kinds.add(rtype.content_field(name).type)
    return kinds


def _test_problems(
    test: FieldTest, kinds: set[FieldType], cat: Catalogue, types: list[str]
) -> list[str]:
    if len(kinds) != 1:
        return [f"{test.field!r} has different types across {types}"]
    (kind,) = kinds
    if test.gte is not None or test.lte is not None:
        if kind not in _COMPARABLE:
            return [f"{test.field!r} ({kind.value}) cannot be compared with gte/lte"]
        bound = test.gte if test.gte is not None else test.lte
        if (kind is FieldType.DATE) != isinstance(bound, dt.date):
            return [f"{test.field!r}: compare a {kind.value} field with a matching value"]
        return []
    if test.has is not None:
        multi = all(cat.type(t).content_field(test.field).multiple for t in types)
        if kind is not FieldType.ENUM or not multi:
            return [f"{test.field!r}: 'has' is for multi-valued enum fields"]
        return _enum_values(cat, types, test.field, [test.has])
    if kind not in _EQUATABLE:
        return [f"{test.field!r} ({kind.value}) cannot be compared with eq/in"]
    values = [test.eq] if test.eq is not None else list(test.in_ or ())
    if kind is FieldType.ENUM:
        return _enum_values(cat, types, test.field, [str(v) for v in values])
    if kind is FieldType.BOOLEAN and not all(isinstance(v, bool) for v in values):
        return [f"{test.field!r} is yes/no: compare with true or false"]
    if kind is FieldType.INTEGER and not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        return [f"{test.field!r} is a whole number: compare with integers"]
    return []


def _enum_values(cat: Catalogue, types: list[str], name: str, values: list[str]) -> list[str]:
    out = []
    for code in types:
        spec = cat.type(code).content_field(name)
        allowed = {e.value for e in spec.enum or ()}
        odd = [v for v in values if v not in allowed]
        if odd:
            out.append(f"{name!r} of {code} has no values {odd}")
    return out


def rule_documents(documents: Mapping[str, Any]) -> RuleSet:
    """Merge the parsed YAML documents of a rules directory into one rule set."""
    merged: dict[str, Any] = {"actions": [], "lists": [], "memoranda": [], "grades": []}
    for name, doc in sorted(documents.items()):
        if not isinstance(doc, Mapping):
            raise RuleSetError(f"{name}: expected a mapping at the top")
        for key, value in doc.items():
            if key == "version":
                if "version" in merged and merged["version"] != value:
                    raise RuleSetError(f"{name}: version {value!r} differs from another file")
                merged["version"] = value
            elif key in merged and isinstance(value, list):
                merged[key].extend(value)
            else:
                raise RuleSetError(f"{name}: unexpected top-level key {key!r}")
    return RuleSet.model_validate(merged)
