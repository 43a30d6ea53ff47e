"""escalation of overdue credit repairs and complaints

Objections already carry ``escalated_at``; repairs and complaints get the same column so
the operator learns of every missed deadline the same way, once.

Revision ID: 0008_escalation
Revises: 0007_merge_areas
Create Date: 2026-11-27 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0008_escalation"
down_revision: str | None = "0007_merge_areas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bonafides.store.types.UTCDateTime(timezone=True)
TABLES = ("repair_applications", "complaints")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("escalated_at", UTC, nullable=True))
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_status_due_on", ["status", "due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_due_on")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("escalated_at")
