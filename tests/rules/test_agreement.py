"""The two evaluators agree: Python per subject and SQL over whole tables, on both stores.

Hypothesis writes subjects and records into a real store; every list of the packaged
rules and of a rule set using every construct is evaluated both ways, and every grade is
compared as of the days on which entries start and end (and the days either side).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bonafides.rules.compile import ENTRY_COLUMNS, sql_evaluator_for
from bonafides.rules.evaluate import evaluator_for
from bonafides.rules.facts import UNTIL_BASES, Entry, parse_ids
from bonafides.rules.loader import packaged_rules
from bonafides.rules.model import Rules
from bonafides.rules.service import load_files, recompute_lists
from bonafides.store.db import make_engine, session_factory
from bonafides.store.tables import ListEntry
from tests import factories
from tests.rules.generate import (
    GenSubject,
    as_facts,
    clear_store,
    feature_rules,
    store,
    subjects,
)
from tests.store.seed import seed_reference_data

ZONE = "Asia/Shanghai"
#: Also on PostgreSQL partitioned by subject (migration 0031), where the whole-table SQL
#: reads every partition and the Python evaluator one subject's.
pytestmark = pytest.mark.partitioned
RULESETS = {"packaged": packaged_rules(), "features": feature_rules()}
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    factory = session_factory(engine, factories.audit_anchor(tmp_path / "keys").info())
    with factory.begin() as session:
        seed_reference_data(session)
    yield factory
    engine.dispose()


def sql_entries(session: Session, rules: Rules) -> set[Entry]:
    rows = session.execute(sql_evaluator_for(rules, ZONE).entries()).all()
    return {
        Entry(code, line, sid, trig, start, until, basis, parse_ids(ids))
        for code, line, sid, trig, start, until, basis, ids, _ in rows
    }


def python_entries(session: Session, rules: Rules, ids: list[int]) -> set[Entry]:
    evaluator = evaluator_for(rules)
    out: set[Entry] = set()
    for file in load_files(session, ids, ZONE).values():
        out.update(evaluator.entries(file.subject, file.records))
    return out


def boundary_days(entries: set[Entry]) -> list[dt.date]:
    days = {dt.date(2025, 3, 1)}
    for entry in entries:
        for day in (entry.valid_from, entry.valid_until):
            days.update(day + dt.timedelta(days=d) for d in (-1, 0, 1))
    return sorted(days)[:8]


@pytest.mark.parametrize("name", sorted(RULESETS))
def test_python_and_sql_give_the_same_entries_and_grades(
    sessions: sessionmaker[Session], name: str
) -> None:
    rules = RULESETS[name]

    @EXAMPLES
    @given(generated=subjects(rules, max_subjects=4, max_records=10))
    def check(generated: list[GenSubject]) -> None:
        with sessions.begin() as session:
            clear_store(session)
            ids = store(session, generated)
        with sessions() as session:
            in_sql = sql_entries(session, rules)
            in_python = python_entries(session, rules, ids)
            assert in_sql == in_python
            assert all(e.valid_until >= e.valid_from for e in in_sql)
            files = load_files(session, ids, ZONE)
            evaluator = evaluator_for(rules)
            sql = sql_evaluator_for(rules, ZONE).grades()
            for day in boundary_days(in_sql):
                from_sql = {
                    (scheme, sid, grade, line, ids_text)
                    for scheme, sid, grade, line, ids_text in session.execute(sql, {"as_of": day})
                }
                from_python = {
                    (g.scheme, g.subject_id, g.grade, g.line, ",".join(map(str, g.record_ids)))
                    for f in files.values()
                    for g in evaluator.grades(f.subject, f.records, day)
                }
                assert from_sql == from_python, day

    check()


@pytest.mark.parametrize("name", sorted(RULESETS))
def test_a_recompute_stores_the_entries_python_gives(
    sessions: sessionmaker[Session], name: str
) -> None:
    """What a recompute stores (the lines staged one by one, the difference written) is
    what Python gives, repaired and expired records included: the test above compares
    the SQL evaluator's query, not the path that writes its result."""
    rules = RULESETS[name]

    @EXAMPLES
    @given(generated=subjects(rules, max_subjects=4, max_records=10))
    def check(generated: list[GenSubject]) -> None:
        with sessions.begin() as session:
            clear_store(session)
            ids = store(session, generated)
            recompute_lists(session, rules, zone=ZONE, full=True)
        with sessions() as session:
            entries = ListEntry.__table__.c
            current = select(*(entries[name] for name in ENTRY_COLUMNS)).where(
                entries.status == "current"
            )
            stored = {
                Entry(code, line, sid, trig, start, until, basis, parse_ids(ids_text))
                for code, line, sid, trig, start, until, basis, ids_text, _ in session.execute(
                    current
                )
            }
            assert stored == python_entries(session, rules, ids)

    check()


def _reached(rules: Rules) -> tuple[set[tuple[str, int]], set[str]]:
    evaluator = evaluator_for(rules)
    seen: set[tuple[str, int]] = set()
    bases: set[str] = set()

    # 200 examples missed market.contract_abiding#1 in a few -n 2 runs of a larger
    # selection (never alone, never with PYTHONHASHSEED varied, cause not found); 400
    # missed environment.good_faith#1 whenever tests/screening/test_counterparties.py was
    # collected beside this file, even deselected, so its imports alone change what is
    # generated (cause still not found); 600 reach every line in both selections.
    @settings(max_examples=600, deadline=None, derandomize=True, database=None)
    @given(generated=subjects(rules, max_subjects=4, max_records=10))
    def collect(generated: list[GenSubject]) -> None:
        for subject_id, subject in enumerate(generated):
            for entry in evaluator.entries(*as_facts(subject_id, subject)):
                seen.add((entry.list_code, entry.line))
                bases.add(entry.until_basis)

    collect()
    return seen, bases


def test_generated_data_reaches_every_list_line() -> None:
    """The agreement test is only as good as its data: every line of both rule sets must
    produce entries, and entries must end for every reason there is."""
    bases: set[str] = set()
    for rules in RULESETS.values():
        seen, ends = _reached(rules)
        bases |= ends
        lines = {(c, n) for c, rule in rules.lists.items() for n in range(1, len(rule.entry) + 1)}
        assert seen == lines, sorted(lines - seen)
    assert set(UNTIL_BASES) == bases
