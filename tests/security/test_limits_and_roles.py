"""Pure parts: token buckets, the role table, audiences and the inquirer's actions."""

from __future__ import annotations

import datetime as dt

import pytest

from bonafides.catalogue import load_catalogue
from bonafides.disclosure import Audience
from bonafides.rules.loader import rules_for
from bonafides.security.ratelimit import Rate, TokenBuckets
from bonafides.security.roles import (
    ANONYMOUS,
    ROLE_SCOPES,
    Principal,
    Role,
    Scope,
    audience_for,
    department_actions,
    field_visible,
    may_screen,
    parse_scopes,
    record_visible,
)

CATALOGUE = load_catalogue()
RULES = rules_for(CATALOGUE)
TODAY = dt.date(2026, 3, 2)


class Ticks:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_allows_a_burst_then_refills_evenly() -> None:
    ticks = Ticks()
    buckets = TokenBuckets(now=ticks)
    rate = Rate(3, 60.0)
    decisions = [buckets.hit("a", rate) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    refused = decisions[3]
    assert refused.retry_after == 20
    assert refused.headers()["Retry-After"] == "20"
    assert refused.headers()["RateLimit-Limit"] == "3"
    assert buckets.hit("b", rate).allowed, "buckets are independent"
    ticks.t += 20
    assert buckets.hit("a", rate).allowed
    assert not buckets.hit("a", rate).allowed


def test_a_zero_cost_hit_asks_without_taking() -> None:
    buckets = TokenBuckets(now=Ticks())
    rate = Rate(2, 60.0)
    assert all(buckets.hit("a", rate, cost=0).allowed for _ in range(5))
    assert [buckets.hit("a", rate).allowed for _ in range(3)] == [True, True, False]
    assert not buckets.hit("a", rate, cost=0).allowed


def test_bucket_memory_is_bounded() -> None:
    buckets = TokenBuckets(max_buckets=10, now=Ticks())
    for n in range(50):
        buckets.hit(f"ip:{n}", Rate(1))
    assert len(buckets._buckets) == 10


def test_roles_hold_only_their_scopes() -> None:
    assert ROLE_SCOPES[Role.PUBLIC] == frozenset()
    assert Scope.ADMIN in ROLE_SCOPES[Role.OPERATOR]
    assert all(Scope.ADMIN not in ROLE_SCOPES[r] for r in Role if r is not Role.OPERATOR)
    assert Scope.RECORDS_SUBMIT in ROLE_SCOPES[Role.OFFICER]
    assert Scope.RECORDS_SUBMIT not in ROLE_SCOPES[Role.INQUIRER]
    assert Scope.SCREEN not in ROLE_SCOPES[Role.OFFICER]
    assert parse_scopes(Role.INQUIRER, ["screen"]) == {Scope.SCREEN}
    with pytest.raises(ValueError, match="cannot hold"):
        parse_scopes(Role.SUBJECT, ["files:read"])
    with pytest.raises(ValueError, match="at least one"):
        parse_scopes(Role.OFFICER, [])


def _who(role: Role, **kw: str) -> Principal:
    return Principal(role=role, scopes=ROLE_SCOPES[role], username="x", **kw)  # type: ignore[arg-type]


def test_audiences() -> None:
    firm = "91110105000000011X"
    assert audience_for(ANONYMOUS, subject_key=firm) is Audience.PUBLIC
    assert audience_for(_who(Role.OPERATOR), subject_key=firm) is Audience.OPERATOR
    own = _who(Role.SUBJECT, subject_key=firm)
    assert audience_for(own, subject_key=firm) is Audience.SUBJECT
    assert audience_for(own, subject_key="other") is Audience.PUBLIC
    officer = _who(Role.OFFICER, department="samr")
    assert audience_for(officer, subject_key=firm) is Audience.AUTHORITY
    assert audience_for(officer, subject_key=firm, special_inquiry=True) is Audience.RESTRICTED
    no_read = Principal(role=Role.INQUIRER, department="pboc", scopes=frozenset({Scope.SCREEN}))
    assert audience_for(no_read, subject_key=firm) is Audience.PUBLIC


def test_source_department_sees_its_own_subject_only_records() -> None:
    def sees(principal: Principal, source: str) -> bool:
        return record_visible(
            CATALOGUE,
            principal,
            audience_for(principal, subject_key="k"),
            source=source,
            disclosure="subject_only",
            status="active",
            published_until=None,
            adult_from=None,
            decision_date=TODAY,
            today=TODAY,
        )

    assert sees(_who(Role.OFFICER, department="samr"), "samr")
    assert sees(_who(Role.OFFICER, department="samr"), "hz_amr"), "a department below it"
    assert not sees(_who(Role.OFFICER, department="hz_amr"), "samr"), "not the one above"
    assert not sees(_who(Role.OFFICER, department="mee"), "samr")
    assert not sees(ANONYMOUS, "samr")


def test_stricter_fields_need_the_stricter_audience() -> None:
    assert field_visible(Audience.PUBLIC, None)
    assert not field_visible(Audience.PUBLIC, "restricted")
    assert not field_visible(Audience.AUTHORITY, "restricted")
    assert field_visible(Audience.RESTRICTED, "restricted")
    assert field_visible(Audience.SUBJECT, "subject_only")


def test_inquirer_screens_only_for_its_departments_actions() -> None:
    mof = department_actions(RULES, CATALOGUE, "mof")
    assert "procurement.bid" in mof
    inquirer = _who(Role.INQUIRER, department="mof")
    assert may_screen(inquirer, "procurement.bid", RULES, CATALOGUE)
    outside = sorted(set(RULES.actions) - mof)
    assert outside, "some action is not the ministry of finance's"
    assert not may_screen(inquirer, outside[0], RULES, CATALOGUE)
    assert not may_screen(_who(Role.OFFICER, department="mof"), "procurement.bid", RULES, CATALOGUE)
    assert not may_screen(ANONYMOUS, "procurement.bid", RULES, CATALOGUE)
    assert may_screen(_who(Role.OPERATOR), outside[0], RULES, CATALOGUE)
