"""the public feed's payload, cut once when the event is written

``feed_events.public_payload`` holds each public event's payload as the public reads it
(content cut to the type's public fields, emptied in a tombstone, a person's name
masked), as JSON text, so the public feed passes it on without decoding it (issue 16).
Existing public events are filled here, from the record types in the store.

Revision ID: 0027_feed_public_payload
Revises: 0026_match_keys
Create Date: 2026-12-06 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_feed_public_payload"
down_revision: str | None = "0026_match_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_events") as batch:
        batch.add_column(sa.Column("public_payload", sa.Text(), nullable=True))
    from bonafides.store.feed import fill_public_payloads

    fill_public_payloads(op.get_bind(), after=0)


def downgrade() -> None:
    with op.batch_alter_table("feed_events") as batch:
        batch.drop_column("public_payload")
