"""consumers: downstream consumers and the feed cursor up to which each acknowledged tombstones

Revision ID: 0019_consumers
Revises: 0018_match_links
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0019_consumers"
down_revision: str | None = "0018_match_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consumers",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("acked_cursor", _BIG, nullable=False),
        sa.Column("acked_at", bonafides.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "registered_at", bonafides.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumers")),
        sa.UniqueConstraint("name", name=op.f("uq_consumers_name")),
    )


def downgrade() -> None:
    op.drop_table("consumers")
