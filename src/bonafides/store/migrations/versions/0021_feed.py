"""change feed, watchlists and webhook deliveries

``feed_events`` holds every change a consumer may see, with its id as the cursor; the
write paths append to it in the transaction of the change (issue 16, item 1).
``watchlists``, ``watched_subjects`` and ``webhook_deliveries`` let an enterprise or a
bank be told, by a signed POST, when a counterparty's public status changes (item 5).
A store upgraded to this revision starts its feed empty: the feed says what changed
from then on; a consumer starts from a snapshot (docs/api.md, "Change feed").

Revision ID: 0021_feed
Revises: 0020_register
Create Date: 2026-12-06 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0021_feed"
down_revision: str | None = "0020_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_events",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", _AT, nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("subject_id", _BIG, nullable=True),
        sa.Column("subject_code", sa.String(length=18), nullable=True),
        sa.Column("record_id", _BIG, nullable=True),
        sa.Column("record_version", sa.Integer(), nullable=True),
        sa.Column("list_entry_id", _BIG, nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("disclosure", sa.String(length=16), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("tombstone", sa.Boolean(), nullable=False),
        sa.Column("payload", bonafides.store.types.Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
    )
    op.create_index("ix_feed_events_is_public_id", "feed_events", ["is_public", "id"])
    op.create_index(op.f("ix_feed_events_subject_id"), "feed_events", ["subject_id"])
    op.create_index(op.f("ix_feed_events_record_id"), "feed_events", ["record_id"])
    op.create_index(op.f("ix_feed_events_list_entry_id"), "feed_events", ["list_entry_id"])
    op.create_table(
        "watchlists",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", _BIG, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("cursor", _BIG, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_watchlists_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlists")),
    )
    op.create_index(op.f("ix_watchlists_account_id"), "watchlists", ["account_id"])
    op.create_table(
        "watched_subjects",
        sa.Column("watchlist_id", _BIG, autoincrement=False, nullable=False),
        sa.Column("subject_key", sa.String(length=80), nullable=False),
        sa.Column("code_display", sa.String(length=18), nullable=False),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_watched_subjects_watchlist_id_watchlists"),
        ),
        sa.PrimaryKeyConstraint("watchlist_id", "subject_key", name=op.f("pk_watched_subjects")),
    )
    op.create_index("ix_watched_subjects_subject_key", "watched_subjects", ["subject_key"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("watchlist_id", _BIG, nullable=False),
        sa.Column("event_id", _BIG, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", _AT, nullable=False),
        sa.Column("last_at", _AT, nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_webhook_deliveries_watchlist_id_watchlists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "watchlist_id", "event_id", name=op.f("uq_webhook_deliveries_watchlist_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_at", "webhook_deliveries", ["status", "next_at"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("watched_subjects")
    op.drop_table("watchlists")
    op.drop_table("feed_events")
