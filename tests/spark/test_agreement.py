"""The Spark evaluator agrees with the Python and SQL evaluators, on both stores.

The data comes from the generators of ``tests/rules/test_agreement.py``. A Spark job costs
a second or more whatever its size, so instead of one job per Hypothesis example, the
examples are gathered first (deterministically) and written into one store as separate
subjects; every list and grade is then evaluated once by each evaluator and compared
subject by subject.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from sqlalchemy.orm import Session, sessionmaker

from bonafides.rules.compile import sql_evaluator_for
from bonafides.rules.evaluate import evaluator_for
from bonafides.rules.facts import Entry, parse_ids
from bonafides.rules.model import Rules
from bonafides.rules.service import load_files
from tests.rules.generate import GenSubject, clear_store, store, subjects
from tests.rules.test_agreement import RULESETS, ZONE, boundary_days, python_entries, sql_entries
from tests.rules.test_agreement import sessions as sessions

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from bonafides.spark.evaluate import SparkEvaluator

# Spark jobs cost seconds each whatever their size: a run under load outlasts the usual
# five minutes.
pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]


def gathered(rules: Rules, examples: int) -> list[GenSubject]:
    found: list[GenSubject] = []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None)
    @given(generated=subjects(rules, max_subjects=4, max_records=10))
    def collect(generated: list[GenSubject]) -> None:
        found.extend(generated)

    collect()
    return found


def spark_entries(evaluator: SparkEvaluator) -> set[Entry]:
    return {
        Entry(
            row.list_code,
            row.line,
            row.subject_id,
            row.trigger_record_id,
            row.valid_from,
            row.valid_until,
            row.until_basis,
            parse_ids(row.record_ids),
        )
        for row in evaluator.entries().collect()
    }


# The store only hands the rows over; test_jobs reads PostgreSQL over JDBC.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", sorted(RULESETS))
def test_spark_gives_the_entries_and_grades_of_python_and_sql(
    spark: SparkSession, sessions: sessionmaker[Session], name: str
) -> None:
    from bonafides.spark.evaluate import SparkEvaluator
    from bonafides.spark.sources import from_session

    rules = RULESETS[name]
    generated = gathered(rules, 40)
    with sessions.begin() as session:
        clear_store(session)
        ids = store(session, generated)
    with sessions() as session:
        evaluator = SparkEvaluator(rules, from_session(spark, session), zone=ZONE)
        in_spark = spark_entries(evaluator)
        in_python = python_entries(session, rules, ids)
        assert len(in_python) > 20
        assert in_spark == in_python
        assert in_spark == sql_entries(session, rules)
        if not rules.grades:
            return
        files = load_files(session, ids, ZONE)
        python = evaluator_for(rules)
        sql = sql_evaluator_for(rules, ZONE).grades()
        days = [*boundary_days(in_python)[:3], dt.date(2024, 6, 30), dt.date(2025, 6, 30)]
        # Every day in one Spark job: the grades are compared day by day.
        by_day: dict[dt.date, set[tuple[object, ...]]] = {day: set() for day in days}
        for row in evaluator.grades_on(days).collect():
            by_day[row.as_of].add((row.scheme, row.subject_id, row.grade, row.line, row.record_ids))
        compared = 0
        for day in days:
            from_python = {
                (g.scheme, g.subject_id, g.grade, g.line, ",".join(map(str, g.record_ids)))
                for f in files.values()
                for g in python.grades(f.subject, f.records, day)
            }
            from_sql = {tuple(row) for row in session.execute(sql, {"as_of": day})}
            assert by_day[day] == from_python == from_sql, day
            compared += len(from_python)
        assert compared > 0
        # The one-day form the jobs use gives the same.
        assert {tuple(row) for row in evaluator.grades(days[-1]).collect()} == by_day[days[-1]]
