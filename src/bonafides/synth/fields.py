"""Field producers: the clean value of each content field of a record type.

A record type's schema is data (the catalogue YAML), so the plan for a type is compiled
once from its fields: a producer per field chosen by the field's name where the generator
knows what the name means (``fine_amount_10k_yuan``, ``valid_until``), and otherwise by its
type and Chinese column name, so a type added to the catalogue later still gets plausible
values. A producer returns the clean value or None (the field does not apply); required
fields always get a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bonafides.catalogue import ContentField, FieldType, RecordType
from bonafides.synth import texts
from bonafides.synth.choices import enum_producer
from bonafides.synth.draw import Producer
from bonafides.synth.memos import (
    ANY_PENALTY,
    amount,
    facts,
    honour,
    local_court,
    period_end,
    third_party_name,
    third_party_uscc,
    violation,
)
from bonafides.synth.names import person_name
from bonafides.synth.producers import NAMED, address, penalty_fields, removal_date


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """How one content field is produced and written."""

    name: str
    type: FieldType
    produce: Producer
    fill: float  # chance an applicable optional value is actually filled in
    in_content: bool  # subject code fields identify the subject and stay out of content
    labels: dict[str, str]  # enum value -> Chinese label
    max_length: int | None
    multiple: bool
    fallback: Producer | None  # required fields: a value when the named producer has none
    default: str | None  # what ingest stores when the cell is empty
    sensitive: bool  # a person's ID number: ingest stores it masked (principle 5)


def _generic_date(name: str) -> Producer:
    if "removal" in name or "lifted" in name or "exit" in name:
        return removal_date
    if "until" in name or name.endswith("_to") or "expir" in name or "end" in name:
        return period_end
    if "deadline" in name:
        return lambda d: d.after(15, 90, cap=False)
    if "from" in name or "start" in name:
        return lambda d: d.decided
    if any(w in name for w in ("filing", "incident", "due", "occur")):
        return lambda d: d.before(30, 300)
    return lambda d: d.after(0, 5)


def _generic_integer(name: str) -> Producer:
    if "year" in name:
        return lambda d: d.decided.year - 1
    if "worker" in name or "people" in name or "persons" in name:
        return lambda d: d.days(3, 120)
    return lambda d: d.days(1, 30)


def _generic_decimal(name: str) -> Producer:
    if "score" in name or "rate" in name:
        return lambda d: f"{60 + 40 * d.rng.random():.1f}"
    if "10k" in name:
        return lambda d: amount(d, 0.5, 500)
    return lambda d: amount(d, 500, 5_000_000)


def _generic_text(spec: ContentField, rtype: RecordType) -> Producer:
    column = spec.column_zh
    if "依据" in column:
        return lambda d: "；".join(d.rtype.legal_basis) or violation(d).law
    if any(w in column for w in ("事实", "情形", "原因", "事由", "行为", "情况", "描述")):
        return facts
    if "commitment" in rtype.code or "承诺" in column:
        return lambda d: texts.COMMITMENT_TEXT
    if rtype.code.endswith("commendation") or "表彰" in column:
        return lambda d: honour(d)[1]
    if any(w in column for w in ("处罚", "处理", "结果", "措施")):
        return lambda d: ANY_PENALTY(d).content
    return lambda d: texts.GENERIC_TEXT


def _generic_string(spec: ContentField) -> Producer:
    column = spec.column_zh
    if "法院" in column:
        return local_court
    if any(w in column for w in ("姓名", "人员", "负责人", "代表人")):
        return lambda d: person_name(d.rng, male=d.rng.random() < 0.6)[0]
    if any(w in column for w in ("机关", "部门")):
        return lambda d: d.dept.name_zh if d.dept else None
    if "名称" in column:
        return third_party_name
    if any(w in column for w in ("地址", "地点", "住所", "场所")):
        return address
    if any(w in column for w in ("编号", "号码", "代码", "文号", "号")):
        return lambda d: f"{d.decided.year}{d.days(0, 999999):06d}"
    return lambda d: texts.GENERIC_TEXT


def _generic(spec: ContentField, rtype: RecordType) -> Producer:
    kind = spec.type
    if kind is FieldType.DATE:
        return _generic_date(spec.name)
    if kind is FieldType.INTEGER:
        return _generic_integer(spec.name)
    if kind is FieldType.DECIMAL:
        return _generic_decimal(spec.name)
    if kind is FieldType.BOOLEAN:
        return lambda d: d.rng.random() < 0.3
    if kind is FieldType.ENUM:
        return enum_producer(spec)
    if kind is FieldType.USCC:
        if any(w in spec.name for w in ("authority", "unit", "dept")):
            return lambda d: d.dept.uscc if d.dept else None
        return third_party_uscc
    if kind is FieldType.CODE:
        return lambda d: d.ref.code if d.ref else None
    if kind is FieldType.TEXT:
        return _generic_text(spec, rtype)
    return _generic_string(spec)


#: Chance an optional field that applies is filled in; the rest of the time the exporting
#: system left it empty.
FILL_RATES: Final[dict[str, float]] = {
    "remarks": 0.08,
    "legal_representative": 0.92,
    "address": 0.8,
    "certificate_name": 0.9,
    "licence_no": 0.85,
    "penalty_valid_until": 0.9,
}
DEFAULT_FILL: Final = 0.85
#: Fields whose value, when it applies, is always there (it follows from the decision).
ALWAYS: Final = frozenset(
    {
        "uscc",
        "id_number",
        "id_type",
        "subject_category",
        "severity",
        "publication_until",
        "fine_amount_10k_yuan",
        "confiscated_amount_10k_yuan",
        "licence_suspended_or_revoked",
        "removal_date",
        "removal_reason",
        "removal_authority",
        "lifted_date",
        "legal_representative_id_type",
        "legal_representative_id_number",
        "gender",
        "score",
    }
)


def is_sensitive(spec: ContentField, rtype: RecordType) -> bool:
    """Fields that carry a person's ID number, by the rule ingest applies."""
    return spec.name.endswith("id_number") or (
        spec.name in rtype.subject_code_fields and spec.type is not FieldType.USCC
    )


def compile_plan(rtype: RecordType) -> tuple[FieldPlan, ...]:
    """The producers of one record type, in schema order (the order of the file's columns)."""
    penalty = (
        penalty_fields(rtype) if any(f.name == "penalty_category" for f in rtype.fields) else {}
    )
    plans: list[FieldPlan] = []
    for spec in rtype.fields:
        if spec.name in penalty:
            produce = penalty[spec.name]
        elif spec.name in NAMED:
            produce = NAMED[spec.name](spec)
        else:
            produce = _generic(spec, rtype)
        fill = (
            1.0 if spec.required or spec.name in ALWAYS else FILL_RATES.get(spec.name, DEFAULT_FILL)
        )
        plans.append(
            FieldPlan(
                name=spec.name,
                type=spec.type,
                produce=produce,
                fill=fill,
                in_content=spec.name not in rtype.subject_code_fields,
                labels={e.value: e.label_zh for e in spec.enum or ()},
                max_length=spec.max_length,
                multiple=spec.multiple,
                fallback=_generic(spec, rtype) if spec.required else None,
                default=spec.default,
                sensitive=is_sensitive(spec, rtype),
            )
        )
    return tuple(plans)
