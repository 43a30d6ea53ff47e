"""Backup and restore drills on both stores, through the commands an operator types.

A store with records, a screening, an objection with an attachment and a signed audit
checkpoint is backed up, restored into a fresh database and a fresh data directory, and
must come back whole: the same row counts, the same audit head, a chain that verifies,
and a subject's file readable through the service.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from bonafides.app.backup import MANIFEST, backup, restore, summary
from bonafides.app.screening import check
from bonafides.cli import app
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.records import RecordStatus, SubjectRef
from bonafides.security import audit
from bonafides.security.roles import Role
from bonafides.settings import Settings, get_settings
from bonafides.store.db import alembic_config, make_engine, migrate
from bonafides.store.profiles import load_profile
from bonafides.workflows import attachments, objections
from tests import factories
from tests.conftest import partitions_of
from tests.security.world import SECRET, World, cheap_passwords, ctx, settings, world

__all__ = ["cheap_passwords", "ctx", "settings", "world"]

#: Also on PostgreSQL partitioned by subject (migration 0031): pg_dump and pg_restore
#: carry the partitions, ``record_keys`` and its triggers.
pytestmark = pytest.mark.partitioned

runner = CliRunner()
RECEIPT = attachments.Upload("receipt.pdf", "application/pdf", b"%PDF-1.7\nreceipt\n%%EOF\n")


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI sees the world's secret and data directory."""
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", SECRET)
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def target_url(db_url: str, tmp_path: Path, pg_admin_url: str | None) -> Iterator[str]:
    """A fresh store of the same kind: no SQLite file yet; a new, empty PostgreSQL database."""
    if make_url(db_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'bonafides.db'}"
        return
    assert pg_admin_url is not None
    name = f"bonafides_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _populate(world: World) -> SubjectRef:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    record_id = world.penalty(firm)
    world.penalty(factories.org())
    check(world.ctx, firm.code, "procurement.bid", inquirer="bank", purpose="tender")
    with world.ctx.sessions.begin() as session:
        objections.open_objection(
            session,
            world.services(),
            world.principal("firm"),
            record_id=record_id,
            grounds="The decision names the wrong branch of the company.",
            uploads=[RECEIPT],
        )
    result = runner.invoke(app, ["audit", "checkpoint", "--db", world.ctx.settings.db])
    assert result.exit_code == 0, result.output
    return firm


def _restore(args: list[str], data_dir: Path) -> Result:
    """Run a restore whose platform keeps its files in ``data_dir``."""
    get_settings.cache_clear()
    try:
        return runner.invoke(app, args, env={"BONAFIDES_DATA_DIR": str(data_dir)})
    finally:
        get_settings.cache_clear()


def _summary_of(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return summary(conn)
    finally:
        engine.dispose()


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_restore_drill(
    world: World, env: None, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    firm = _populate(world)
    out = tmp_path / "backup"
    made = runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "BONAFIDES_SECRET_KEY is not in the backup" in made.output
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    assert manifest == {**manifest, "store": make_url(settings.db).get_backend_name()}
    assert "not in this backup" in manifest["secret_key"]
    assert manifest["private_keys"] is False
    assert not list(out.rglob("report-signing.pem"))
    assert manifest["tables"]["records"] == 2
    assert manifest["tables"]["objections"] == 1
    assert manifest["tables"]["checks"] == 1
    assert manifest["tables"]["audit_checkpoints"] >= 1
    assert any(name.startswith("attachments/") for name in manifest["files"])
    assert any(name.startswith("keys/public/") for name in manifest["files"])

    restored_dir = tmp_path / "restored-var"
    done = _restore(["restore", str(out), "--db", target_url], restored_dir)
    assert done.exit_code == 0, done.output
    assert "audit chain intact" in done.output

    assert _summary_of(target_url) == _summary_of(settings.db)
    restored = Context(settings.model_copy(update={"db": target_url, "data_dir": restored_dir}))
    try:
        with restored.sessions() as session:
            chain = audit.verify(session)
            assert chain.ok, chain.reason
            assert chain.checkpoints >= 1
            assert chain.checked == manifest["audit_head"]["count"]
            profile = load_profile(
                session, restored.keys, firm.code, audience=Audience.OPERATOR, today=world.today
            )
        assert profile is not None
        assert [r.status for r in profile.records] == [RecordStatus.UNDER_OBJECTION]
    finally:
        restored.close()
    assert list((restored_dir / "attachments").rglob("*"))


def test_a_tampered_backup_is_refused_before_anything_is_written(
    world: World, env: None, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    _populate(world)
    out = tmp_path / "backup"
    assert runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)]).exit_code == 0
    dump = next(p for p in out.iterdir() if p.name.startswith("store."))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    restored_dir = tmp_path / "restored-var"
    result = _restore(["restore", str(out), "--db", target_url], restored_dir)
    assert result.exit_code == 2
    assert "does not match its SHA-256" in result.output
    assert not restored_dir.exists()
    if make_url(target_url).get_backend_name() == "sqlite":
        assert not Path(str(make_url(target_url).database)).exists()
    else:
        assert _tables(target_url) == []


def test_a_file_added_to_a_backup_is_refused(
    world: World, env: None, settings: Settings, tmp_path: Path, target_url: str
) -> None:
    _populate(world)
    out = tmp_path / "backup"
    assert runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)]).exit_code == 0
    (out / "keys" / "public" / "0123456789abcdef.pem").write_text("not ours")
    result = runner.invoke(app, ["restore", str(out), "--db", target_url])
    assert result.exit_code == 2
    assert "is not in the manifest" in result.output


def test_a_non_empty_store_is_replaced_only_with_force(
    world: World, env: None, settings: Settings, tmp_path: Path
) -> None:
    _populate(world)
    out = tmp_path / "backup"
    assert runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)]).exit_code == 0
    before = _summary_of(settings.db)
    world.penalty(factories.org())
    refused = runner.invoke(app, ["restore", str(out), "--db", settings.db])
    assert refused.exit_code == 2
    assert "not empty" in refused.output
    assert _summary_of(settings.db) != before
    world.ctx.close()
    forced = runner.invoke(app, ["restore", str(out), "--db", settings.db, "--force"])
    assert forced.exit_code == 0, forced.output
    assert _summary_of(settings.db) == before


def test_the_private_report_key_is_copied_only_when_asked(
    world: World, env: None, settings: Settings, tmp_path: Path
) -> None:
    _populate(world)
    out = tmp_path / "backup"
    made = runner.invoke(
        app, ["backup", "--db", settings.db, "--out", str(out), "--with-private-keys"]
    )
    assert made.exit_code == 0, made.output
    private = out / "keys" / "report-signing.pem"
    assert private.is_file()
    assert private.stat().st_mode & 0o077 == 0
    assert json.loads((out / MANIFEST).read_text("utf-8"))["private_keys"] is True


def test_a_backup_goes_only_into_an_empty_directory(
    world: World, env: None, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "backup"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    result = runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)])
    assert result.exit_code == 2
    assert (out / "old.txt").read_text() == "keep me"


def test_a_backup_taken_under_writes_restores_whole(
    world: World, env: None, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    """The platform keeps writing during the backup; the snapshot, its counts and its
    audit head still agree, so the restore verifies."""
    _populate(world)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        while not stop.is_set():
            written.append(world.penalty(factories.org()))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 3:
            time.sleep(0.01)
        ctx = Context(settings)
        try:
            manifest = backup(ctx, tmp_path / "backup")
        finally:
            ctx.close()
    finally:
        stop.set()
        writer.join()
    assert 2 < manifest["tables"]["records"] < len(written) + 2
    done = _restore(["restore", str(tmp_path / "backup"), "--db", target_url], tmp_path / "v")
    assert done.exit_code == 0, done.output


def test_a_restore_under_another_secret_does_not_verify(
    world: World, env: None, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    _populate(world)
    out = tmp_path / "backup"
    assert runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)]).exit_code == 0
    get_settings.cache_clear()
    result = runner.invoke(
        app,
        ["restore", str(out), "--db", target_url],
        env={"BONAFIDES_SECRET_KEY": "another-secret-0123456789"},
    )
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert "audit chain broken" in result.output


def test_an_older_backup_is_migrated_forward_after_it_verifies(
    world: World, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    world.penalty(factories.org())
    world.ctx.close()
    partitions = partitions_of(world.ctx.engine)
    command.downgrade(alembic_config(world.ctx.engine), "0014_audit_anchor")
    older = Context(settings)
    try:
        manifest = backup(older, tmp_path / "backup")
    finally:
        older.close()
        # The PostgreSQL store is shared by the run: later tests need its tables back,
        # those of migrations after 0014 included, partitioned as they were.
        migrate(world.ctx.engine, partitions=partitions)
        world.ctx.engine.dispose()
    assert manifest["revision"] == ["0014_audit_anchor"]
    target = settings.model_copy(update={"db": target_url, "data_dir": tmp_path / "v"})
    report = restore(target, tmp_path / "backup")
    heads = ScriptDirectory.from_config(alembic_config(world.ctx.engine)).get_heads()
    assert report.migrated_to == sorted(heads)
    assert _summary_of(target_url)["revision"] == sorted(heads)


def test_a_migrated_store_counts_as_empty(
    world: World, env: None, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    """Only migrated, a store is empty though SQLite's search index keeps rows of its own."""
    world.penalty(factories.org())
    out = tmp_path / "backup"
    assert runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)]).exit_code == 0
    if make_url(target_url).get_backend_name() == "sqlite":
        Path(str(make_url(target_url).database)).parent.mkdir()
    engine = make_engine(target_url)
    migrate(engine)
    engine.dispose()
    result = _restore(["restore", str(out), "--db", target_url], tmp_path / "v")
    assert result.exit_code == 0, result.output


def test_a_backup_of_a_newer_schema_is_refused_before_anything_is_written(
    world: World, env: None, settings: Settings, target_url: str, tmp_path: Path
) -> None:
    world.penalty(factories.org())
    out = tmp_path / "backup"
    assert runner.invoke(app, ["backup", "--db", settings.db, "--out", str(out)]).exit_code == 0
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    (out / MANIFEST).write_text(json.dumps({**manifest, "revision": ["9999_from_the_future"]}))
    result = _restore(["restore", str(out), "--db", target_url], tmp_path / "v")
    assert result.exit_code == 2
    assert "9999_from_the_future is unknown" in result.output
    assert not (tmp_path / "v").exists()
    if make_url(target_url).get_backend_name() == "postgresql":
        assert _tables(target_url) == []
    else:
        assert not Path(str(make_url(target_url).database)).exists()


def test_no_store_no_backup(env: None, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    result = runner.invoke(
        app, ["backup", "--db", f"sqlite:///{missing}", "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 2
    assert "no SQLite store" in result.output
    assert not missing.exists()
