"""what whole-store jobs and batch answers read by key comes from an index alone (PostgreSQL)

Two reads by key run once per record at national scale, and each went to the table's
heap for a few narrow columns:

- when an ended record stopped counting (``SqlEvaluator._ended_at``, and Spark's reads
  of the versions through their records) reads a record's versions by
  (record_id, version) for their status and time of change;
- a batch answer cites the decision behind each record of an entry in force
  (``store.details``), and the change feed's entry events name the trigger record's
  version, type, source, decision number and date: by record id.

While the store fits in memory a heap fetch costs little. Once it does not (the 4M-subject
store of ``benchmarks/scale_bench.py`` is 32 GB on a 24 GB machine), each fetch is a
random read of an 8 kB page for a few dozen bytes, over tables of 12-13 GB. The unique key
of the versions now carries (status, changed_at), and a new index on the records' id
carries the decision's columns, so both reads are index-only scans: of indexes of about
2 and 4 GB at that size, which stay in memory, instead of the heaps. RESULTS.md
("covered reads") has the before and after.

The key keeps its name, columns and meaning; on a partitioned store (0031) its
per-subject form is changed the same way. SQLite has no INCLUDE, and its stores stay at
the scale where the tables are cached: nothing changes there. Rebuilding the key locks
the versions against writes for the time of one index build: on a large store, run it in
a maintenance window.

Revision ID: 0035_covered_reads
Revises: 0034_c2_known_subject_lines
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0035_covered_reads"
down_revision: str | None = "0034_c2_known_subject_lines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The versions' key on a plain store, and on one partitioned by subject (0031).
_KEYS = {
    False: ("uq_record_versions_record_id_version", "record_id, version"),
    True: ("uq_record_versions_record_id_version_subject_id", "record_id, version, subject_id"),
}
_VERSION_COLUMNS = "status, changed_at"
_DETAILS = "ix_records_id_details"
_DETAIL_COLUMNS = "version, type_code, source, decision_no, decision_date"


def _partitioned() -> bool:
    found = op.get_bind().execute(
        text("SELECT relkind FROM pg_class WHERE relname = 'record_versions'")
    )
    return bool(found.scalar_one() == "p")


def _key(include: str | None) -> None:
    name, columns = _KEYS[_partitioned()]
    covered = f" INCLUDE ({include})" if include else ""
    op.execute(
        f"ALTER TABLE record_versions DROP CONSTRAINT {name}, "
        f"ADD CONSTRAINT {name} UNIQUE ({columns}){covered}"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _key(_VERSION_COLUMNS)
    op.execute(f"CREATE INDEX {_DETAILS} ON records (id) INCLUDE ({_DETAIL_COLUMNS})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {_DETAILS}")
    _key(None)
