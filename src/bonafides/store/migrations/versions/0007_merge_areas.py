"""Join the area branches (rules, search, reports, accounts) into one head.

The four areas were built side by side, each branching from 0002; this revision
makes the history linear again so the next migration has a single parent.

Revision ID: 0007_merge_areas
Revises: 0003_rules, 0004_search, 0005_reports, 0006_accounts
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_merge_areas"
down_revision: str | Sequence[str] | None = (
    "0003_rules",
    "0004_search",
    "0005_reports",
    "0006_accounts",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch disjoint tables."""


def downgrade() -> None:
    """Nothing to undo."""
