"""audit anchor: keyed chain from a marked event, signed checkpoints, links by event

Events appended from this revision on are hashed with HMAC under a key kept outside the
database; ``audit_head.keyed_from`` marks the first of them. An existing store's events
keep their plain SHA-256 hashes: the mark is set just past its head. Signed checkpoints
of the head go to ``audit_checkpoints``; ``subject_access`` gains an index by event so a
verification can recompute each batch event's subjects digest from its rows.

Revision ID: 0014_w7_audit_anchor
Revises: 0013_issued_files
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0014_w7_audit_anchor"
down_revision: str | None = "0013_issued_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("keyed_from", _BIG, nullable=True))
    # Every event already written was hashed the old way; the next one is the first keyed.
    op.execute("UPDATE audit_head SET keyed_from = last_id + 1")
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("event_count", _BIG, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", bonafides.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("keyed_from", _BIG, nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("event_count", name=op.f("uq_audit_checkpoints_event_count")),
    )
    op.create_index("ix_subject_access_event_id", "subject_access", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_subject_access_event_id", table_name="subject_access")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from")
