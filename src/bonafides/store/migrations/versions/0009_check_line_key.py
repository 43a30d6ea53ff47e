"""check lines keyed by (check, line), without a surrogate id or a foreign key

A batch check writes a line per screened code, a million in one run: the surrogate key's
index and the per-row foreign-key lookup were a third of that write on PostgreSQL. Lines
are written only by the batch service, in the transaction that writes their check, and
the check's audited ``lines_digest`` pins them; (check_id, line) was already unique.

Revision ID: 0009_check_line_key
Revises: 0008_escalation
Create Date: 2026-11-27 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_check_line_key"
down_revision: str | None = "0008_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("check_lines", schema=None) as batch_op:
        batch_op.drop_constraint("fk_check_lines_check_id_checks", type_="foreignkey")
        batch_op.drop_constraint("uq_check_lines_check_id_line", type_="unique")
        batch_op.drop_constraint("pk_check_lines", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_check_lines", ["check_id", "line"])


def downgrade() -> None:
    with op.batch_alter_table("check_lines", schema=None) as batch_op:
        batch_op.drop_constraint("pk_check_lines", type_="primary")
        batch_op.add_column(sa.Column("id", _ID, nullable=True))
    op.execute(
        "UPDATE check_lines SET id = n.rn FROM (SELECT check_id, line, row_number() "
        "OVER (ORDER BY check_id, line) AS rn FROM check_lines) AS n "
        "WHERE check_lines.check_id = n.check_id AND check_lines.line = n.line"
    )
    with op.batch_alter_table("check_lines", schema=None) as batch_op:
        batch_op.alter_column("id", existing_type=_ID, nullable=False)
        batch_op.create_primary_key("pk_check_lines", ["id"])
        batch_op.create_unique_constraint("uq_check_lines_check_id_line", ["check_id", "line"])
        batch_op.create_foreign_key(
            "fk_check_lines_check_id_checks", "checks", ["check_id"], ["id"]
        )
