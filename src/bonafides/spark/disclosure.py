"""The disclosure rules of ``bonafides.disclosure`` as Spark expressions: each rule's SQL
spelling compiled with the day as a literal, so Spark keeps and counts what the store's
statements keep and count, from the one definition."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as fn
from sqlalchemy import column
from sqlalchemy.dialects import postgresql

from bonafides.disclosure import COUNTED_RULE, PUBLIC_RULE, RecordColumns, Rule


def rule_expr(rule: Rule, today: dt.date) -> Column:
    """``rule`` on ``today`` over columns named as the rules read them (disclosure,
    status, published_until, adult_from, decision_date, retention_until)."""
    columns = RecordColumns(*(column(name) for name in RecordColumns._fields))
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    clause = rule.clause(columns, today)
    return fn.expr(str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))


def public(today: dt.date) -> Column:
    """Whether the record is shown to the public on ``today`` (``PUBLIC_RULE``)."""
    return rule_expr(PUBLIC_RULE, today)


def counted(today: dt.date) -> Column:
    """Whether the record counts in public figures on ``today`` (``COUNTED_RULE``)."""
    return rule_expr(COUNTED_RULE, today)
