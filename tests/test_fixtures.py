"""The suite's own isolation: a PostgreSQL store emptied between tests is as good as new.

``db_url`` empties a PostgreSQL store with DELETEs rather than TRUNCATE (conftest.py says
why). A test after it must find what a fresh store holds: no rows in any table, the
record keys of the partitioned store gone with their records, and ids counting from 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bonafides.rules.records import write_records
from bonafides.security.identifiers import IdentifierVault
from bonafides.store.db import make_engine, session_factory
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Record, Subject
from tests import factories
from tests.conftest import _truncate_all
from tests.store.seed import seed_reference_data

pytestmark = pytest.mark.partitioned

KEYS = SubjectKeys(IdentifierVault("test-secret"))


def _write_twice(db_url: str, tmp_path: Path) -> tuple[int, int]:
    """The same penalty written into the store, emptied, and written again: the ids the
    two writes gave its subject and record."""
    item = factories.penalty()
    ids = []
    for round_ in range(2):
        engine = make_engine(db_url)
        sessions = session_factory(engine, factories.audit_anchor(tmp_path / f"k{round_}").info())
        with sessions.begin() as s:
            seed_reference_data(s)
            write_records(s, KEYS, [factories.penalty(), item], actor="samr")
        with sessions() as s:
            record = s.scalars(select(Record).order_by(Record.id.desc())).first()
            assert record is not None
            ids.append((record.subject_id, record.id))
        engine.dispose()
        if round_ == 0:
            _truncate_all(db_url)
            _assert_empty(db_url)
    assert ids[0] == ids[1]
    return ids[1]


def _assert_empty(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = "
                "'public'::regnamespace AND c.relkind = 'r' AND c.relname <> 'alembic_version'"
            )
        ).scalars()
        holding = {
            name: n
            for name in tables
            if (n := conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        }
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()
    assert holding == {}


@pytest.mark.parametrize("db_url", ["postgresql", "partitioned"], indirect=True)
def test_an_emptied_store_holds_nothing_and_counts_ids_from_one(
    db_url: str, tmp_path: Path
) -> None:
    subject_id, record_id = _write_twice(db_url, tmp_path)
    assert (subject_id, record_id) == (2, 2)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Subject)).scalar_one() == 2
    engine.dispose()
