"""The one disclosure rule: the Python predicate and the SQL clause, case by case.

Every read path (profile, search, reports, public lists, exports, home page counts) asks
one of these two, so each line of the rule has a row here that fails if it is dropped or
its boundary moved by a day. The SQL clause runs on both stores over real rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

import pytest
from sqlalchemy import select

from bonafides.codes import make_resident_id, parse_resident_id
from bonafides.context import Context
from bonafides.disclosure import (
    COUNTED_RULE,
    PUBLIC_RULE,
    Audience,
    RecordFacts,
    publicly_visible,
    visible,
)
from bonafides.records import RecordInput, RecordStatus, SubjectKind, SubjectRef
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.disclosure import record_is_public, rule_columns
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import Record, RecordType, Subject

#: Born 2008-03-01: a minor up to and including 2026-02-28, an adult from 2026-03-01.
BORN = dt.date(2008, 3, 1)
ADULT_FROM = parse_resident_id(make_resident_id("110105", BORN, 7)).adult_from
TODAY = dt.date(2026, 12, 1)

#: A type of each class: the public one is published, the others never are.
TYPE_OF_CLASS = {
    "public": "courts.defaulter",
    "shared": "tax.credit_grade",
    "restricted": "procuratorate.bribery_record",
}


@dataclass(frozen=True)
class Case:
    name: str
    public: bool
    decided: dt.date = dt.date(2026, 6, 1)
    person: bool = True
    disclosure: str = "public"
    status: RecordStatus = RecordStatus.ACTIVE
    published_until: dt.date | None = dt.date(2030, 1, 1)
    today: dt.date = TODAY
    retention_until: dt.date | None = dt.date(2040, 1, 1)


CASES = [
    Case("adult at the decision", True, decided=dt.date(2026, 6, 1)),
    Case("decided a year before the 18th birthday", False, decided=dt.date(2025, 12, 1)),
    Case("decided the day before the 18th birthday", False, decided=dt.date(2026, 2, 28)),
    Case("decided on the 18th birthday", True, decided=dt.date(2026, 3, 1)),
    Case(
        "decided as a minor, read the day before the birthday",
        False,
        decided=dt.date(2026, 2, 1),
        today=dt.date(2026, 2, 28),
    ),
    Case(
        "decided on the birthday, read that day",
        True,
        decided=dt.date(2026, 3, 1),
        today=dt.date(2026, 3, 1),
    ),
    Case(
        "a minor today, whatever the decision's date says",
        False,
        decided=dt.date(2026, 3, 1),
        today=dt.date(2026, 2, 28),
    ),
    Case("an organisation", True, decided=dt.date(2025, 12, 1), person=False),
    Case("shared class", False, disclosure="shared"),
    Case("restricted class", False, disclosure="restricted"),
    Case("under objection still counts", True, status=RecordStatus.UNDER_OBJECTION),
    Case("corrected still counts", True, status=RecordStatus.CORRECTED),
    Case("revoked", False, status=RecordStatus.REVOKED),
    Case("repaired", False, status=RecordStatus.REPAIRED),
    Case("expired", False, status=RecordStatus.EXPIRED),
    Case("never published", False, published_until=None),
    Case("last day of publication", True, published_until=TODAY),
    Case("publication ended yesterday", False, published_until=TODAY - dt.timedelta(days=1)),
    Case("last day of retention", True, retention_until=TODAY),
    Case("retention ended yesterday", False, retention_until=TODAY - dt.timedelta(days=1)),
]


def _adult_from(case: Case) -> dt.date | None:
    return ADULT_FROM if case.person else None


def test_the_age_boundary_comes_from_the_resident_id() -> None:
    assert dt.date(2026, 3, 1) == ADULT_FROM


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_predicate(case: Case) -> None:
    def seen_by(audience: Audience | None) -> bool:
        ask = partial(
            publicly_visible if audience is None else partial(visible, audience),
            disclosure=case.disclosure,
            status=case.status.value,
            published_until=case.published_until,
            adult_from=_adult_from(case),
            decision_date=case.decided,
            today=case.today,
            retention_until=case.retention_until,
        )
        return bool(ask())

    assert seen_by(None) is case.public
    assert seen_by(Audience.PUBLIC) is case.public
    kept = case.retention_until is None or case.today <= case.retention_until
    assert seen_by(Audience.AUTHORITY) is (kept and case.disclosure in {"public", "shared"})


def _person(n: int) -> SubjectRef:
    code = make_resident_id("110105", BORN, 100 + n)
    adult = parse_resident_id(code).adult_from
    return SubjectRef(code, SubjectKind.NATURAL_PERSON, f"测试{n}", adult_from=adult)


def _org(n: int) -> SubjectRef:
    from tests import factories

    return factories.org(name=f"北京披露测试{n}有限公司")


def _record(n: int, case: Case) -> RecordInput:
    who = _person(n) if case.person else _org(n)
    number = f"DISCLOSURE-{n}"
    return RecordInput(
        type_code=TYPE_OF_CLASS[case.disclosure],
        source="spc",
        decision_no=number,
        decision_date=case.decided,
        subject=who,
        content={"subject_name": who.name, "decision_no": number},
        status=case.status,
        published_until=case.published_until,
        retention_until=case.retention_until,
    )


def test_the_sql_clause_agrees_case_by_case(db_url: str) -> None:
    ctx = Context(Settings(db=db_url, secret_key="disclosure-test-secret-0123456789"))
    try:
        with ctx.sessions.begin() as session:
            sync_catalogue(session, ctx.catalogue)
            write_records(
                session, ctx.keys, [_record(n, c) for n, c in enumerate(CASES)], actor="test"
            )
        found = {}
        with ctx.sessions() as session:
            for n, case in enumerate(CASES):
                hit = session.scalar(
                    select(Record.id)
                    .join(RecordType, RecordType.code == Record.type_code)
                    .join(Subject, Subject.id == Record.subject_id)
                    .where(Record.decision_no == f"DISCLOSURE-{n}", record_is_public(case.today))
                )
                found[case.name] = hit is not None
    finally:
        ctx.close()
    assert found == {c.name: c.public for c in CASES}


def test_each_condition_has_the_same_answer_in_both_spellings(db_url: str) -> None:
    """Line by line, not just as a whole: a condition whose two spellings disagree on a
    row another condition already rejects would pass the whole-rule test above."""
    conditions = {c.name: c for c in (*PUBLIC_RULE.conditions, *COUNTED_RULE.conditions)}
    ctx = Context(Settings(db=db_url, secret_key="disclosure-test-secret-0123456789"))
    try:
        with ctx.sessions.begin() as session:
            sync_catalogue(session, ctx.catalogue)
            write_records(
                session, ctx.keys, [_record(n, c) for n, c in enumerate(CASES)], actor="test"
            )
        with ctx.sessions() as session:
            for n, case in enumerate(CASES):
                row = session.execute(
                    select(RecordType.disclosure, Record, Subject.adult_from)
                    .join(RecordType, RecordType.code == Record.type_code)
                    .join(Subject, Subject.id == Record.subject_id)
                    .where(Record.decision_no == f"DISCLOSURE-{n}")
                ).one()
                disclosure, record, adult_from = row
                facts = RecordFacts(
                    disclosure,
                    record.status,
                    record.published_until,
                    adult_from,
                    record.decision_date,
                    record.retention_until,
                )
                for name, condition in conditions.items():
                    in_sql = session.scalar(
                        select(condition.clause(rule_columns(Record, RecordType), case.today))
                        .select_from(Record)
                        .join(RecordType, RecordType.code == Record.type_code)
                        .join(Subject, Subject.id == Record.subject_id)
                        .where(Record.id == record.id)
                    )
                    assert bool(in_sql) is condition.holds(facts, case.today), (case.name, name)
    finally:
        ctx.close()
