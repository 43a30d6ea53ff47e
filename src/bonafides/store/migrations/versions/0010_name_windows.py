"""PostgreSQL statistics on how many names hold each three-character window

Name search asks the trigram index only for the windows of a query that few names hold
(store/name_stats.py). Counting every window exactly at ingest would make each new name
update the same few rows (有限公, 限公司), one lock that all ingest would queue on.
ANALYZE already samples the table; an expression statistic over each name's windows makes
it keep their most common elements and frequencies, and autovacuum keeps them current.
The function is used only there, on ANALYZE's sample. SQLite needs none of this: its
``fts5vocab`` table counts the trigrams exactly (0004_search).

Revision ID: 0010_name_windows
Revises: 0009_check_line_key
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_name_windows"
down_revision: str | None = "0009_check_line_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Every window of the lower-cased name, once per name: search asks only for those
    # of a query's words, as store/search.py's query_windows() cuts them.
    op.execute(
        "CREATE FUNCTION name_windows(name text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(DISTINCT substr(lower(name), i, 3)), '{}') "
        "FROM generate_series(1, char_length(name) - 2) AS i $$"
    )
    op.execute("CREATE STATISTICS subject_names_windows ON (name_windows(name)) FROM subject_names")
    op.execute("ANALYZE subject_names")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS subject_names_windows")
    op.execute("DROP FUNCTION IF EXISTS name_windows(text)")
