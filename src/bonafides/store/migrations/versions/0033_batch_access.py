"""a batch screening's access record is its check lines: the check names its event

A batch screening no longer writes a ``subject_access`` row per screened subject: each
stored line already names the subject, and the check names who asked, when and why. The
check keeps the id of its chained event (``checks.event_id``), and ``check_lines`` gets an
index by subject, so a subject's access log reads its lines of every batch directly and
the chain's verification finds the lines of each batch event.

Batches screened before keep their ``subject_access`` rows (``event_id`` stays null for
them), so nothing is shown twice and nothing is lost. The downgrade writes the rows of the
batches screened since (the first line naming each subject, as the log shows it), so an
older release shows them and its chain verification finds the links the events pin.

Revision ID: 0033_batch_access
Revises: 0032_feed_head_text
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_batch_access"
down_revision: str | None = "0032_feed_head_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", _BIG, nullable=True))
        batch_op.create_index("ix_checks_event_id", ["event_id"], unique=False)
    op.create_index("ix_check_lines_subject_id", "check_lines", ["subject_id", "check_id", "line"])


_LINKS = """
INSERT INTO subject_access (subject_id, event_id, object_ref)
SELECT l.subject_id, c.event_id, 'certificate ' || c.cert_id || '.' || CAST(min(l.line) AS VARCHAR)
FROM checks c JOIN check_lines l ON l.check_id = c.id
WHERE c.event_id IS NOT NULL AND l.subject_id IS NOT NULL
GROUP BY l.subject_id, c.event_id, c.cert_id
"""


def downgrade() -> None:
    op.execute(_LINKS)
    op.drop_index("ix_check_lines_subject_id", table_name="check_lines")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_index("ix_checks_event_id")
        batch_op.drop_column("event_id")
