"""List entries and grades are written without a row-by-row check of their subject
(migration 0036); the records they are derived from keep theirs.

A whole-store recompute writes millions of entries; on PostgreSQL each row's foreign-key
check was a lookup and a row lock in ``subjects``, for a key the rows it was derived from
already held under their own foreign key.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select

from bonafides.context import Context
from bonafides.rules.service import recompute_grades, recompute_lists
from bonafides.store.tables import Grade, ListEntry, Subject
from tests import factories
from tests.rules.fixtures import Write

pytestmark = pytest.mark.partitioned


def _subject_keys(ctx: Context, table: str) -> list[str]:
    return [
        fk["referred_table"]
        for fk in inspect(ctx.engine).get_foreign_keys(table)
        if fk["constrained_columns"] == ["subject_id"]
    ]


def test_derived_tables_hold_no_subject_key_and_the_records_keep_theirs(ctx: Context) -> None:
    assert _subject_keys(ctx, "list_entries") == []
    assert _subject_keys(ctx, "grades") == []
    assert _subject_keys(ctx, "records") == ["subjects"]


def test_every_derived_row_names_a_stored_subject(ctx: Context, write: Write) -> None:
    """What the key guarded still holds: the rules derive rows for stored subjects only."""
    firm, other = factories.org(), factories.org()
    write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    write("tax.credit_grade", other, dt.date(2025, 4, 1), source="sta", grade="B")
    with ctx.sessions.begin() as session:
        recompute_lists(session, full=True)
        recompute_grades(session, as_of=dt.date(2025, 7, 1))
    with ctx.sessions() as session:
        stored = set(session.scalars(select(Subject.id)))
        for model in (ListEntry, Grade):
            named = set(session.scalars(select(model.subject_id)))
            assert named, f"nothing derived into {model.__tablename__}"
            assert named <= stored
