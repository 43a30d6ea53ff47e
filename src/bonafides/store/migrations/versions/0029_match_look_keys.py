"""look-alike keys for name matching (bonafides-names-v2), postings in the key index

bonafides-names-v2 finds a name with a misread character (样康化工 for 祥康化工) by the
core with its look-alike characters folded (``match_keys.kind`` 6), no longer by one-
character masks that a large register makes too common. The keys of the names already
keyed are added here from their core keys (kind 0), so a store keyed before needs no
re-keying. The groups are frozen in this file as they were when it was written, so the
migration does the same whatever the code later holds.

The key index now holds the postings (subject, variant) too: reading a key's postings is
an index-only scan, where it was a random table read per posting (or, for thousands of
keys at once, a sequential scan of ten million rows at a million subjects).

Revision ID: 0029_match_look_keys
Revises: 0028_ingest_version_mark
Create Date: 2026-12-06 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_match_look_keys"
down_revision: str | None = "0028_ingest_version_mark"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CORE, _LOOK = 0, 6
_GROUPS = (
    "己已巳",
    "未末",
    "土士",
    "日曰",
    "人入八",
    "大太犬天夭",
    "王玉主",
    "刀力",
    "千干于午",
    "戊戌戍",
    "万方",
    "元无",
    "东车",
    "合含会",
    "中申",
    "百白",
    "广厂",
    "田由甲申",
    "免兔",
    "鸟乌",
    "贝见",
    "折析",
    "候侯",
    "拨拔",
    "准淮",
    "采釆",
    "兴舆",
    "汇江",
    "晨辰",
    "宏弘",
    "祥样",
    "锦绵",
    "佳住",
    "盛晟",
    "旭旮",
    "易昜",
)
_BATCH = 10_000


def _folds() -> dict[int, str]:
    parent: dict[str, str] = {}

    def root(ch: str) -> str:
        while parent.get(ch, ch) != ch:
            ch = parent[ch]
        return ch

    for group in _GROUPS:
        for ch in group[1:]:
            a, b = root(group[0]), root(ch)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {ord(ch): root(ch) for group in _GROUPS for ch in group}


def upgrade() -> None:
    op.drop_index("ix_match_keys_key_kind", table_name="match_keys")
    op.create_index(
        "ix_match_keys_postings", "match_keys", ["key", "kind", "subject_id", "variant"]
    )
    fold = _folds()
    keys = sa.table(
        "match_keys",
        sa.column("kind", sa.SmallInteger()),
        sa.column("key", sa.Text()),
        sa.column("subject_id", sa.BigInteger()),
        sa.column("variant", sa.SmallInteger()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(keys.c.key, keys.c.subject_id, keys.c.variant)
        .where(keys.c.kind == _CORE)
        .execution_options(yield_per=_BATCH)
    )
    looks = [
        {"kind": _LOOK, "key": key.translate(fold), "subject_id": sid, "variant": variant}
        for key, sid, variant in rows
        if any(ord(ch) in fold for ch in key)
    ]
    for start in range(0, len(looks), _BATCH):
        conn.execute(sa.insert(keys), looks[start : start + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_match_keys_postings", table_name="match_keys")
    op.create_index("ix_match_keys_key_kind", "match_keys", ["key", "kind"])
    keys = sa.table("match_keys", sa.column("kind", sa.SmallInteger()))
    op.get_bind().execute(sa.delete(keys).where(keys.c.kind == _LOOK))
