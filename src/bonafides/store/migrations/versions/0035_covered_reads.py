"""an ended record's history is read from the versions' key alone (PostgreSQL)

When an ended record stopped counting (``SqlEvaluator._ended_at``, and Spark's reads of
the versions through their records) is read once per ended record in a whole-store
recompute: its versions by (record_id, version), for their status and time of change.
While the store fits in memory the heap fetch behind each costs little; once it does
not (the 4M-subject store of ``benchmarks/scale_bench.py`` is 32 GB on a 24 GB machine),
each is a random read of an 8 kB page of a 12 GB table for a few dozen bytes. The key
now carries (status, changed_at), so the read is an index-only scan; measured at 4M with
the page cache emptied first, the recompute took 271 s against 305 s (RESULTS.md,
"covered reads").

The key keeps its name, columns and meaning; on a partitioned store (0031) its
per-subject form is changed the same way. SQLite has no INCLUDE, and its stores stay at
the scale where the tables are cached: nothing changes there. Rebuilding the key locks
the versions against writes for the time of one index build (under a minute for 40M
versions here): on a large store, run it in a maintenance window.

An index on the records' id carrying the decision's columns (what a batch answer cites)
was tried with it and left out: the planner kept reading through the primary key and
the heap, whose pages follow the ids, and never took it.

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


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _key(None)
