"""The rule language and the packaged rules: what loads, what is refused, and principles 2, 3, 7."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bonafides.catalogue import load_catalogue
from bonafides.records import SubjectKind
from bonafides.rules.dates import add_months, term_end
from bonafides.rules.evaluate import evaluator_for
from bonafides.rules.facts import Entry, RecordFacts, SubjectFacts
from bonafides.rules.loader import load_rules, packaged_rules
from bonafides.rules.model import GradeScheme, ListKind, Rules, RuleSetError
from bonafides.screening.answer import applying
from tests.rules.generate import FEATURES

RULES = packaged_rules()


def test_packaged_rules_cover_what_the_issue_asks() -> None:
    kinds = [rule.kind for rule in RULES.lists.values()]
    assert kinds.count(ListKind.BLACK) >= 10
    assert kinds.count(ListKind.RED) >= 4
    assert len(RULES.actions) >= 10
    assert len(RULES.measures) >= 40
    assert len({m.department for _, m in RULES.measures.values()}) >= 12
    departments = {d.code for d in RULES.catalogue.departments}
    assert all(rule.owner in departments and rule.legal_basis for rule in RULES.lists.values())


def test_every_list_line_ends() -> None:
    """Principle 2: every line has a finite term, so no entry can be open-ended."""
    for rule in RULES.lists.values():
        for line in rule.entry:
            assert line.term.months > 0
            assert line.term.cap_months <= 60, rule.code


def test_every_measure_names_actions_and_a_legal_basis() -> None:
    """Principle 3, in the data: basis, actions, lists and department for every measure."""
    for memo, measure in RULES.measures.values():
        assert measure.actions
        assert all(a in RULES.actions for a in measure.actions)
        assert measure.legal_basis
        assert all(b.strip() for b in measure.legal_basis)
        assert measure.department in memo.departments
        assert all(code in RULES.lists for code in measure.lists)


@given(
    action=st.sampled_from(sorted(RULES.actions)),
    lists=st.lists(st.sampled_from(sorted(RULES.lists)), min_size=1, max_size=6),
    start=st.dates(dt.date(2020, 1, 1), dt.date(2027, 1, 1)),
    days=st.integers(0, 2000),
    asked=st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
)
def test_a_measure_applies_only_to_named_actions_within_its_entry(
    action: str, lists: list[str], start: dt.date, days: int, asked: dt.date
) -> None:
    """Principle 3, in the engine: whatever entries exist, the answer for an action holds
    only measures naming it, and only on days inside an entry behind them."""
    until = start + dt.timedelta(days=days)
    entries = [Entry(code, 1, 1, i, start, until, "term", (i,)) for i, code in enumerate(lists)]
    for _, measure, behind in applying(RULES, action, asked, entries):
        assert action in measure.actions
        assert all(entry.list_code in measure.lists for entry in behind)
        assert all(entry.valid_from <= asked <= entry.valid_until for entry in behind)


def test_month_arithmetic_clamps_to_the_end_of_the_month() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 3, 31), -1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 12, 15), 14) == dt.date(2025, 2, 15)
    assert term_end(dt.date(2024, 3, 1), 24) == dt.date(2026, 2, 28)


def test_natural_persons_are_never_graded() -> None:
    """Principle 7: a person with a major tax violation has no tax grade; an organisation does."""
    evaluator = evaluator_for(RULES)
    record = RecordFacts(1, 1, "tax.major_violation", "sta", "active", dt.date(2025, 1, 1))
    day = dt.date(2025, 6, 1)
    person = SubjectFacts(1, SubjectKind.NATURAL_PERSON.value)
    firm = SubjectFacts(1, SubjectKind.LEGAL_PERSON.value)
    assert evaluator.grades(person, [record], day) == []
    assert [g.grade for g in evaluator.grades(firm, [record], day)] == ["D"]
    with pytest.raises(ValidationError, match="never graded"):
        GradeScheme.model_validate(
            {
                "code": "people",
                "field": "tax",
                "title_zh": "人",
                "title_en": "People",
                "owner": "sta",
                "legal_basis": ["none"],
                "values": ["A"],
                "subject_kinds": ["natural_person"],
                "lines": [
                    {
                        "explain_en": "x",
                        "explain_zh": "某",
                        "grade": "A",
                        "match": {"types": ["tax.penalty"]},
                        "within_months": 1,
                    }
                ],
            }
        )


def test_minors_are_never_listed() -> None:
    evaluator = evaluator_for(RULES)
    record = RecordFacts(1, 1, "courts.defaulter", "spc", "active", dt.date(2025, 1, 1))
    minor = SubjectFacts(1, SubjectKind.NATURAL_PERSON.value, adult_from=dt.date(2025, 1, 2))
    adult = SubjectFacts(1, SubjectKind.NATURAL_PERSON.value, adult_from=dt.date(2025, 1, 1))
    assert evaluator.entries(minor, [record]) == []
    assert len(evaluator.entries(adult, [record])) == 1


# --------------------------------------------------------------------------- refusals


def _with(tmp_path: Path, change: Any) -> Rules:
    """The feature rule set with one change applied, loaded from a copy."""
    data = yaml.safe_load((FEATURES / "rules.yaml").read_text("utf-8"))
    change(data)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return load_rules(load_catalogue(), tmp_path)


def _first_line(data: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = data["lists"][0]["entry"][0]
    return line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _first_line(d)["match"].update(types=["no.such_type"]), "unknown record types"),
        (
            lambda d: _first_line(d)["match"].update(where=[{"field": "nope", "eq": "x"}]),
            "field 'nope'",
        ),
        (
            lambda d: _first_line(d)["match"].update(where=[{"field": "performance", "gte": 3}]),
            "cannot be compared",
        ),
        (
            lambda d: _first_line(d)["match"].update(where=[{"field": "performance", "eq": "all"}]),
            "no values",
        ),
        (lambda d: _first_line(d)["term"].update(until_field="performance"), "date field"),
        (lambda d: d["lists"][0].update(owner="nobody"), "unknown owner"),
        (lambda d: d["memoranda"][0]["measures"][0].update(actions=["fly.away"]), "unknown action"),
        (lambda d: d["memoranda"][0]["measures"][0].update(lists=["f.red"]), "cannot follow"),
        (lambda d: d["memoranda"][0]["measures"][0].update(department="mee"), "did not sign"),
        (lambda d: d["memoranda"][0]["measures"][0].update(legal_basis=[]), "at least 1"),
        (lambda d: d["memoranda"][0]["measures"][0].update(actions=[]), "at least 1"),
        (lambda d: d["lists"][0].update(colour="black"), "Extra inputs"),
        (lambda d: d["lists"][1].update(code="f.start_field"), "duplicate list code"),
        (lambda d: _first_line(d).update(at_least=2), "within_months"),
        (lambda d: _first_line(d)["match"].update(statuses=["revoked"]), "never count"),
        (lambda d: _first_line(d)["term"].update(months=0), "greater than 0"),
        (lambda d: _first_line(d).pop("explain_zh"), "explain_zh"),
        (lambda d: _first_line(d).pop("explain_en"), "explain_en"),
        (lambda d: _first_line(d).update(explain_zh="defaulter"), "no Chinese text"),
        (lambda d: _first_line(d).update(explain_en="失信被执行人"), "no English text"),
        (lambda d: d["grades"][0]["lines"][0].pop("explain_zh"), "explain_zh"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(RuleSetError, match=message):
        _with(tmp_path, change)


def test_every_packaged_rule_line_explains_itself_in_both_languages() -> None:
    lines = [line for rule in RULES.lists.values() for line in rule.entry] + [
        line for scheme in RULES.grades.values() for line in scheme.lines
    ]
    assert len(lines) >= 27
    for line in lines:
        assert line.explain_in("zh") == line.explain_zh != line.explain_en == line.explain
        assert "#" not in line.explain_zh + line.explain_en, "no rule ids in the words"


def test_the_feature_rules_load(tmp_path: Path) -> None:
    rules = _with(tmp_path, lambda d: None)
    assert set(rules.lists) == {"f.start_field", "f.after", "f.count", "f.ranges", "f.red"}


def test_docs_describe_every_list_action_measure_and_grade() -> None:
    """docs/rules.md is kept honest: a rule added to the data must be documented."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text("utf-8")
    codes = [*RULES.lists, *RULES.actions, *RULES.measures, *(f"**{g}**" for g in RULES.grades)]
    missing = [
        code for code in codes if (code if code.startswith("**") else f"`{code}`") not in text
    ]
    assert missing == []
