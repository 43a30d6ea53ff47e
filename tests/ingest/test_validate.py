"""Row validation corner cases that real catalogues and exports produce."""

from __future__ import annotations

import datetime as dt

import pytest

from bonafides.catalogue import load_catalogue
from bonafides.ingest.validate import RowValidator
from tests import factories

TODAY = dt.date(2026, 11, 27)


def _validator(type_code: str, header: list[str], source: str) -> RowValidator:
    return RowValidator(
        load_catalogue(), type_code, source, header, today=TODAY, seal=lambda s: "sealed:" + s
    )


def test_enum_value_spelled_like_empty_is_a_value() -> None:
    """An enum whose value is spelled 无 must not vanish as an empty cell."""
    rtype = load_catalogue().type("healthcare.insurance_fraud")
    spec = rtype.content_field("agreement_measure")
    assert "无" in spec.enum_lookup()
    row = factories.content_row(rtype, factories.org(), header="en", agreement_measure="无")
    check = _validator(rtype.code, list(row), rtype.sources[0]).check(2, row)
    assert check.rejections == []
    assert check.record is not None
    assert check.record.content["agreement_measure"] == spec.enum_lookup()["无"]


def test_empty_marker_still_empties_other_fields() -> None:
    rtype = load_catalogue().type("healthcare.insurance_fraud")
    optional = next(
        f.name for f in rtype.fields if not f.required and f.type.value in ("string", "text")
    )
    row = factories.content_row(rtype, factories.org(), header="en")
    row[optional] = "无"
    check = _validator(rtype.code, list(row), rtype.sources[0]).check(2, row)
    assert check.record is not None
    assert optional not in check.record.content


def test_multi_value_labels_containing_the_enumeration_comma() -> None:
    rtype = load_catalogue().type("courts.defaulter")
    spec = rtype.content_field("dishonest_conduct")
    assert spec.multiple
    assert spec.enum is not None
    with_comma = [e for e in spec.enum if "、" in e.label_zh]
    plain = [e for e in spec.enum if "、" not in e.label_zh]
    assert with_comma
    assert plain
    raw = f"{with_comma[0].label_zh}；{plain[0].label_zh}"
    row = factories.content_row(rtype, factories.org(), header="en", dishonest_conduct=raw)
    check = _validator(rtype.code, list(row), "spc").check(2, row)
    assert check.rejections == []
    assert check.record is not None
    assert check.record.content["dishonest_conduct"] == f"{with_comma[0].value};{plain[0].value}"
    joined = f"{plain[0].label_zh}、{plain[-1].label_zh}"
    row = factories.content_row(rtype, factories.org(), header="en", dishonest_conduct=joined)
    check = _validator(rtype.code, list(row), "spc").check(2, row)
    assert check.record is not None
    assert check.record.content["dishonest_conduct"] == f"{plain[0].value};{plain[-1].value}"


@pytest.mark.parametrize(
    ("decided", "future"),
    [(TODAY - dt.timedelta(days=1), False), (TODAY, False), (TODAY + dt.timedelta(days=1), True)],
    ids=["yesterday", "today", "tomorrow"],
)
def test_a_decision_is_in_the_future_from_tomorrow(decided: dt.date, future: bool) -> None:
    rtype = load_catalogue().type("market.penalty")
    row = factories.content_row(rtype, factories.org(), decision_date=decided)
    check = _validator(rtype.code, list(row), "samr").check(2, row)
    reasons = [r.reason for r in check.rejections]
    assert ("is in the future" in reasons) is future
    assert (check.record is None) is future
