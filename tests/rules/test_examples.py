"""List entries of the packaged rules, computed by hand and checked against both evaluators.

``test_agreement`` proves that the Python and SQL evaluators agree; the same slip in both
(a window bound, a term one day long, a threshold off by one) would pass it. Here each
example is a subject's decisions with the entries docs/rules.md says they make, worked out
by hand from the rules in ``rules/data/lists.yaml``: a term ends the day before the same
calendar day ``months`` later (clamped to the month's end); an authority's end date counts
up to its cap inclusive; "N within M months" counts decisions after the day M months
before, up to and including the day; repair and expiry end an entry the day before the
credit office's local day of the change; a removal date ends it the day before; a later
record named by ``unless`` ends it the day before, one inside the window before the start
means no entry; ties are explained in the order record ended, removed, unless, decided,
cap, term.

Every example is written into a real store beside a decoy subject (decisions of the same
types that make no entry, so a query that mixes subjects shows), then evaluated in Python
for the one subject and in SQL for the whole table, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bonafides.records import SubjectKind
from bonafides.rules.compile import sql_evaluator_for
from bonafides.rules.evaluate import evaluator_for
from bonafides.rules.facts import Entry, parse_ids
from bonafides.rules.loader import packaged_rules
from bonafides.rules.service import load_files
from bonafides.store.db import make_engine, session_factory
from bonafides.store.tables import Record
from tests import factories
from tests.rules.generate import GenRecord, GenSubject, store
from tests.store.seed import seed_reference_data

ZONE = "Asia/Shanghai"
RULES = packaged_rules()
D = dt.date


def utc(day: str, hour: int, minute: int = 0) -> dt.datetime:
    """A status change at a UTC time; Beijing is eight hours ahead."""
    return dt.datetime.combine(D.fromisoformat(day), dt.time(hour, minute), dt.UTC)


@dataclass(frozen=True)
class Rec:
    """A decision of the example; ``then`` are its later status changes, with their times."""

    type_code: str
    decided: str
    severity: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    then: tuple[tuple[str, dt.datetime], ...] = ()

    def generated(self) -> GenRecord:
        decided = D.fromisoformat(self.decided)
        source = RULES.catalogue.type(self.type_code).sources[0]
        body = {"decision_date": self.decided, **self.content}
        if self.severity is not None:
            body["severity"] = self.severity
        return GenRecord(
            type_code=self.type_code,
            source=source,
            decision_date=decided,
            statuses=["active", *(status for status, _ in self.then)],
            changed_at=[utc(self.decided, 1), *(stamp for _, stamp in self.then)],
            severity=self.severity,
            content=body,
        )


@dataclass(frozen=True)
class Want:
    """An expected entry: ``trigger`` and ``records`` are positions in the example's list."""

    list_code: str
    line: int
    valid_from: str
    valid_until: str
    until_basis: str
    trigger: int
    records: tuple[int, ...]


@dataclass(frozen=True)
class Example:
    name: str
    lists: tuple[str, ...]
    records: tuple[Rec, ...]
    want: tuple[Want, ...] = ()
    kind: SubjectKind = SubjectKind.LEGAL_PERSON
    adult_from: str | None = None


def defaulter(decided: str = "2024-03-01", **kw: Any) -> Rec:
    return Rec("courts.defaulter", decided, **kw)


def listed_until(day: str, **kw: Any) -> Rec:
    return defaulter(content={"listing_until": day}, **kw)


def courts(start: str, until: str, basis: str) -> Want:
    return Want("courts.defaulters", 1, start, until, basis, 0, (0,))


COURTS = ("courts.defaulters",)
TERM = [
    # 24 months from 2024-03-01: the day before 2026-03-01.
    Example(
        "term ends the day before",
        COURTS,
        (defaulter(),),
        (courts("2024-03-01", "2026-02-28", "term"),),
    ),
    # 2024-02-29 + 24 months is clamped to 2026-02-28; the term ends the day before.
    Example(
        "term from a leap day",
        COURTS,
        (defaulter("2024-02-29"),),
        (courts("2024-02-29", "2026-02-27", "term"),),
    ),
    Example(
        "term from a month end",
        COURTS,
        (defaulter("2024-01-31"),),
        (courts("2024-01-31", "2026-01-30", "term"),),
    ),
    # The court's own end date, capped at 24 + 36 months: last day 2029-02-28.
    Example(
        "court's end date",
        COURTS,
        (listed_until("2027-06-30"),),
        (courts("2024-03-01", "2027-06-30", "decided"),),
    ),
    Example(
        "court's end date on the cap",
        COURTS,
        (listed_until("2029-02-28"),),
        (courts("2024-03-01", "2029-02-28", "decided"),),
    ),
    Example(
        "court's end date a day past the cap",
        COURTS,
        (listed_until("2029-03-01"),),
        (courts("2024-03-01", "2029-02-28", "cap"),),
    ),
    Example(
        "deleted early by the court",
        COURTS,
        (listed_until("2024-09-15"),),
        (courts("2024-03-01", "2024-09-15", "decided"),),
    ),
    Example(
        "end date on the decision day",
        COURTS,
        (listed_until("2024-03-01"),),
        (courts("2024-03-01", "2024-03-01", "decided"),),
    ),
    Example("end date before the decision", COURTS, (listed_until("2024-02-29"),)),
    Example(
        "debarment capped at 36 months from a month end",
        ("procurement.serious_violation",),
        (Rec("procurement.serious_violation", "2024-01-31", content={"ban_until": "2027-01-31"}),),
        (Want("procurement.serious_violation", 1, "2024-01-31", "2027-01-30", "cap", 0, (0,)),),
    ),
]

EXITS = [
    # Repaired at 17:00 in Beijing on 2025-05-10: the last day on the list is 05-09.
    Example(
        "repaired",
        COURTS,
        (defaulter(then=(("repaired", utc("2025-05-10", 9)),)),),
        (courts("2024-03-01", "2025-05-09", "record_ended"),),
    ),
    # 16:30 UTC on 05-09 is 00:30 on 05-10 in Beijing: the office's day counts.
    Example(
        "repaired after midnight in Beijing",
        COURTS,
        (defaulter(then=(("repaired", utc("2025-05-09", 16, 30)),)),),
        (courts("2024-03-01", "2025-05-09", "record_ended"),),
    ),
    Example(
        "repaired before midnight in Beijing",
        COURTS,
        (defaulter(then=(("repaired", utc("2025-05-09", 15, 30)),)),),
        (courts("2024-03-01", "2025-05-08", "record_ended"),),
    ),
    Example(
        "expired",
        COURTS,
        (defaulter(then=(("expired", utc("2026-01-10", 9)),)),),
        (courts("2024-03-01", "2026-01-09", "record_ended"),),
    ),
    Example(
        "repaired after the term",
        COURTS,
        (defaulter(then=(("repaired", utc("2026-06-01", 9)),)),),
        (courts("2024-03-01", "2026-02-28", "term"),),
    ),
    Example(
        "repaired on the decision day",
        COURTS,
        (defaulter(then=(("repaired", utc("2024-03-01", 9)),)),),
    ),
    Example("revoked", COURTS, (defaulter(then=(("revoked", utc("2024-05-01", 9)),)),)),
    Example(
        "repair undone",
        COURTS,
        (defaulter(then=(("repaired", utc("2025-05-10", 9)), ("active", utc("2025-06-01", 9)))),),
        (courts("2024-03-01", "2026-02-28", "term"),),
    ),
    Example(
        "repair and the court's end date on one day",
        COURTS,
        (listed_until("2025-05-09", then=(("repaired", utc("2025-05-10", 9)),)),),
        (courts("2024-03-01", "2025-05-09", "record_ended"),),
    ),
    Example(
        "a minor at the decision",
        COURTS,
        (defaulter("2025-02-28"),),
        kind=SubjectKind.NATURAL_PERSON,
        adult_from="2025-03-01",
    ),
    Example(
        "an adult from the decision day",
        COURTS,
        (defaulter("2025-03-01"),),
        (courts("2025-03-01", "2027-02-28", "term"),),
        kind=SubjectKind.NATURAL_PERSON,
        adult_from="2025-03-01",
    ),
]


def abnormal(removed: str | None = None) -> Rec:
    content = {} if removed is None else {"removal_date": removed}
    return Rec("market.abnormal_operations", "2022-01-15", content=content)


MARKET = ("market.abnormal_operations", "market.serious_violation")
REMOVALS = [
    # Three years in the directory, then three years on the serious list.
    Example(
        "three years in the directory",
        MARKET,
        (abnormal(),),
        (
            Want("market.abnormal_operations", 1, "2022-01-15", "2025-01-14", "term", 0, (0,)),
            Want("market.serious_violation", 2, "2025-01-15", "2028-01-14", "term", 0, (0,)),
        ),
    ),
    Example(
        "removed from the directory",
        MARKET,
        (abnormal("2023-05-01"),),
        (Want("market.abnormal_operations", 1, "2022-01-15", "2023-04-30", "removed", 0, (0,)),),
    ),
    Example("removed on the decision day", MARKET, (abnormal("2022-01-15"),)),
    # The removal's day before and the term's last day coincide: "removed" explains it.
    Example(
        "removed the day the serious listing would start",
        MARKET,
        (abnormal("2025-01-15"),),
        (Want("market.abnormal_operations", 1, "2022-01-15", "2025-01-14", "removed", 0, (0,)),),
    ),
    Example(
        "removed a day after the serious listing started",
        MARKET,
        (abnormal("2025-01-16"),),
        (
            Want("market.abnormal_operations", 1, "2022-01-15", "2025-01-14", "term", 0, (0,)),
            Want("market.serious_violation", 2, "2025-01-15", "2025-01-15", "removed", 0, (0,)),
        ),
    ),
]


def customs(grade: str, decided: str = "2024-03-01") -> Rec:
    return Rec("customs.credit_grade", decided, content={"credit_grade": grade})


def customs_penalty(decided: str, severity: str = "serious") -> Rec:
    return Rec("customs.penalty", decided, severity=severity)


AEO = ("customs.advanced_certified",)


def aeo(until: str, basis: str = "term") -> Want:
    return Want("customs.advanced_certified", 1, "2024-03-01", until, basis, 0, (0,))


UNLESS = [
    Example("certified", AEO, (customs("advanced_certified"),), (aeo("2027-02-28"),)),
    Example(
        "downgraded later",
        AEO,
        (customs("advanced_certified"), customs("general", "2025-06-10")),
        (aeo("2025-06-09", "unless"),),
    ),
    Example(
        "a serious penalty inside the 12 months before",
        AEO,
        (customs("advanced_certified"), customs_penalty("2023-03-02")),
    ),
    Example(
        "a serious penalty on the day of the certification",
        AEO,
        (customs("advanced_certified"), customs_penalty("2024-03-01")),
    ),
    Example(
        "a serious penalty exactly 12 months before",
        AEO,
        (customs("advanced_certified"), customs_penalty("2023-03-01")),
        (aeo("2027-02-28"),),
    ),
    Example(
        "a general penalty inside the window",
        AEO,
        (customs("advanced_certified"), customs_penalty("2024-01-01", "general")),
        (aeo("2027-02-28"),),
    ),
    Example(
        "a serious penalty after the start",
        AEO,
        (customs("advanced_certified"), customs_penalty("2024-12-01")),
        (aeo("2024-11-30", "unless"),),
    ),
]


def env(decided: str, severity: str = "general", **kw: Any) -> Rec:
    return Rec("environment.penalty", decided, severity=severity, **kw)


ENV = ("environment.serious_violation",)


def repeated(start: str, until: str, trigger: int, records: tuple[int, ...]) -> Want:
    return Want("environment.serious_violation", 2, start, until, "term", trigger, records)


COUNTS = [
    # Line 2: two or more general or serious penalties within 12 months, for 12 months.
    Example("one penalty", ENV, (env("2025-03-01"),)),
    Example(
        "two within 12 months",
        ENV,
        (env("2024-03-02"), env("2025-03-01")),
        (repeated("2025-03-01", "2026-02-28", 1, (0, 1)),),
    ),
    Example("two exactly 12 months apart", ENV, (env("2024-03-01"), env("2025-03-01"))),
    Example(
        "two across a leap day",
        ENV,
        (env("2024-02-29"), env("2025-02-28")),
        (repeated("2025-02-28", "2026-02-27", 1, (0, 1)),),
    ),
    Example("two from the 28th a year apart", ENV, (env("2024-02-28"), env("2025-02-28"))),
    Example("a minor penalty does not count", ENV, (env("2024-09-01", "minor"), env("2025-03-01"))),
    Example(
        "a revoked penalty does not count",
        ENV,
        (env("2024-09-01", then=(("revoked", utc("2024-10-01", 9)),)), env("2025-03-01")),
    ),
    Example(
        "a repaired penalty does not count",
        ENV,
        (env("2024-09-01", then=(("repaired", utc("2024-10-01", 9)),)), env("2025-03-01")),
    ),
    Example(
        "two on one day",
        ENV,
        (env("2025-01-15"), env("2025-01-15")),
        (repeated("2025-01-15", "2026-01-14", 1, (0, 1)),),
    ),
    Example(
        "three, two entries",
        ENV,
        (env("2024-05-01"), env("2024-09-01"), env("2025-03-01")),
        (
            repeated("2024-09-01", "2025-08-31", 1, (0, 1)),
            repeated("2025-03-01", "2026-02-28", 2, (0, 1, 2)),
        ),
    ),
    Example(
        "a serious penalty is also line 1",
        ENV,
        (env("2024-10-01", "serious"), env("2025-03-01")),
        (
            Want("environment.serious_violation", 1, "2024-10-01", "2027-09-30", "term", 0, (0,)),
            repeated("2025-03-01", "2026-02-28", 1, (0, 1)),
        ),
    ),
]

EXAMPLES = [*TERM, *EXITS, *REMOVALS, *UNLESS, *COUNTS]

#: Decisions of the examples' types that put nobody on a list, on the examples' days.
DECOY = GenSubject(
    SubjectKind.LEGAL_PERSON,
    None,
    [
        defaulter(then=(("revoked", utc("2024-03-02", 9)),)).generated(),
        env("2024-09-01").generated(),
        env("2025-01-15", "minor").generated(),
        customs("general", "2024-06-01").generated(),
        customs_penalty("2024-09-01", "general").generated(),
        Rec(
            "market.abnormal_operations", "2023-01-10", content={"removal_date": "2023-01-10"}
        ).generated(),
    ],
)


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    factory = session_factory(engine, factories.audit_anchor(tmp_path / "keys").info())
    with factory.begin() as session:
        seed_reference_data(session)
    yield factory
    engine.dispose()


def _expected(example: Example, subject_id: int, record_ids: list[int]) -> set[Entry]:
    return {
        Entry(
            want.list_code,
            want.line,
            subject_id,
            record_ids[want.trigger],
            D.fromisoformat(want.valid_from),
            D.fromisoformat(want.valid_until),
            want.until_basis,
            tuple(sorted(record_ids[i] for i in want.records)),
        )
        for want in example.want
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_hand_computed_entries_in_python_and_sql(
    sessions: sessionmaker[Session], example: Example
) -> None:
    adult = None if example.adult_from is None else D.fromisoformat(example.adult_from)
    subject = GenSubject(example.kind, adult, [r.generated() for r in example.records])
    with sessions.begin() as session:
        subject_id, _ = store(session, [subject, DECOY])
        record_ids = list(
            session.scalars(
                select(Record.id).where(Record.subject_id == subject_id).order_by(Record.id)
            )
        )
    expected = _expected(example, subject_id, record_ids)
    with sessions() as session:
        file = load_files(session, [subject_id], ZONE)[subject_id]
        in_python = set(evaluator_for(RULES).entries(file.subject, file.records, example.lists))
        rows = session.execute(sql_evaluator_for(RULES, ZONE).entries(example.lists)).all()
    in_sql = {
        Entry(code, line, sid, trigger, start, until, basis, parse_ids(ids))
        for code, line, sid, trigger, start, until, basis, ids, _ in rows
    }
    assert in_python == expected, "Python"
    assert in_sql == expected, "SQL, whole table"


def test_the_examples_cover_every_way_an_entry_ends() -> None:
    bases = {want.until_basis for example in EXAMPLES for want in example.want}
    assert bases == {"record_ended", "removed", "unless", "decided", "cap", "term"}
