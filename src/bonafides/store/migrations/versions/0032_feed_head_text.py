"""each feed event's head kept as text, written once with the event

``feed_events.head_text`` holds an event's head (every key after its cursor, up to its
payload) as the JSON text the feed sends, so a read puts the cursor before it and the
payload after it instead of building it for every event read (issue 16). Existing
events are filled here from their columns, as the write path fills new ones.

Revision ID: 0032_feed_head_text
Revises: 0031_subject_partitions
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_feed_head_text"
down_revision: str | None = "0031_subject_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("feed_events", sa.Column("head_text", sa.Text(), nullable=True))
    from bonafides.store.feed import fill_heads

    fill_heads(op.get_bind(), after=0)


def downgrade() -> None:
    with op.batch_alter_table("feed_events") as batch:
        batch.drop_column("head_text")
