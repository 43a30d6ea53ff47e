"""an ingest batch may have no single source: its rows name their departments

A file ingested without ``--source`` is attributed row by row from its
数据来源单位统一社会信用代码 column (issue 14, item 5), so the batch itself names no
department: ``ingest_batches.source`` becomes nullable (NULL = "from the data").

Revision ID: 0016_batch_source_from_data
Revises: 0015_decision_numbers
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0016_batch_source_from_data"
down_revision: str | None = "0015_decision_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: The tables whose rows reference ingest_batches (nothing references them in turn):
#: set aside, and put back.
_ASIDE = (
    "CREATE TEMP TABLE _x1_rejections AS SELECT * FROM ingest_rejections",
    "CREATE TEMP TABLE _x1_reviews AS SELECT * FROM review_queue",
    "DELETE FROM ingest_rejections",
    "DELETE FROM review_queue",
)
_BACK = (
    "INSERT INTO ingest_rejections SELECT * FROM _x1_rejections",
    "INSERT INTO review_queue SELECT * FROM _x1_reviews",
    "DROP TABLE _x1_rejections",
    "DROP TABLE _x1_reviews",
)


@contextmanager
def _children_set_aside() -> Iterator[None]:
    """SQLite alters a column by copying the table and dropping the old one; with foreign
    keys on (and no way to turn them off inside the migration's transaction) the drop
    would fail while rejections and review items reference the batches. They wait in
    temporary tables meanwhile and come back with their ids unchanged."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    for statement in _ASIDE:
        op.execute(statement)
    yield
    for statement in _BACK:
        op.execute(statement)


def upgrade() -> None:
    with (
        _children_set_aside(),
        op.batch_alter_table("ingest_batches", schema=None) as batch_op,
    ):
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
    with (
        _children_set_aside(),
        op.batch_alter_table("ingest_batches", schema=None) as batch_op,
    ):
        batch_op.alter_column("source", existing_type=sa.String(length=32), nullable=False)
