"""ingest batches keep the record version mark they began at

``ingest_batches.version_mark`` is the highest record version id when a batch began.
An ingest refreshes list entries once, when its file is done, for every subject with a
version above the mark, so a run that was killed and rerun still refreshes what the
killed run committed (issue 14). Batches begun before this column have none; the run
that resumes one takes its mark then (the old code refreshed each chunk it committed).

Revision ID: 0028_ingest_version_mark
Revises: 0027_feed_public_payload
Create Date: 2026-12-06 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_ingest_version_mark"
down_revision: str | None = "0027_feed_public_payload"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ingest_batches", sa.Column("version_mark", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Not in batch mode: SQLite would copy the table and drop it, which its foreign keys
    # (rejections, review items, match links) refuse.
    op.drop_column("ingest_batches", "version_mark")
