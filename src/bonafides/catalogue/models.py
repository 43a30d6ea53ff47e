"""Record-type catalogue: the types, their fields and the rules every type must obey.

The content lives in YAML (``catalogue/data``); this module holds only the shapes and the
invariants. Every model is frozen and forbids unknown keys, so a typo in a YAML file fails
at load instead of silently dropping a setting.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic import Field as PydanticField
from stdnum.cn import uscc as stdnum_uscc

__all__ = [
    "ANY_DEPARTMENT",
    "DUAL_PUBLICITY_COLUMNS",
    "LICENCE_COLUMNS",
    "PENALTY_COLUMNS",
    "Catalogue",
    "ContentField",
    "Department",
    "DepartmentBranch",
    "DepartmentLevel",
    "Disclosure",
    "EnumValue",
    "Field",
    "FieldType",
    "Period",
    "Polarity",
    "Problem",
    "Publication",
    "PublicationRule",
    "RecordType",
    "Severity",
    "SeverityPublication",
    "SubjectKind",
    "reference_problems",
]

#: In ``RecordType.sources``: any administrative department of the catalogue may submit
#: this type (used for the cross-department "dual publicity" licence and penalty types;
#: courts and procuratorates grant no licences and impose no administrative penalties).
ANY_DEPARTMENT = "*"

#: Standard Chinese column names of the national "dual publicity" (双公示) data items.
#: A type marked ``dual_publicity: penalty`` / ``licence`` must carry every one of them.
PENALTY_COLUMNS: tuple[str, ...] = (
    "行政相对人名称",
    "行政相对人类别",
    "统一社会信用代码",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
)
LICENCE_COLUMNS: tuple[str, ...] = (
    "行政相对人名称",
    "行政相对人类别",
    "统一社会信用代码",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可证书名称",
    "许可编号",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
    "许可机关统一社会信用代码",
    "当前状态",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
)
DUAL_PUBLICITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "penalty": PENALTY_COLUMNS,
    "licence": LICENCE_COLUMNS,
}

#: Content fields every record type must have (DESIGN §3: a record is a decision with a
#: number and a date about a named subject; (source, decision number) is the idempotency key).
SUBJECT_NAME = "subject_name"
DECISION_NO = "decision_no"
DECISION_DATE = "decision_date"
SEVERITY_FIELD = "severity"

_IDENT = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
_IDENT_RE = re.compile(rf"^{_IDENT}$")
_TYPE_CODE_RE = re.compile(rf"^{_IDENT}(?:\.{_IDENT})+$")
_ENUM_VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_REGION_RE = re.compile(r"^[0-9]{6}$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# --------------------------------------------------------------------------- vocabularies


class Polarity(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Disclosure(StrEnum):
    """Who may see a record (DESIGN principle 5), from widest to narrowest."""

    PUBLIC = "public"
    SHARED = "shared"  # among authorities through the sharing platform
    RESTRICTED = "restricted"  # named authorities, on an approved application
    SUBJECT_ONLY = "subject_only"  # the subject and the source department

    @property
    def rank(self) -> int:
        return _DISCLOSURE_ORDER.index(self)


_DISCLOSURE_ORDER = (
    Disclosure.PUBLIC,
    Disclosure.SHARED,
    Disclosure.RESTRICTED,
    Disclosure.SUBJECT_ONLY,
)


class SubjectKind(StrEnum):
    LEGAL_PERSON = "legal_person"
    OTHER_ORG = "other_org"
    INDIVIDUAL_BUSINESS = "individual_business"
    NATURAL_PERSON = "natural_person"
    GOVERNMENT_BODY = "government_body"


ORGANISATION_KINDS = frozenset(
    {
        SubjectKind.LEGAL_PERSON,
        SubjectKind.OTHER_ORG,
        SubjectKind.INDIVIDUAL_BUSINESS,
        SubjectKind.GOVERNMENT_BODY,
    }
)


class Severity(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    DATE = "date"
    DECIMAL = "decimal"
    INTEGER = "integer"
    ENUM = "enum"
    CODE = "code"  # a USCC or a resident ID number (GB 32100 / GB 11643)
    USCC = "uscc"
    BOOLEAN = "boolean"


#: The region code of national departments.
NATIONAL_REGION = "100000"


class DepartmentLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"


class DepartmentBranch(StrEnum):
    """Which branch of the state a department belongs to: only administrative bodies take
    administrative decisions (licences, penalties, commitments), so only they answer to
    ``ANY_DEPARTMENT``; courts and procuratorates submit the types that name them."""

    ADMINISTRATIVE = "administrative"
    JUDICIAL = "judicial"
    PROCURATORIAL = "procuratorial"


# --------------------------------------------------------------------------- periods


class Period(_Model):
    """A number of calendar months."""

    months: int = PydanticField(ge=0)

    def add_to(self, start: date) -> date:
        """``start`` plus ``months``; the day is clamped to the end of a shorter month."""
        index = start.year * 12 + (start.month - 1) + self.months
        year, month0 = divmod(index, 12)
        month = month0 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return date(year, month, day)

    def __str__(self) -> str:
        return f"{self.months} months"


class PublicationRule(_Model):
    """Publication window in months from the decision date. ``0``/``0``: not published.

    ``min_months`` is the shortest period the record stays published even after the subject
    repairs its credit; ``max_months`` is when publication ends in any case.
    """

    min_months: int = PydanticField(ge=0)
    max_months: int = PydanticField(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> PublicationRule:
        if self.min_months > self.max_months:
            raise ValueError(
                f"min_months ({self.min_months}) is greater than max_months ({self.max_months})"
            )
        return self

    @property
    def published(self) -> bool:
        return self.max_months > 0

    @property
    def min_period(self) -> Period:
        return Period(months=self.min_months)

    @property
    def max_period(self) -> Period:
        return Period(months=self.max_months)

    def rule(self, severity: Severity | None = None) -> PublicationRule:
        """The rule that applies to a record (the same for every severity)."""
        return self

    def rules(self) -> tuple[PublicationRule, ...]:
        return (self,)

    def ends(self, decision_date: date, severity: Severity | None = None) -> date | None:
        """Last date of publication, or ``None`` if the record is never published."""
        return self.max_period.add_to(decision_date) if self.published else None


class SeverityPublication(_Model):
    """Publication windows per severity (national policy: minor not published or at most
    3 months; general 3 months to 1 year; serious 1 to 3 years)."""

    by_severity: dict[Severity, PublicationRule]

    @field_validator("by_severity")
    @classmethod
    def _complete(cls, value: dict[Severity, PublicationRule]) -> dict[Severity, PublicationRule]:
        missing = [s.value for s in Severity if s not in value]
        if missing:
            raise ValueError(f"missing severities: {', '.join(missing)}")
        return value

    @property
    def min_months(self) -> int:
        return min(r.min_months for r in self.by_severity.values())

    @property
    def max_months(self) -> int:
        return max(r.max_months for r in self.by_severity.values())

    @property
    def published(self) -> bool:
        return self.max_months > 0

    def rule(self, severity: Severity | None = None) -> PublicationRule:
        if severity is None:
            raise ValueError("this type is published by severity: give the record's severity")
        return self.by_severity[severity]

    def rules(self) -> tuple[PublicationRule, ...]:
        return tuple(self.by_severity[s] for s in Severity)

    def ends(self, decision_date: date, severity: Severity | None = None) -> date | None:
        return self.rule(severity).ends(decision_date)


def _publication_tag(value: Any) -> str:
    if isinstance(value, SeverityPublication):
        return "by_severity"
    if isinstance(value, Mapping) and "by_severity" in value:
        return "by_severity"
    return "window"


Publication = Annotated[
    Annotated[PublicationRule, Tag("window")] | Annotated[SeverityPublication, Tag("by_severity")],
    Discriminator(_publication_tag),
]


# --------------------------------------------------------------------------- fields, departments


class Field(_Model):
    """A credit field (domain), e.g. ``tax``, ``courts``, ``environment``."""

    code: str
    title_zh: str
    title_en: str
    description: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _IDENT_RE.fullmatch(value):
            raise ValueError(f"field code {value!r} must be a snake_case identifier")
        return value


class Department(_Model):
    """A department that may submit records (a data provider)."""

    code: str
    name_zh: str
    name_en: str
    level: DepartmentLevel
    region: str
    parent: str | None = None  # the department above it in the same system (bj_amr -> samr)
    uscc: str | None = None
    branch: DepartmentBranch = DepartmentBranch.ADMINISTRATIVE

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _IDENT_RE.fullmatch(value):
            raise ValueError(f"department code {value!r} must be a snake_case identifier")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION_RE.fullmatch(value):
            raise ValueError(f"region {value!r} must be a 6-digit administrative division code")
        return value

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if not stdnum_uscc.is_valid(code):
            raise ValueError(f"uscc {value!r} is not a valid unified social credit code")
        if not code.startswith("11"):
            raise ValueError(
                f"uscc {value!r}: a government organ's code starts with '11' "
                "(registered by the staffing authority, category organ)"
            )
        return code

    @model_validator(mode="after")
    def _national_region(self) -> Department:
        if self.level is DepartmentLevel.NATIONAL and self.region != NATIONAL_REGION:
            raise ValueError(
                f"national department {self.code!r} must have region {NATIONAL_REGION!r}"
            )
        if self.level is not DepartmentLevel.NATIONAL and self.region == NATIONAL_REGION:
            raise ValueError(f"{self.level.value} department {self.code!r} needs its own region")
        return self


# --------------------------------------------------------------------------- content schema


class EnumValue(_Model):
    """One value of an enum field: a stable machine value and its Chinese label."""

    value: str
    label_zh: str
    label_en: str = ""

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        if not _ENUM_VALUE_RE.fullmatch(value):
            raise ValueError(f"enum value {value!r} must be letters, digits and underscores")
        return value


class ContentField(_Model):
    """One column of a record type's content schema."""

    name: str
    column_zh: str
    title_en: str
    type: FieldType
    #: Other header spellings of the column in department files (older national templates
    #: say 行政相对人代码_1（统一社会信用代码）); matched like ``column_zh``, width-folded.
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = PydanticField(default=None, gt=0)
    enum: tuple[EnumValue, ...] | None = None
    multiple: bool = False  # enum only: several values separated by ';' (e.g. 处罚类别)
    default: str | None = None
    disclosure: Disclosure | None = None  # stricter than the type's, e.g. ID numbers
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENT_RE.fullmatch(value):
            raise ValueError(f"field name {value!r} must be a snake_case identifier")
        return value

    @field_validator("column_zh", "title_en")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(a.strip() for a in value)
        if any(not a for a in cleaned):
            raise ValueError("an alias must not be empty")
        return cleaned

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header spelling of the column: its Chinese name, then its aliases."""
        return (self.column_zh, *self.aliases)

    @model_validator(mode="after")
    def _consistent(self) -> ContentField:
        if self.type is FieldType.ENUM:
            if not self.enum:
                raise ValueError(f"enum field {self.name!r} needs a list of enum values")
            values = [v.value for v in self.enum]
            labels = [v.label_zh for v in self.enum]
            for what, items in (("value", values), ("label_zh", labels)):
                dupes = sorted({x for x in items if items.count(x) > 1})
                if dupes:
                    raise ValueError(f"enum field {self.name!r}: duplicate {what} {dupes}")
            if self.default is not None and self.default not in values:
                raise ValueError(
                    f"enum field {self.name!r}: default {self.default!r} is not one of {values}"
                )
        else:
            if self.enum is not None:
                raise ValueError(f"field {self.name!r} of type {self.type.value} has enum values")
            if self.multiple:
                raise ValueError(f"field {self.name!r}: 'multiple' applies to enum fields only")
        if self.max_length is not None and self.type not in (FieldType.STRING, FieldType.TEXT):
            raise ValueError(f"field {self.name!r}: max_length applies to string and text only")
        return self

    def enum_lookup(self) -> dict[str, str]:
        """Map each enum value and Chinese label to the value (submissions may use either)."""
        out: dict[str, str] = {}
        for item in self.enum or ():
            out[item.value] = item.value
            out[item.label_zh] = item.value
        return out


# --------------------------------------------------------------------------- record types


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


class RecordType(_Model):
    """A kind of credit record: one decision of a competent authority about one subject."""

    code: str
    title_zh: str
    title_en: str
    field: str
    polarity: Polarity
    disclosure: Disclosure
    disclosure_basis: str | None = None  # the provision that makes publication lawful
    publication: Publication
    retention_months: int = PydanticField(gt=0)
    subject_kinds: tuple[SubjectKind, ...] = PydanticField(min_length=1)
    sources: tuple[str, ...] = PydanticField(min_length=1)
    has_severity: bool = False
    legal_basis: tuple[str, ...] = ()
    dual_publicity: Literal["licence", "penalty"] | None = None
    subject_code_fields: tuple[str, ...] = ("uscc",)
    fields: tuple[ContentField, ...] = PydanticField(min_length=1)
    #: One decision number may name several subjects (a court case lists every defaulter):
    #: records of such a type are identified by (source, decision number, subject).
    shared_decision_no: bool = False
    repairable: bool = False
    min_months_before_repair: int | None = PydanticField(default=None, ge=0)
    #: Why a negative type puts no one on a red or black list and so triggers no joint
    #: measure. Every negative type either feeds a list of the rules or says here why not;
    #: ``bonafides.rules.coverage`` holds the two to each other.
    no_list: str | None = PydanticField(default=None, min_length=20)
    no_list_zh: str | None = PydanticField(default=None, min_length=10)
    description: str = ""

    _by_name: dict[str, ContentField] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_name = {f.name: f for f in self.fields}

    # ---- validation

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _TYPE_CODE_RE.fullmatch(value):
            raise ValueError(
                f"record type code {value!r} must be dotted snake_case, e.g. 'market.penalty'"
            )
        return value

    @field_validator("subject_kinds", "sources", "legal_basis", "subject_code_fields")
    @classmethod
    def _unique(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        dupes = sorted({str(x) for x in value if value.count(x) > 1})
        if dupes:
            raise ValueError(f"duplicate entries {dupes}")
        return value

    @field_validator("sources")
    @classmethod
    def _wildcard_alone(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if ANY_DEPARTMENT in value and len(value) > 1:
            raise ValueError(f"{ANY_DEPARTMENT!r} (any department) must stand alone")
        return value

    @model_validator(mode="after")
    def _invariants(self) -> RecordType:
        for check in (
            self._check_code_in_field,
            self._check_fields,
            self._check_core_fields,
            self._check_subject_codes,
            self._check_lawful_basis,
            self._check_periods,
            self._check_disclosure,
            self._check_severity,
            self._check_repair,
            self._check_dual_publicity,
            self._check_no_list,
        ):
            check()
        return self

    def _check_no_list(self) -> None:
        if (self.no_list is None) != (self.no_list_zh is None):
            raise ValueError("no_list and no_list_zh give the same reason in both languages")
        if self.no_list is not None and self.polarity is not Polarity.NEGATIVE:
            raise ValueError("no_list explains why a negative type feeds no list; this type is not")

    def _check_code_in_field(self) -> None:
        if not self.code.startswith(self.field + "."):
            raise ValueError(f"code {self.code!r} must start with its field {self.field!r}.")

    def _check_fields(self) -> None:
        seen_names: set[str] = set()
        seen_columns: dict[str, str] = {}
        for item in self.fields:
            if item.name in seen_names:
                raise ValueError(f"duplicate field name {item.name!r}")
            seen_names.add(item.name)
            for column in {c for h in item.headers for c in (h, _nfkc(h))}:
                other = seen_columns.get(column)
                if other is not None and other != item.name:
                    raise ValueError(
                        f"fields {other!r} and {item.name!r} share the column {column!r}"
                    )
                seen_columns[column] = item.name
        for column, name in seen_columns.items():
            if column in seen_names and column != name:
                raise ValueError(f"column {column!r} of field {name!r} is another field's name")

    def _check_core_fields(self) -> None:
        wanted = {
            SUBJECT_NAME: (FieldType.STRING,),
            DECISION_NO: (FieldType.STRING,),
            DECISION_DATE: (FieldType.DATE,),
        }
        for name, types in wanted.items():
            item = self._by_name.get(name)
            if item is None:
                raise ValueError(f"every record type needs a {name!r} field")
            if item.type not in types:
                raise ValueError(f"field {name!r} must be of type {types[0].value}")
            if not item.required:
                raise ValueError(f"field {name!r} must be required")

    def _check_subject_codes(self) -> None:
        if not self.subject_code_fields:
            raise ValueError("subject_code_fields must name at least one field")
        kinds: list[FieldType] = []
        for name in self.subject_code_fields:
            item = self._by_name.get(name)
            if item is None:
                raise ValueError(f"subject_code_fields: no field named {name!r}")
            if item.type not in (FieldType.USCC, FieldType.CODE, FieldType.STRING):
                raise ValueError(
                    f"subject_code_fields: field {name!r} must be of type uscc, code or string"
                )
            kinds.append(item.type)
        if SubjectKind.NATURAL_PERSON in self.subject_kinds and all(
            k is FieldType.USCC for k in kinds
        ):
            raise ValueError("natural persons are subjects but no subject code field takes an ID")
        if ORGANISATION_KINDS & set(self.subject_kinds) and not any(
            k in (FieldType.USCC, FieldType.CODE) for k in kinds
        ):
            raise ValueError("organisations are subjects but no subject code field takes a USCC")

    def _check_lawful_basis(self) -> None:
        if self.polarity is Polarity.NEGATIVE and not self.legal_basis:
            raise ValueError(
                f"negative record type {self.code!r} must name its legal_basis (principle 1)"
            )

    def _check_periods(self) -> None:
        if self.retention_months < self.publication.max_months:
            raise ValueError(
                f"retention_months ({self.retention_months}) is shorter than the longest "
                f"publication ({self.publication.max_months} months)"
            )

    def _check_disclosure(self) -> None:
        if self.disclosure is Disclosure.PUBLIC:
            if not self.publication.published:
                raise ValueError("a public type must have a publication period")
            if SubjectKind.NATURAL_PERSON in self.subject_kinds and not self.disclosure_basis:
                raise ValueError(
                    "a public type about natural persons must cite its disclosure_basis"
                )
        elif self.publication.published:
            raise ValueError(
                f"a {self.disclosure.value} type is not published: use publication 0/0"
            )
        for item in self.fields:
            if item.disclosure is not None and item.disclosure.rank < self.disclosure.rank:
                raise ValueError(
                    f"field {item.name!r} is disclosed wider ({item.disclosure.value}) "
                    f"than its type ({self.disclosure.value})"
                )

    def _check_severity(self) -> None:
        by_severity = isinstance(self.publication, SeverityPublication)
        if by_severity and not self.has_severity:
            raise ValueError("publication by_severity needs has_severity: true")
        if not self.has_severity:
            if SEVERITY_FIELD in self._by_name:
                raise ValueError("a 'severity' field needs has_severity: true")
            return
        item = self._by_name.get(SEVERITY_FIELD)
        if item is None or item.type is not FieldType.ENUM:
            raise ValueError("has_severity needs an enum field named 'severity'")
        values = {v.value for v in item.enum or ()}
        if values != {s.value for s in Severity}:
            raise ValueError("the 'severity' field must have the values minor, general, serious")

    def _check_repair(self) -> None:
        if self.min_months_before_repair is None:
            return
        if not self.repairable:
            raise ValueError("min_months_before_repair is set but the type is not repairable")
        if self.min_months_before_repair > self.retention_months:
            raise ValueError("min_months_before_repair exceeds retention_months")

    def _check_dual_publicity(self) -> None:
        if self.dual_publicity is None:
            return
        columns = {f.column_zh for f in self.fields}
        missing = [c for c in DUAL_PUBLICITY_COLUMNS[self.dual_publicity] if c not in columns]
        if missing:
            raise ValueError(
                f"dual publicity {self.dual_publicity} type lacks the standard columns {missing}"
            )

    # ---- helpers

    def content_field(self, name: str) -> ContentField:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"record type {self.code!r} has no field {name!r}") from None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def retention(self) -> Period:
        return Period(months=self.retention_months)

    def retention_ends(self, decision_date: date) -> date:
        return self.retention.add_to(decision_date)

    def publication_ends(
        self, decision_date: date, severity: Severity | None = None
    ) -> date | None:
        return self.publication.ends(decision_date, severity)

    def column_map(self) -> dict[str, str]:
        """Header -> field name, for the Chinese column name and its aliases, their NFKC
        forms (half-width parentheses) and the English field name."""
        out: dict[str, str] = {}
        for item in self.fields:
            for header in item.headers:
                out[header] = item.name
                out[_nfkc(header)] = item.name
            out[item.name] = item.name
        return out


def _region_prefix(region: str) -> str:
    """The digits a region code shares with every region under it: ``3301`` for Hangzhou
    (330100), ``33`` for Zhejiang (330000), nothing for the nation (100000)."""
    if region == NATIONAL_REGION:
        return ""
    while region.endswith("00"):
        region = region[:-2]
    return region


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Problem:
    """A cross-reference problem: ``where`` is 'fields', 'departments' or 'types';
    ``code`` the offending entry, ``key`` its attribute."""

    where: Literal["fields", "departments", "types"]
    code: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} {self.code!r}.{self.key}: {self.message}"


def _duplicates(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for code in codes:
        if code in seen and code not in dupes:
            dupes.append(code)
        seen.add(code)
    return dupes


def reference_problems(
    fields: Iterable[Field],
    departments: Iterable[Department],
    types: Iterable[RecordType],
) -> list[Problem]:
    """Duplicate codes and dangling references between fields, departments and types."""
    fields = list(fields)
    departments = list(departments)
    types = list(types)
    problems: list[Problem] = []
    for where, codes in (
        ("fields", [f.code for f in fields]),
        ("departments", [d.code for d in departments]),
        ("types", [t.code for t in types]),
    ):
        for code in _duplicates(codes):
            problems.append(Problem(where, code, "code", f"duplicate code {code!r}"))  # type: ignore[arg-type]
    for uscc in _duplicates([d.uscc for d in departments if d.uscc]):
        first = next(d for d in departments if d.uscc == uscc)
        problems.append(
            Problem("departments", first.code, "uscc", f"uscc {uscc!r} names two departments")
        )
    field_codes = {f.code for f in fields}
    by_code = {d.code: d for d in departments}
    for dept in departments:
        if dept.parent is None:
            continue
        if dept.parent not in by_code:
            problems.append(
                Problem("departments", dept.code, "parent", f"unknown department {dept.parent!r}")
            )
            continue
        if by_code[dept.parent].branch is not dept.branch:
            problems.append(
                Problem(
                    "departments",
                    dept.code,
                    "branch",
                    f"{dept.branch.value} but its parent {dept.parent!r} is "
                    f"{by_code[dept.parent].branch.value}",
                )
            )
        seen = {dept.code}
        cursor: Department | None = by_code[dept.parent]
        while cursor is not None:
            if cursor.code in seen:
                problems.append(Problem("departments", dept.code, "parent", "parent cycle"))
                break
            seen.add(cursor.code)
            cursor = by_code.get(cursor.parent) if cursor.parent else None
    for rtype in types:
        if rtype.field not in field_codes:
            problems.append(Problem("types", rtype.code, "field", f"unknown field {rtype.field!r}"))
        for source in rtype.sources:
            if source != ANY_DEPARTMENT and source not in by_code:
                problems.append(
                    Problem("types", rtype.code, "sources", f"unknown department {source!r}")
                )
    return problems


@dataclass(frozen=True)
class CatalogueIndex:
    fields: dict[str, Field]
    departments: dict[str, Department]
    types: dict[str, RecordType]
    #: Department code by its unified social credit code (those that have one).
    departments_by_uscc: dict[str, str]
    #: Per type, the content fields no stricter than public, in schema order.
    public_fields: dict[str, tuple[str, ...]]


class Catalogue(_Model):
    """The versioned catalogue: fields, departments and record types."""

    version: str
    fields: tuple[Field, ...]
    departments: tuple[Department, ...]
    types: tuple[RecordType, ...]

    _digest: str = PrivateAttr(default="")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not value:
            raise ValueError("version must not be empty")
        return value

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        problems = reference_problems(self.fields, self.departments, self.types)
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        return self

    def model_post_init(self, context: Any, /) -> None:
        canonical = json.dumps(
            self.model_dump(mode="json"),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        self._digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON: records store it to name the catalogue they were
        validated against."""
        return self._digest

    # ---- lookups

    @cached_property
    def index(self) -> CatalogueIndex:
        """Built on first use and kept in the instance's own ``__dict__``: a public
        profile makes several lookups per record, and pydantic's private attributes
        cost a slow ``__getattr__`` each time."""
        return CatalogueIndex(
            fields={f.code: f for f in self.fields},
            departments={d.code: d for d in self.departments},
            types={t.code: t for t in self.types},
            departments_by_uscc={d.uscc: d.code for d in self.departments if d.uscc},
            public_fields={
                t.code: tuple(
                    f.name
                    for f in t.fields
                    if f.disclosure is None or f.disclosure is Disclosure.PUBLIC
                )
                for t in self.types
            },
        )

    def type(self, code: str) -> RecordType:
        try:
            return self.index.types[code]
        except KeyError:
            raise KeyError(f"unknown record type {code!r}") from None

    def department(self, code: str) -> Department:
        try:
            return self.index.departments[code]
        except KeyError:
            raise KeyError(f"unknown department {code!r}") from None

    def department_by_uscc(self, uscc: str) -> Department | None:
        """The department whose own code is ``uscc`` (as normalised), if the catalogue has it."""
        code = self.index.departments_by_uscc.get(uscc)
        return None if code is None else self.index.departments[code]

    def field(self, code: str) -> Field:
        try:
            return self.index.fields[code]
        except KeyError:
            raise KeyError(f"unknown field {code!r}") from None

    def has_type(self, code: str) -> bool:
        return code in self.index.types

    def public_fields(self, code: str) -> tuple[str, ...]:
        """Content fields of a type whose own disclosure is no stricter than public, in
        schema order; none for a type the catalogue no longer has."""
        return self.index.public_fields.get(code, ())

    @property
    def type_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.types)

    def types_in_field(self, field_code: str) -> tuple[RecordType, ...]:
        self.field(field_code)
        return tuple(t for t in self.types if t.field == field_code)

    def column_map(self, type_code: str) -> dict[str, str]:
        """Header (Chinese column name, its half-width form, or English field name) ->
        field name, for the given record type."""
        return self.type(type_code).column_map()

    def lineage(self, department_code: str) -> tuple[Department, ...]:
        """The department and its parents up to the national one."""
        out: list[Department] = []
        cursor: Department | None = self.department(department_code)
        while cursor is not None:
            out.append(cursor)
            cursor = self.index.departments.get(cursor.parent) if cursor.parent else None
        return tuple(out)

    def local_department(self, department_code: str, region: str | None) -> str:
        """The department of ``department_code``'s system closest to ``region`` (a GB/T 2260
        code): a municipal one whose city holds the region, else a provincial one whose
        province does, else the department itself. Where the system has no office for the
        region, or the region is unknown, the department named is competent."""
        if not region:
            return department_code
        best = self.department(department_code)
        for dept in self.index.departments.values():
            lineage = self.lineage(dept.code)
            if not any(d.code == department_code for d in lineage):
                continue
            if region.startswith(_region_prefix(dept.region)) and len(lineage) > len(
                self.lineage(best.code)
            ):
                best = dept
        return best.code

    def may_submit(self, type_code: str, department_code: str) -> bool:
        """Whether a department may submit records of a type: it, or a department above it
        in the same system, is one of the type's sources."""
        sources = self.type(type_code).sources
        if ANY_DEPARTMENT in sources:
            department = self.index.departments.get(department_code)
            return department is not None and department.branch is DepartmentBranch.ADMINISTRATIVE
        if department_code not in self.index.departments:
            return False
        return any(d.code in sources for d in self.lineage(department_code))
