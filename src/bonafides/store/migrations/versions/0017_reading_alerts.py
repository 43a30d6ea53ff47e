"""reading alerts: readers of non-public files far above their own baseline

Plan §67: an officer or a key reading far more files than usual must be noticed. One row
per reader and office day, so a rescan of the same day never alerts twice.

Revision ID: 0017_reading_alerts
Revises: 0016_batch_source_from_data
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0017_reading_alerts"
down_revision: str | None = "0016_batch_source_from_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reading_alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("reads", sa.Integer, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("created_at", bonafides.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("acknowledged_at", bonafides.store.types.UTCDateTime(timezone=True)),
        sa.Column("note", sa.String(500)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_alerts")),
        sa.UniqueConstraint("actor", "day", name="uq_reading_alerts_actor_day"),
    )


def downgrade() -> None:
    op.drop_table("reading_alerts")
