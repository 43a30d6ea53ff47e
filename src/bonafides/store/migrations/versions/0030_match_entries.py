"""keyed organisations stored beside their keys, names already parsed

``match_entries`` holds, per keyed organisation, what the matcher scores: its code,
names, register details and every name parsed (``bonafides.matching.packed``), so a
candidate found by the keys is one primary-key read instead of a join of subjects,
register rows and names and the parsing of each name.

A store keyed before has no entries; its key state is cleared here, so the next sync
(the end of ``register load``, or of an ingest run that matches rows) keys the register
again, entries included. Until then matching reads the register into memory, as it did
before any sync: the same candidates and decisions either way.

Revision ID: 0030_match_entries
Revises: 0029_match_look_keys
Create Date: 2026-12-06 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_match_entries"
down_revision: str | None = "0029_match_look_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "match_entries",
        sa.Column("subject_id", _BIG, autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_match_entries")),
    )
    op.execute("DELETE FROM match_key_state")


def downgrade() -> None:
    op.drop_table("match_entries")
