"""list entries and grades name their subject without a foreign key

Both tables are derived: only the rules service writes them, set-based, from rows that
already hold the subject under a foreign key (a record's ``subject_id``, or a subject's
own id), in the transaction that reads those rows; and no code path deletes a subject (a
merger keeps both). The foreign key could therefore never refuse a row, yet it checked
every row it could not refuse, one at a time: a whole-store recompute writes an entry per
listed record (3.4 million at 4M subjects) and a grade per organisation, and on
PostgreSQL each row's check is an index lookup of its subject and a row lock written
into the subject's page. Measured on the 1M-subject store (a full list recompute, rolled
back, alternated): the entries' insert took 10.9 and 11.9 s with the key, 4.4 and 6.6 s
without it. Check lines dropped theirs for the same reason (0009).

The subject columns keep their indexes; the downgrade adds the keys back (and fails, as
it should, if a row names no subject).

Revision ID: 0036_derived_subject_keys
Revises: 0035_covered_reads
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0036_derived_subject_keys"
down_revision: str | None = "0035_covered_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The derived tables and the foreign key each held on its subject.
_KEYS = (
    ("list_entries", "fk_list_entries_subject_id_subjects"),
    ("grades", "fk_grades_subject_id_subjects"),
)


def upgrade() -> None:
    for table, name in _KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table, name in _KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name, "subjects", ["subject_id"], ["id"])
