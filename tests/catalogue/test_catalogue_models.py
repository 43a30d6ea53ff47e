"""The models' own invariants, independent of the shipped YAML."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from stdnum.cn import uscc as stdnum_uscc

from bonafides.catalogue import (
    Catalogue,
    ContentField,
    Department,
    Disclosure,
    Field,
    Period,
    PublicationRule,
    RecordType,
    Severity,
    SeverityPublication,
    reference_problems,
)


def _field(name: str, column: str, type_: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "column_zh": column, "title_en": name, "type": type_, **extra}


CORE = [
    _field("subject_name", "名称", required=True),
    _field("uscc", "统一社会信用代码", "uscc"),
    _field("id_number", "证件号码", disclosure="restricted"),
    _field("decision_no", "决定文书号", required=True),
    _field("decision_date", "决定日期", "date", required=True),
]
SEVERITY = _field(
    "severity",
    "失信行为严重程度",
    "enum",
    enum=[
        {"value": "minor", "label_zh": "轻微"},
        {"value": "general", "label_zh": "一般"},
        {"value": "serious", "label_zh": "严重"},
    ],
)


def _type(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "code": "market.example",
        "title_zh": "示例",
        "title_en": "Example",
        "field": "market",
        "polarity": "negative",
        "disclosure": "public",
        "publication": {"min_months": 12, "max_months": 36},
        "retention_months": 60,
        "subject_kinds": ["legal_person"],
        "sources": ["samr"],
        "legal_basis": ["《中华人民共和国行政处罚法》第四十八条"],
        "fields": CORE,
    }
    spec.update(overrides)
    return spec


def _error(spec: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        RecordType.model_validate(spec)
    return str(caught.value)


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
        (date(2026, 1, 15), 3, date(2026, 4, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2026, 6, 1), 36, date(2029, 6, 1)),
    ],
)
def test_period_add_to(start: date, months: int, expected: date) -> None:
    assert Period(months=months).add_to(start) == expected


def test_period_is_not_negative() -> None:
    with pytest.raises(ValidationError):
        Period(months=-1)


def test_publication_rule() -> None:
    rule = PublicationRule(min_months=3, max_months=12)
    assert rule.published
    assert rule.ends(date(2026, 1, 1)) == date(2027, 1, 1)
    assert rule.rule(Severity.SERIOUS) is rule
    hidden = PublicationRule(min_months=0, max_months=0)
    assert not hidden.published
    assert hidden.ends(date(2026, 1, 1)) is None
    with pytest.raises(ValidationError, match="greater than max_months"):
        PublicationRule(min_months=13, max_months=12)


def test_severity_publication() -> None:
    publication = SeverityPublication.model_validate(
        {
            "by_severity": {
                "minor": {"min_months": 0, "max_months": 0},
                "general": {"min_months": 3, "max_months": 12},
                "serious": {"min_months": 12, "max_months": 36},
            }
        }
    )
    assert publication.max_months == 36
    assert publication.ends(date(2026, 1, 1), Severity.MINOR) is None
    assert publication.ends(date(2026, 1, 1), Severity.SERIOUS) == date(2029, 1, 1)
    with pytest.raises(ValueError, match="severity"):
        publication.rule(None)


# ---------------------------------------------------------------- departments


def _organ_uscc() -> str:
    first17 = "11100000" + "MB0000001"
    return first17 + stdnum_uscc.calc_check_digit(first17)


def test_department_uscc_valid() -> None:
    code = _organ_uscc()
    dept = Department(
        code="x", name_zh="某局", name_en="X", level="national", region="100000", uscc=code
    )
    assert dept.uscc == code


def test_department_uscc_wrong_check_digit() -> None:
    code = _organ_uscc()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="not a valid unified social credit code"):
        Department(
            code="x", name_zh="某局", name_en="X", level="national", region="100000", uscc=wrong
        )


def test_department_uscc_must_be_an_organ() -> None:
    first17 = "91330100" + "MA0000001"
    company = first17 + stdnum_uscc.calc_check_digit(first17)
    assert stdnum_uscc.is_valid(company)
    with pytest.raises(ValidationError, match="starts with '11'"):
        Department(
            code="x", name_zh="某局", name_en="X", level="national", region="100000", uscc=company
        )


def test_department_region() -> None:
    with pytest.raises(ValidationError, match="6-digit"):
        Department(code="x", name_zh="某局", name_en="X", level="provincial", region="3300")
    with pytest.raises(ValidationError, match="region '100000'"):
        Department(code="x", name_zh="某局", name_en="X", level="national", region="330000")
    with pytest.raises(ValidationError, match="needs its own region"):
        Department(code="x", name_zh="某局", name_en="X", level="provincial", region="100000")


# ---------------------------------------------------------------- content fields


def test_content_field_extra_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ContentField.model_validate(_field("a", "甲", requird=True))


def test_enum_field_needs_values() -> None:
    with pytest.raises(ValidationError, match="needs a list of enum values"):
        ContentField.model_validate(_field("a", "甲", "enum"))
    with pytest.raises(ValidationError, match="has enum values"):
        ContentField.model_validate(_field("a", "甲", enum=[{"value": "x", "label_zh": "x"}]))
    with pytest.raises(ValidationError, match="duplicate value"):
        ContentField.model_validate(
            _field(
                "a",
                "甲",
                "enum",
                enum=[{"value": "x", "label_zh": "一"}, {"value": "x", "label_zh": "二"}],
            )
        )
    with pytest.raises(ValidationError, match="default 'z'"):
        ContentField.model_validate(
            _field("a", "甲", "enum", default="z", enum=[{"value": "x", "label_zh": "一"}])
        )


def test_field_name_must_be_snake_case() -> None:
    with pytest.raises(ValidationError, match="snake_case"):
        ContentField.model_validate(_field("SubjectName", "名称"))


def test_max_length_only_for_text() -> None:
    with pytest.raises(ValidationError, match="max_length"):
        ContentField.model_validate(_field("a", "甲", "date", max_length=10))


# ---------------------------------------------------------------- record types


def test_minimal_type_is_valid() -> None:
    rtype = RecordType.model_validate(_type())
    assert rtype.publication.max_months == 36
    assert rtype.retention_ends(date(2026, 1, 1)) == date(2031, 1, 1)
    assert rtype.column_map()["决定文书号"] == "decision_no"


def test_models_are_frozen() -> None:
    rtype = RecordType.model_validate(_type())
    with pytest.raises(ValidationError):
        rtype.retention_months = 1  # type: ignore[misc]


def test_negative_type_needs_legal_basis() -> None:
    assert "legal_basis" in _error(_type(legal_basis=[]))
    neutral = RecordType.model_validate(_type(polarity="neutral", legal_basis=[]))
    assert neutral.legal_basis == ()


def test_core_fields_required() -> None:
    fields = [f for f in CORE if f["name"] != "decision_no"]
    assert "'decision_no'" in _error(_type(fields=fields))
    optional = [dict(f, required=False) if f["name"] == "decision_date" else f for f in CORE]
    assert "must be required" in _error(_type(fields=optional))


def test_retention_covers_publication() -> None:
    assert "retention_months" in _error(_type(retention_months=24))


def test_public_person_type_needs_disclosure_basis() -> None:
    spec = _type(subject_kinds=["natural_person"], subject_code_fields=["id_number"])
    assert "disclosure_basis" in _error(spec)
    spec["disclosure_basis"] = "《某法》"
    assert RecordType.model_validate(spec).disclosure is Disclosure.PUBLIC


def test_person_type_needs_an_id_column() -> None:
    assert "ID" in _error(_type(subject_kinds=["natural_person"], disclosure_basis="《某法》"))


def test_non_public_type_is_not_published() -> None:
    assert "publication 0/0" in _error(_type(disclosure="shared"))
    shared = _type(disclosure="shared", publication={"min_months": 0, "max_months": 0})
    assert RecordType.model_validate(shared).disclosure is Disclosure.SHARED


def test_public_type_is_published() -> None:
    assert "publication period" in _error(_type(publication={"min_months": 0, "max_months": 0}))


def test_field_disclosure_not_wider_than_type() -> None:
    fields = [*CORE, _field("note", "说明", disclosure="public")]
    spec = _type(
        disclosure="restricted", publication={"min_months": 0, "max_months": 0}, fields=fields
    )
    assert "disclosed wider" in _error(spec)


def test_severity_needs_field_and_flag() -> None:
    by_severity = {
        "by_severity": {
            "minor": {"min_months": 0, "max_months": 3},
            "general": {"min_months": 3, "max_months": 12},
            "serious": {"min_months": 12, "max_months": 36},
        }
    }
    assert "has_severity" in _error(_type(publication=by_severity))
    assert "'severity'" in _error(_type(publication=by_severity, has_severity=True))
    ok = RecordType.model_validate(
        _type(publication=by_severity, has_severity=True, fields=[*CORE, SEVERITY])
    )
    assert isinstance(ok.publication, SeverityPublication)


def test_repair_settings() -> None:
    assert "not repairable" in _error(_type(min_months_before_repair=12))
    ok = RecordType.model_validate(_type(repairable=True, min_months_before_repair=12))
    assert ok.min_months_before_repair == 12


def test_duplicate_columns_refused() -> None:
    fields = [*CORE, _field("other_name", "名称")]
    assert "share the column" in _error(_type(fields=fields))


def test_dual_publicity_checks_columns() -> None:
    assert "standard columns" in _error(_type(dual_publicity="penalty"))


def test_wildcard_source_stands_alone() -> None:
    assert "must stand alone" in _error(_type(sources=["*", "samr"]))


def test_type_code_shape() -> None:
    assert "dotted snake_case" in _error(_type(code="market"))
    assert "dotted snake_case" in _error(_type(code="market.Penalty"))


# ---------------------------------------------------------------- catalogue


def _catalogue(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": "test",
        "fields": [Field(code="market", title_zh="市场监管", title_en="Market")],
        "departments": [
            Department(
                code="samr", name_zh="总局", name_en="SAMR", level="national", region="100000"
            )
        ],
        "types": [RecordType.model_validate(_type())],
    }
    spec.update(overrides)
    return spec


def test_catalogue_cross_references() -> None:
    catalogue = Catalogue.model_validate(_catalogue())
    assert catalogue.type("market.example").field == "market"
    with pytest.raises(ValidationError, match="unknown department 'nobody'"):
        Catalogue.model_validate(
            _catalogue(types=[RecordType.model_validate(_type(sources=["nobody"]))])
        )
    with pytest.raises(ValidationError, match="unknown field 'market'"):
        Catalogue.model_validate(_catalogue(fields=[]))
    rtype = RecordType.model_validate(_type())
    with pytest.raises(ValidationError, match=r"duplicate code 'market\.example'"):
        Catalogue.model_validate(_catalogue(types=[rtype, rtype]))


def test_department_parent_cycle() -> None:
    departments = [
        Department(
            code="a", name_zh="甲", name_en="A", level="provincial", region="330000", parent="b"
        ),
        Department(
            code="b", name_zh="乙", name_en="B", level="provincial", region="330000", parent="a"
        ),
    ]
    problems = reference_problems([], departments, [])
    assert {p.message for p in problems} == {"parent cycle"}


def test_digest_ignores_object_identity() -> None:
    first = Catalogue.model_validate(_catalogue())
    second = Catalogue.model_validate(_catalogue())
    assert first.digest == second.digest
    other = Catalogue.model_validate(_catalogue(version="test-2"))
    assert other.digest != first.digest


def test_a_department_shares_its_parents_branch() -> None:
    departments = [
        Department(
            code="court",
            name_zh="甲法院",
            name_en="A",
            level="national",
            region="100000",
            branch="judicial",
        ),
        Department(
            code="amr",
            name_zh="乙",
            name_en="B",
            level="provincial",
            region="330000",
            parent="court",
        ),
    ]
    problems = reference_problems([], departments, [])
    assert [(p.code, p.key) for p in problems] == [("amr", "branch")]
    assert "parent 'court' is judicial" in problems[0].message
