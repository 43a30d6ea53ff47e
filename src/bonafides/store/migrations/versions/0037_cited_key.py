"""what an answer cites of a record is read from the records' key alone (PostgreSQL)

A batch screening answers each listed line with the decisions behind its entries: type,
department, decision number and date of every cited record (``store.details``), read by
id, 245,770 records for 2M subjects. Read through the key and the heap, those ids in order
pulled in the whole records heap (the kernel's read-ahead fills the gaps between pages a
few apart): 6.3-6.8 GB and 6-8 s at 2M from a cold page cache, and 15 GB and 62 s at 4M,
where the heap (13 GB) no longer stays in memory beside the rest. The primary key now
carries those four columns (``INCLUDE``), so the read is an index-only scan: 1.3-1.4 GB
and 1.7-2.0 s at 2M. A separate covering index was not enough: the planner prices the
heap behind a key that follows the table's order as nearly free, and kept the plain key.

On a plain store the foreign keys that name ``records(id)`` depend on the key's index, so
they are dropped and added again around the swap (each is validated again, one scan of
its table); on a store partitioned by subject (0031) they name ``record_keys`` and the key
is (id, subject_id). SQLite keeps a record in its key's B-tree already. The key grows
(1.3 GB against 0.43 GB at 2M subjects); the rebuild locks the records for the time of
one index build and the validations: on a large store, run it in a maintenance window.

Revision ID: 0037_cited_key
Revises: 0036_derived_subject_keys
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0037_cited_key"
down_revision: str | None = "0036_derived_subject_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: What an answer states of each record it cites (``store.details``).
CITED = "type_code, source, decision_no, decision_date"

#: The foreign keys of other tables that name records by the key: (table, name, definition).
_REFERRING = text(
    """
    SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
      FROM pg_constraint c
     WHERE c.contype = 'f' AND c.confrelid = 'records'::regclass
     ORDER BY c.conname
    """
)


def _key_columns() -> str:
    """The key's columns: (id), or (id, subject_id) on a store partitioned by subject."""
    found = op.get_bind().execute(text("SELECT relkind FROM pg_class WHERE relname = 'records'"))
    return "id, subject_id" if found.scalar_one() == "p" else "id"


def _key(include: str | None) -> None:
    columns = _key_columns()
    covered = f" INCLUDE ({include})" if include else ""
    referring = list(op.get_bind().execute(_REFERRING))
    for table, name, _ in referring:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.execute(
        f"ALTER TABLE records DROP CONSTRAINT pk_records, "
        f"ADD CONSTRAINT pk_records PRIMARY KEY ({columns}){covered}"
    )
    for table, name, definition in referring:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _key(CITED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _key(None)
