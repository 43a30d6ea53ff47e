"""an ingest batch may have no single source: its rows name their departments

A file ingested without ``--source`` is attributed row by row from its
数据来源单位统一社会信用代码 column (issue 14, item 5), so the batch itself names no
department: ``ingest_batches.source`` becomes nullable (NULL = "from the data").

Revision ID: 0016_x1_batch_source_from_data
Revises: 0015_decision_numbers
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_x1_batch_source_from_data"
down_revision: str | None = "0015_decision_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    # A batch attributed from the data names the department of one of its queued rows
    # (review_queue); one with none queued is dropped with its rejections (its records keep
    # their own sources).
    op.execute(
        "UPDATE ingest_batches SET source = (SELECT MIN(r.source) FROM review_queue r "
        "WHERE r.batch_id = ingest_batches.id) WHERE source IS NULL"
    )
    op.execute(
        "DELETE FROM ingest_rejections WHERE batch_id IN "
        "(SELECT id FROM ingest_batches WHERE source IS NULL)"
    )
    op.execute("DELETE FROM ingest_batches WHERE source IS NULL")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=32), nullable=False)
