"""the subject index of check lines holds only the lines that name a subject

``ix_check_lines_subject_id`` (0033) serves a subject's access log: the lines of every
batch that screened the subject. A line of an unknown or invalid code names no subject
and is never looked up by subject, yet cost an index entry: a batch of 100,000 such lines
spent 0.40-0.46 s of PostgreSQL CPU writing them with the full index against 0.25-0.26 s
with this one. The index keeps its name and columns, with ``WHERE subject_id IS NOT
NULL``, which a lookup by subject implies on both stores. The downgrade restores the full
index.

Revision ID: 0034_c2_known_subject_lines
Revises: 0033_batch_access
Create Date: 2026-12-06 23:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_c2_known_subject_lines"
down_revision: str | None = "0033_batch_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_check_lines_subject_id"
_COLUMNS = ["subject_id", "check_id", "line"]
_KNOWN = sa.text("subject_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index(_NAME, table_name="check_lines")
    op.create_index(_NAME, "check_lines", _COLUMNS, postgresql_where=_KNOWN, sqlite_where=_KNOWN)


def downgrade() -> None:
    op.drop_index(_NAME, table_name="check_lines")
    op.create_index(_NAME, "check_lines", _COLUMNS)
