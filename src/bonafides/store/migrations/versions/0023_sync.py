"""federation: where each record came from, and each peer's cursor

``records.origin`` names the instance where a copied decision was made (NULL: made
here) and ``records.origin_version`` its version there, so a copy is never sent back to
its origin and a batch applied twice changes nothing. ``sync_sources`` keeps, per peer
pulled from, the cursor reached and the peer's pinned signing key (issue 16, item 2).

Revision ID: 0023_sync
Revises: 0022_job_leases
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0023_sync"
down_revision: str | None = "0022_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE on both stores: a batch rebuild of ``records`` on SQLite would
    # drop a table that other tables' foreign keys name.
    op.add_column("records", sa.Column("origin", sa.String(length=64), nullable=True))
    op.add_column("records", sa.Column("origin_version", sa.Integer(), nullable=True))
    op.create_table(
        "sync_sources",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("cursor", _BIG, nullable=False),
        sa.Column("applied", _BIG, nullable=False),
        sa.Column("skipped", _BIG, nullable=False),
        sa.Column("conflicts", _BIG, nullable=False),
        sa.Column("synced_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_sources")),
        sa.UniqueConstraint("url", name=op.f("uq_sync_sources_url")),
    )


def downgrade() -> None:
    op.drop_table("sync_sources")
    op.drop_column("records", "origin_version")
    op.drop_column("records", "origin")
