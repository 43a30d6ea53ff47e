"""Weighted choices, and the values enum fields take.

An enum in the catalogue is a closed list, but decisions do not spread evenly over it
(most inspections find nothing wrong, most taxpayers are graded B), and role-like enums
hold values that fit only a person or only an organisation.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from itertools import accumulate
from typing import Any, Final

from bonafides.catalogue import ContentField
from bonafides.normalise import EMPTY_MARKERS
from bonafides.synth.draw import Draw


def choice(values: tuple[str, ...], weights: tuple[float, ...]) -> Callable[[Draw], str]:
    cumulative = tuple(accumulate(weights))
    total = cumulative[-1]

    def choose(d: Draw) -> str:
        index = bisect.bisect_right(cumulative, d.rng.random() * total)
        return values[min(index, len(values) - 1)]

    return choose


def pick(d: Draw, items: tuple[Any, ...]) -> Any:
    return items[int(d.rng.random() * len(items))]


#: Known enum fields: value -> relative frequency (values not named get weight 1).
ENUM_WEIGHTS: Final[dict[str, dict[str, float]]] = {
    "grade": {"A": 15, "B": 55, "M": 15, "C": 10, "D": 5},
    "rating": {"green": 20, "blue": 55, "yellow": 18, "red": 7},
    "credit_grade": {
        "advanced_certified": 5,
        "general_certified": 3,
        "general": 85,
        "dishonest": 7,
    },
    "honour_level": {"national": 3, "provincial": 17, "municipal": 40, "county": 40},
    "licence_category": {
        "ordinary": 60,
        "registration": 15,
        "approval": 12,
        "accreditation": 6,
        "franchise": 2,
        "other": 5,
    },
    "inspection_result": {
        "no_issue": 70,
        "corrected": 12,
        "referred": 5,
        "no_activity": 5,
        "unreachable": 8,
    },
    "performance": {"none": 70, "partial": 30},
    "rectification_status": {"completed": 60, "in_progress": 30, "overdue": 10},
    "commitment_type": {
        "approval_substitute": 40,
        "missing_documents": 25,
        "industry_self_discipline": 10,
        "credit_repair": 15,
        "voluntary": 10,
    },
    "transport_mode": {"freight": 75, "passenger": 20, "dangerous_goods": 5},
    "abnormal_reason": {
        "no_annual_report": 70,
        "unreachable": 22,
        "no_information_on_order": 5,
        "false_information": 3,
    },
    "incident_level": {"ordinary": 85, "larger": 12, "major": 2.5, "especially_major": 0.5},
}

#: Enum values that only fit a natural person (or only an organisation, by exclusion).
_PERSONAL_WORDS: Final = ("person", "professional", "guide", "representative", "natural")


def _personal(value: str, label: str) -> bool:
    return any(w in value for w in _PERSONAL_WORDS) or any(
        w in label for w in ("人员", "导游", "自然人", "个人", "代表人")
    )


def enum_producer(spec: ContentField) -> Callable[[Draw], str]:
    """Weighted choice among the field's own values; a role-like enum with values for
    persons and for organisations picks from the side that fits the subject."""
    # A value whose code and label both read as "empty" (none / 无) cannot be submitted.
    items = tuple(
        e
        for e in spec.enum or ()
        if e.value not in EMPTY_MARKERS or e.label_zh not in EMPTY_MARKERS
    ) or tuple(spec.enum or ())
    weights_by_value = ENUM_WEIGHTS.get(spec.name, {})

    def weight(i: int, value: str) -> float:
        if value in weights_by_value:
            return weights_by_value[value]
        if weights_by_value:
            return 1.0
        return 0.5 if value == "other" else (3.0 if i == 0 else 1.0)

    def side(personal: bool) -> Callable[[Draw], str] | None:
        picked = [
            (i, e.value) for i, e in enumerate(items) if _personal(e.value, e.label_zh) is personal
        ]
        if not picked:
            return None
        return choice(tuple(v for _, v in picked), tuple(weight(i, v) for i, v in picked))

    every = choice(
        tuple(e.value for e in items), tuple(weight(i, e.value) for i, e in enumerate(items))
    )
    for_person, for_org = side(True), side(False)
    if for_person is None or for_org is None:
        return every
    person_side, org_side = for_person, for_org
    return lambda d: person_side(d) if d.person else org_side(d)
