"""Every negative record type feeds a list, or the catalogue says why it feeds none."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bonafides.catalogue import Polarity
from bonafides.rules.coverage import coverage_problems, effect_of
from bonafides.rules.loader import packaged_rules
from bonafides.rules.model import ListRule, Rules

RULES = packaged_rules()


def test_every_packaged_negative_type_feeds_a_list_or_says_why_not() -> None:
    assert coverage_problems(RULES) == []


@pytest.mark.parametrize(
    ("type_code", "list_code"),
    [
        ("statistics.serious_dishonesty", "statistics.serious_dishonesty"),
        ("culture_tourism.dishonest_list", "culture_tourism.serious_dishonesty"),
        ("courts.consumption_restriction", "courts.consumption_restriction"),
        ("finance.securities_market_ban", "finance.securities_market_ban"),
    ],
)
def test_list_types_named_in_the_issue_drive_measures(type_code: str, list_code: str) -> None:
    """A list-type record puts its subject on a list, and that list carries measures
    with their legal basis: otherwise the record has no effect at all."""
    assert list_code in effect_of(RULES, type_code).lists
    measures = [m for _, m in RULES.measures.values() if list_code in m.lists]
    assert measures
    assert all(m.legal_basis for m in measures)


def test_a_negative_type_without_a_list_or_a_reason_is_found() -> None:
    wired = next(
        code
        for code, item in RULES.lists.items()
        if item.kind.value == "black"
        and all(
            len(RULES.lists_fed_by(t)) == 1
            for line in item.entry
            for t in RULES.types_of(line.match)
        )
    )
    fed = {t for line in RULES.lists[wired].entry for t in RULES.types_of(line.match)}
    ruleset = RULES.ruleset.model_copy(
        update={
            "lists": tuple(item for item in RULES.ruleset.lists if item.code != wired),
            "memoranda": tuple(
                memo.model_copy(
                    update={"measures": tuple(m for m in memo.measures if wired not in m.lists)}
                )
                for memo in RULES.ruleset.memoranda
            ),
        }
    )
    problems = coverage_problems(Rules(ruleset, RULES.catalogue))
    negative = {t for t in fed if RULES.catalogue.type(t).polarity is Polarity.NEGATIVE}
    assert negative
    assert {p.split(":")[0] for p in problems} == negative


def test_a_type_marked_no_list_that_the_rules_list_is_a_contradiction() -> None:
    marked = next(t for t in RULES.catalogue.types if t.no_list is not None)
    extra = ListRule.model_validate(
        {
            "code": "test.contradiction",
            "kind": "black",
            "title_zh": "测试",
            "title_en": "Test",
            "owner": RULES.catalogue.departments[0].code,
            "legal_basis": ["test"],
            "entry": [
                {
                    "explain_en": "test",
                    "explain_zh": "测试",
                    "match": {"types": [marked.code]},
                    "term": {"months": 12},
                }
            ],
        }
    )
    ruleset = RULES.ruleset.model_copy(update={"lists": (*RULES.ruleset.lists, extra)})
    problems = coverage_problems(Rules(ruleset, RULES.catalogue))
    assert problems == [
        f"{marked.code}: marked no_list but the rules put subjects on test.contradiction"
    ]


def test_only_a_negative_type_may_say_it_feeds_no_list() -> None:
    positive = next(t for t in RULES.catalogue.types if t.polarity is Polarity.POSITIVE)
    body = positive.model_dump(mode="json", exclude_defaults=False)
    body["no_list"] = "a reason long enough to pass the length check"
    body["no_list_zh"] = "足够长的理由，能通过长度检查"
    with pytest.raises(ValidationError, match="negative"):
        type(positive).model_validate(body)


def test_the_reason_is_given_in_both_languages() -> None:
    marked = next(t for t in RULES.catalogue.types if t.no_list is not None)
    body = marked.model_dump(mode="json")
    body["no_list_zh"] = None
    with pytest.raises(ValidationError, match="both languages"):
        type(marked).model_validate(body)
