"""name search index: FTS5 trigram on SQLite, pg_trgm on PostgreSQL

Revision ID: 0004_search
Revises: 0002
Create Date: 2026-11-27 03:00:00

Both stores index every row of ``subject_names`` (current and former names, Chinese
and English). SQLite keeps a trigram FTS5 table in step with triggers; each name is
indexed between two sentinel characters so that trigrams at the start and end of a
name exist, which is what lets a three-character name with one wrong character
still share trigrams with the right one; an ``fts5vocab`` table over it tells how many
names hold each trigram. PostgreSQL's pg_trgm pads words itself, so
a GIN index on the column is all it needs. A plain B-tree on the name serves exact
and prefix matches of queries too short for trigrams.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_search"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE INDEX ix_subject_names_name ON subject_names (name)")
        op.execute("CREATE VIRTUAL TABLE subject_name_search USING fts5(name, tokenize='trigram')")
        # How many names hold each trigram: search leaves out the ones most names hold.
        op.execute(
            "CREATE VIRTUAL TABLE subject_name_search_terms "
            "USING fts5vocab(subject_name_search, row)"
        )
        # Each name sits between char(2) and char(3), as store/search.py expects.
        op.execute(
            "INSERT INTO subject_name_search (rowid, name) "
            "SELECT id, char(2) || name || char(3) FROM subject_names"
        )
        op.execute(
            "CREATE TRIGGER subject_names_search_insert AFTER INSERT ON subject_names BEGIN "
            "INSERT INTO subject_name_search (rowid, name) "
            "VALUES (new.id, char(2) || new.name || char(3)); END"
        )
        op.execute(
            "CREATE TRIGGER subject_names_search_update AFTER UPDATE OF name ON subject_names "
            "BEGIN UPDATE subject_name_search SET name = char(2) || new.name || char(3) "
            "WHERE rowid = old.id; END"
        )
        op.execute(
            "CREATE TRIGGER subject_names_search_delete AFTER DELETE ON subject_names BEGIN "
            "DELETE FROM subject_name_search WHERE rowid = old.id; END"
        )
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_subject_names_name_pattern ON subject_names (name text_pattern_ops)"
    )
    op.execute(
        "CREATE INDEX ix_subject_names_name_trgm ON subject_names USING gin (name gin_trgm_ops)"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS subject_names_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS subject_name_search_terms")
        op.execute("DROP TABLE IF EXISTS subject_name_search")
        op.execute("DROP INDEX IF EXISTS ix_subject_names_name")
        return
    op.execute("DROP INDEX IF EXISTS ix_subject_names_name_trgm")
    op.execute("DROP INDEX IF EXISTS ix_subject_names_name_pattern")
