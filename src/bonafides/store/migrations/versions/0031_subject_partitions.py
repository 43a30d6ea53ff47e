"""opt-in: records, versions, list entries and check lines hash-partitioned by subject

On PostgreSQL, with ``BONAFIDES_PG_PARTITIONS=N`` (N >= 2; ``migrate(partitions=N)``), the
four tables that grow with subjects become native hash-partitioned tables on
``subject_id``, N partitions each, so a query that carries the subject reads one
partition. Without the setting, and on SQLite, this revision changes nothing.

A partitioned table's primary key and unique constraints must include the partition key,
and a foreign key must reference a unique key of the table it names. So, partitioned:

- ``records``: key (id, subject_id). The idempotency key (source, decision_no, party) and
  the id stay unique across all subjects through ``record_keys``, a plain table kept by
  statement triggers on ``records`` (insert, update of the key, delete, truncate); the
  foreign keys that named ``records(id)`` (versions, match links, objections, repairs,
  merged records) name ``record_keys(id)``, so they still refuse a dangling record.
  The application reads and writes ``records`` as before and never sees ``record_keys``.
- ``record_versions``: key (id, subject_id); (record_id, version) is unique per subject
  (a version's subject is the record's when it was written: a merger moves the record,
  not its history). The version number comes from the record's row, which the writer
  updates in the same statement, so two versions of one number cannot both be written.
- ``list_entries``: key (id, subject_id).
- ``check_lines``: an unmatched line has no subject, and a key column cannot be null: the
  key becomes unique (check_id, line, subject_id) with nulls not distinct.

Ids keep their sequences (PostgreSQL 15 has no identity columns on partitioned tables;
the schema uses sequences already). The rows are copied, so on a large store run it in a
maintenance window. Downgrade rebuilds the plain tables whatever the setting says now.

Revision ID: 0031_subject_partitions
Revises: 0030_match_entries
Create Date: 2026-12-06 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op
from sqlalchemy import text

revision: str = "0031_subject_partitions"
down_revision: str | None = "0030_match_entries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The constraints and indexes of each table, plain (as 0001 to 0029 left them) and
#: partitioned; names are kept where the meaning is.
_PLAIN: dict[str, tuple[str, ...]] = {
    "records": (
        "ALTER TABLE records ADD CONSTRAINT pk_records PRIMARY KEY (id)",
        "ALTER TABLE records ADD CONSTRAINT uq_records_source_decision_no_party "
        "UNIQUE (source, decision_no, party)",
    ),
    "record_versions": (
        "ALTER TABLE record_versions ADD CONSTRAINT pk_record_versions PRIMARY KEY (id)",
        "ALTER TABLE record_versions ADD CONSTRAINT uq_record_versions_record_id_version "
        "UNIQUE (record_id, version)",
    ),
    "list_entries": ("ALTER TABLE list_entries ADD CONSTRAINT pk_list_entries PRIMARY KEY (id)",),
    "check_lines": (
        "ALTER TABLE check_lines ADD CONSTRAINT pk_check_lines PRIMARY KEY (check_id, line)",
    ),
}
_PARTITIONED: dict[str, tuple[str, ...]] = {
    "records": (
        "ALTER TABLE records ADD CONSTRAINT pk_records PRIMARY KEY (id, subject_id)",
        # The per-subject form of the idempotency key; record_keys holds the global one.
        "ALTER TABLE records ADD CONSTRAINT uq_records_source_decision_no_party_subject_id "
        "UNIQUE (source, decision_no, party, subject_id)",
    ),
    "record_versions": (
        "ALTER TABLE record_versions ADD CONSTRAINT pk_record_versions "
        "PRIMARY KEY (id, subject_id)",
        "ALTER TABLE record_versions ADD CONSTRAINT "
        "uq_record_versions_record_id_version_subject_id "
        "UNIQUE (record_id, version, subject_id)",
    ),
    "list_entries": (
        "ALTER TABLE list_entries ADD CONSTRAINT pk_list_entries PRIMARY KEY (id, subject_id)",
    ),
    "check_lines": (
        "ALTER TABLE check_lines ADD CONSTRAINT uq_check_lines_check_id_line_subject_id "
        "UNIQUE NULLS NOT DISTINCT (check_id, line, subject_id)",
    ),
}
#: What both shapes share: indexes and the foreign keys these tables hold.
_COMMON: dict[str, tuple[str, ...]] = {
    "records": (
        "CREATE INDEX ix_records_subject_id_type_code ON records (subject_id, type_code)",
        "CREATE INDEX ix_records_type_code_status ON records (type_code, status)",
        "ALTER TABLE records ADD CONSTRAINT fk_records_source_departments "
        "FOREIGN KEY (source) REFERENCES departments (code)",
        "ALTER TABLE records ADD CONSTRAINT fk_records_subject_id_subjects "
        "FOREIGN KEY (subject_id) REFERENCES subjects (id)",
        "ALTER TABLE records ADD CONSTRAINT fk_records_type_code_record_types "
        "FOREIGN KEY (type_code) REFERENCES record_types (code)",
    ),
    "record_versions": (),
    "list_entries": (
        "CREATE INDEX ix_list_entries_subject_id_status ON list_entries (subject_id, status)",
        "CREATE INDEX ix_list_entries_list_code_status "
        "ON list_entries (list_code, status, valid_from)",
        "ALTER TABLE list_entries ADD CONSTRAINT fk_list_entries_subject_id_subjects "
        "FOREIGN KEY (subject_id) REFERENCES subjects (id)",
    ),
    "check_lines": (),
}
_SEQUENCES = {
    "records": "records_id_seq",
    "record_versions": "record_versions_id_seq",
    "list_entries": "list_entries_id_seq",
}
#: The foreign keys that name a record by its id, and the tables that hold them.
_RECORD_REFERENCES = (
    ("record_versions", "fk_record_versions_record_id_records"),
    ("match_links", "fk_match_links_record_id_records"),
    ("objections", "fk_objections_record_id_records"),
    ("repair_applications", "fk_repair_applications_record_id_records"),
    ("subject_merge_records", "fk_subject_merge_records_record_id_records"),
)

_RECORD_KEYS = (
    "CREATE TABLE record_keys (id BIGINT NOT NULL, source VARCHAR(32) NOT NULL, "
    "decision_no VARCHAR(128) NOT NULL, party VARCHAR(80) NOT NULL, "
    "CONSTRAINT pk_record_keys PRIMARY KEY (id), "
    "CONSTRAINT uq_record_keys_source_decision_no_party UNIQUE (source, decision_no, party))",
    "INSERT INTO record_keys (id, source, decision_no, party) "
    "SELECT id, source, decision_no, party FROM records",
    """CREATE FUNCTION record_keys_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_keys (id, source, decision_no, party)
    SELECT id, source, decision_no, party FROM new_rows;
    RETURN NULL;
END $$""",
    """CREATE FUNCTION record_keys_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE record_keys AS k
    SET source = n.source, decision_no = n.decision_no, party = n.party
    FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
    WHERE k.id = n.id
      AND (n.source, n.decision_no, n.party) IS DISTINCT FROM (o.source, o.decision_no, o.party);
    RETURN NULL;
END $$""",
    """CREATE FUNCTION record_keys_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_keys AS k USING old_rows AS o WHERE k.id = o.id;
    RETURN NULL;
END $$""",
    """CREATE FUNCTION record_keys_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_keys;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER record_keys_inserted AFTER INSERT ON records "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION record_keys_inserted()",
    "CREATE TRIGGER record_keys_updated AFTER UPDATE ON records "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION record_keys_updated()",
    "CREATE TRIGGER record_keys_deleted AFTER DELETE ON records "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION record_keys_deleted()",
    "CREATE TRIGGER record_keys_truncated AFTER TRUNCATE ON records "
    "FOR EACH STATEMENT EXECUTE FUNCTION record_keys_truncated()",
)
_DROP_RECORD_KEYS = (
    "DROP TRIGGER record_keys_inserted ON records",
    "DROP TRIGGER record_keys_updated ON records",
    "DROP TRIGGER record_keys_deleted ON records",
    "DROP TRIGGER record_keys_truncated ON records",
    "DROP FUNCTION record_keys_inserted()",
    "DROP FUNCTION record_keys_updated()",
    "DROP FUNCTION record_keys_deleted()",
    "DROP FUNCTION record_keys_truncated()",
    "DROP TABLE record_keys",
)


def _partitions() -> int:
    """How many partitions were asked for: ``migrate(partitions=N)``, 0 or 1 for none."""
    value = context.config.attributes.get("pg_partitions") or 0
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"pg_partitions must be a whole number >= 0, not {value!r}")
    return value


def _is_partitioned() -> bool:
    return bool(
        op.get_bind()
        .execute(
            text(
                "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = to_regclass('records')"
            )
        )
        .scalar_one()
    )


def _rebuild(name: str, partitions: int) -> None:
    """``name`` again, its rows copied: hash-partitioned on subject_id, or plain (0)."""
    new = f"{name}__rebuilt"
    spec = " PARTITION BY HASH (subject_id)" if partitions else ""
    op.execute(f"CREATE TABLE {new} (LIKE {name} INCLUDING DEFAULTS){spec}")
    for remainder in range(partitions):
        op.execute(
            f"CREATE TABLE {name}_p{remainder:03d} PARTITION OF {new} "
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})"
        )
    op.execute(f"INSERT INTO {new} SELECT * FROM {name}")  # noqa: S608 (names of this file)
    if name in _SEQUENCES:
        op.execute(f"ALTER SEQUENCE {_SEQUENCES[name]} OWNED BY {new}.id")
    op.execute(f"DROP TABLE {name}")
    op.execute(f"ALTER TABLE {new} RENAME TO {name}")
    for statement in (_PARTITIONED if partitions else _PLAIN)[name] + _COMMON[name]:
        op.execute(statement)


def _drop_record_references() -> None:
    for holder, constraint in _RECORD_REFERENCES:
        op.execute(f"ALTER TABLE {holder} DROP CONSTRAINT {constraint}")


def _add_record_references(target: str) -> None:
    for holder, constraint in _RECORD_REFERENCES:
        op.execute(
            f"ALTER TABLE {holder} ADD CONSTRAINT {constraint} "
            f"FOREIGN KEY (record_id) REFERENCES {target} (id)"
        )


def upgrade() -> None:
    partitions = _partitions()
    if op.get_bind().dialect.name != "postgresql" or partitions < 2:
        return
    _drop_record_references()
    for name in _PLAIN:
        _rebuild(name, partitions)
    for statement in _RECORD_KEYS:
        op.execute(statement)
    _add_record_references("record_keys")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql" or not _is_partitioned():
        return
    _drop_record_references()
    for statement in _DROP_RECORD_KEYS:
        op.execute(statement)
    for name in _PLAIN:
        _rebuild(name, 0)
    _add_record_references("records")
