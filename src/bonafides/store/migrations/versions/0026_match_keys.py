"""name matching's blocking keys in the store

``match_keys`` holds the keys bonafides-names-v1 finds candidates by, one row per key of
each name of each registered organisation, and ``match_key_state`` how far they have
read; a process matching rows without a code reads the postings of its rows' keys instead
of building the whole register in memory (issue 15: a 1M-subject register).

Revision ID: 0026_match_keys
Revises: 0025_review_desk
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0026_match_keys"
down_revision: str | None = "0025_review_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "match_keys",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("subject_id", _BIG, nullable=False),
        sa.Column("variant", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_keys")),
    )
    op.create_index("ix_match_keys_key_kind", "match_keys", ["key", "kind"])
    op.create_index(op.f("ix_match_keys_subject_id"), "match_keys", ["subject_id"], unique=False)
    op.create_table(
        "match_key_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subjects_upto", sa.BigInteger(), nullable=False),
        sa.Column("names_upto", sa.BigInteger(), nullable=False),
        sa.Column("events_upto", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_key_state")),
    )


def downgrade() -> None:
    op.drop_table("match_key_state")
    op.drop_index(op.f("ix_match_keys_subject_id"), table_name="match_keys")
    op.drop_index("ix_match_keys_key_kind", table_name="match_keys")
    op.drop_table("match_keys")
