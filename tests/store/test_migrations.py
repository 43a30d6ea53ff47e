"""Every Alembic migration downgrades and upgrades again on a populated store, both stores
(issue 19, item 6).

Each store is a scratch database of its own (never the suite's shared one), filled
through the real services: subjects, names, records and versions, a batch screening
(checks and check lines, which 0009 rebuilds), an amendment linked to its subjects, audit
events and a signed checkpoint. Walking down from the head one revision at a time, each
downgrade must keep every row of the tables it leaves, and the upgrade after it must
bring the schema back with those rows untouched. The branched revisions (0003 to 0006,
merged by 0007) are undone together and redone by upgrading to the heads.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from bonafides.app.screening import screen_file
from bonafides.context import Context
from bonafides.records import digest
from bonafides.rules.records import write_records
from bonafides.screening.answer import named_parts
from bonafides.security import audit
from bonafides.security.anchor import checkpoint_now
from bonafides.settings import Settings
from bonafides.store.db import alembic_config, make_engine
from bonafides.store.tables import Base
from bonafides.store.types import utcnow
from tests import factories
from tests.web import seed

SECRET = "migration-test-secret-0123456789"


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_admin_url: str | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    if pg_admin_url is None:
        pytest.skip("PostgreSQL is not running here (scripts/postgres.sh starts it)")
    name = f"bonafides_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _populate(ctx: Context, tmp_path: Path) -> None:
    codes = seed.seed(ctx, today=dt.date(2026, 6, 1))  # migrates to the heads first
    firms = [factories.org() for _ in range(3)]
    numbers = [f"京市监罚〔2026〕{700 + n}号" for n in range(3)]
    for fine, reason in (("1.5", "first submission"), ("4.5", "fine corrected")):
        with ctx.sessions.begin() as session:
            write_records(
                session,
                ctx.keys,
                [
                    factories.penalty(firm, decision_no=no, fine=fine)
                    for firm, no in zip(firms, numbers, strict=True)
                ],
                actor="samr",
                amend_reason=reason,
            )
    source = tmp_path / "screen.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["统一社会信用代码"])
        writer.writerows([[codes["target"]], [codes["listed"]], [firms[0].code]])
    screen_file(
        ctx,
        source,
        action="procurement.bid",
        as_of=dt.date(2026, 6, 1),
        inquirer="t@mof",
        purpose="tender 7",
        out=tmp_path / "screened.csv",
    )
    with ctx.sessions.begin() as session:
        checkpoint_now(session, utcnow())


def _counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the platform's schema, for the tables the store has now."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in sorted(Base.metadata.tables)
            if name in present
        }


def _chain_ok(ctx: Context) -> audit.ChainReport:
    with ctx.sessions() as session:
        return audit.verify(session)


def _linear_steps(script: ScriptDirectory) -> tuple[list[tuple[str, str]], str]:
    """(revision, its parent) from the head down to the first merge; and the merge."""
    steps: list[tuple[str, str]] = []
    revision = script.get_current_head()
    assert revision is not None
    while True:
        current = script.get_revision(revision)
        assert current is not None
        parent = current.down_revision
        if not isinstance(parent, str):
            return steps, revision
        steps.append((revision, parent))
        revision = parent


def test_every_migration_downgrades_and_upgrades_on_a_populated_store(
    scratch_url: str, tmp_path: Path
) -> None:
    ctx = Context(Settings(db=scratch_url, secret_key=SECRET, data_dir=tmp_path / "var"))
    engine = make_engine(scratch_url)
    try:
        _populate(ctx, tmp_path)
        full = _counts(engine)
        filled = {name for name, rows in full.items() if rows}
        for name in (
            "subjects",
            "records",
            "record_versions",
            "checks",
            "check_lines",
            "subject_access",
            "audit_events",
            "audit_checkpoints",
        ):
            assert name in filled, f"the populated store has no {name}"
        assert _chain_ok(ctx).ok
        cfg = alembic_config(engine)
        steps, merge = _linear_steps(ScriptDirectory.from_config(cfg))
        assert any("audit_anchor" in revision for revision, _ in steps)
        assert merge == "0007_merge_areas"
        for revision, parent in steps:
            before = _counts(engine)
            if revision.startswith("0033_"):
                # Below 0033 a batch screening's subjects are linked by rows: its
                # downgrade writes them (the populated store's batch screened three).
                before["subject_access"] += 3
            command.downgrade(cfg, parent)
            down = _counts(engine)
            assert down == {name: before[name] for name in down}, f"{revision} downgrade"
            command.upgrade(cfg, revision)
            up = _counts(engine)
            assert set(up) == set(before), f"{revision} upgrade brings back its tables"
            assert {name: up[name] for name in down} == down, f"{revision} upgrade"
            if "audit_anchor" in revision:
                # The keyed mark is found again: the chain still verifies after the trip.
                report = _chain_ok(ctx)
                assert report.ok, report
                assert report.keyed_from == 1
            command.downgrade(cfg, parent)
        before = _counts(engine)
        command.downgrade(cfg, "0002")
        down = _counts(engine)
        assert down == {name: before[name] for name in down}, "0003-0007 downgrade"
        assert down["records"] == full["records"]
        command.upgrade(cfg, "heads")
        up = _counts(engine)
        assert set(up) == set(full), "every table is back"
        assert {name: up[name] for name in down} == down
        command.downgrade(cfg, "base")
        assert not set(_counts(engine)), "base has none of the platform's tables"
        command.upgrade(cfg, "heads")
        assert set(_counts(engine)) == set(full)
    finally:
        engine.dispose()
        ctx.close()


_PARTITIONED = ("records", "record_versions", "list_entries", "check_lines")


def _shape(engine: Engine) -> dict[str, list[str]]:
    """Constraints, indexes and partition keys of the tables 0031 rebuilds, and of those
    holding a foreign key to a record, as PostgreSQL spells them."""
    names = (*_PARTITIONED, "match_links", "objections", "repair_applications")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, 'constraint ' || k.conname || ' ' || "
                "pg_get_constraintdef(k.oid) FROM pg_constraint k "
                "JOIN pg_class c ON c.oid = k.conrelid WHERE c.relname = ANY(:names) "
                "UNION ALL SELECT tablename, 'index ' || indexdef FROM pg_indexes "
                "WHERE tablename = ANY(:names) "
                "UNION ALL SELECT c.relname, 'partitioned ' || pg_get_partkeydef(c.oid) "
                "FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relname = ANY(:names)"
            ),
            {"names": list(names)},
        ).all()
    shape: dict[str, list[str]] = {}
    for name, line in rows:
        shape.setdefault(name, []).append(line)
    return {name: sorted(lines) for name, lines in shape.items()}


def _digests(engine: Engine) -> dict[str, str]:
    """Every row of the four tables, ids included, as one digest per table."""
    with engine.connect() as conn:
        return {
            name: conn.execute(
                text(f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {name} t")
            ).scalar_one()
            for name in _PARTITIONED
        }


def test_partitioned_store_downgrades_to_plain_tables_and_back(
    scratch_url: str, tmp_path: Path, pg_database: str | None
) -> None:
    """0031 with ``BONAFIDES_PG_PARTITIONS``: down to the plain tables of a store never
    partitioned, then partitioned again, every row and id kept, the chain intact."""
    if not scratch_url.startswith("postgresql") or pg_database is None:
        pytest.skip("partitioning is PostgreSQL's")
    settings = Settings(
        db=scratch_url, secret_key=SECRET, data_dir=tmp_path / "var", pg_partitions=4
    )
    ctx = Context(settings)
    engine = make_engine(scratch_url)
    plain = make_engine(pg_database)
    try:
        _populate(ctx, tmp_path)
        # Below 0038 a batch's answers are kept whole: they are put so first, so that the
        # rows compared below are the ones every later step keeps as they are.
        command.downgrade(alembic_config(engine), "0037_cited_key")
        command.upgrade(alembic_config(engine, partitions=4), "heads")
        full, rows, partitioned = _counts(engine), _digests(engine), _shape(engine)
        assert all(full[name] for name in _PARTITIONED if name != "list_entries")
        for name in _PARTITIONED:
            assert "partitioned HASH (subject_id)" in partitioned[name]
        assert partitioned != _shape(plain)
        command.downgrade(alembic_config(engine), "0030_match_entries")
        # 0033's downgrade links the batch's three screened subjects by rows.
        linked = {**full, "subject_access": full["subject_access"] + 3}
        down = _counts(engine)
        assert down == {name: linked[name] for name in down}
        assert _digests(engine) == rows
        assert "record_keys" not in inspect(engine).get_table_names()
        assert _chain_ok(ctx).ok
        command.upgrade(alembic_config(engine), "heads")
        assert _shape(engine) == _shape(plain), "the tables of a store never partitioned"
        assert _chain_ok(ctx).ok
        command.downgrade(alembic_config(engine), "0030_match_entries")
        command.upgrade(alembic_config(engine, partitions=4), "heads")
        assert _shape(engine) == partitioned
        assert _counts(engine) == linked
        assert _digests(engine) == rows
        with engine.connect() as conn:
            keys = conn.execute(text("SELECT count(*) FROM record_keys")).scalar_one()
        assert keys == full["records"]
        assert _chain_ok(ctx).ok
    finally:
        plain.dispose()
        engine.dispose()
        ctx.close()


def _listed_lines(engine: Engine) -> list[tuple[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT digest, answer FROM check_lines WHERE status = 'measures_apply'")
        ).all()
    return [(row[0], row[1] if isinstance(row[1], dict) else json.loads(row[1])) for row in rows]


def test_answer_parts_downgrade_puts_every_answer_back_whole(
    scratch_url: str, tmp_path: Path
) -> None:
    """Below 0038 nothing reads the parts: each compacted line gets its whole answer back,
    the one its digest was taken over, and the upgrade after it reads them as they are."""
    ctx = Context(Settings(db=scratch_url, secret_key=SECRET, data_dir=tmp_path / "var"))
    engine = make_engine(scratch_url)
    try:
        _populate(ctx, tmp_path)
        compacted = _listed_lines(engine)
        assert compacted
        assert all(named_parts(answer) for _, answer in compacted)
        cfg = alembic_config(engine)
        command.downgrade(cfg, "0037_cited_key")
        whole = _listed_lines(engine)
        assert len(whole) == len(compacted)
        for stored_digest, answer in whole:
            assert not named_parts(answer)
            assert digest(answer) == stored_digest
        command.upgrade(cfg, "heads")
        assert _listed_lines(engine) == whole
    finally:
        engine.dispose()
        ctx.close()
