"""Backup and restore of a whole platform: the store, its public keys and its attachments.

A backup is a directory: the store as one consistent snapshot taken while the platform
runs (SQLite's online backup API; ``pg_dump -Fc`` in an exported snapshot on PostgreSQL),
the public report keys and certificates, the attachments, and ``manifest.json`` with the
row count of every table, the audit head, the Alembic revision and the SHA-256 of every
file. The counts and the head are read in the same snapshot as the dump, so they describe
exactly what the backup holds.

The master secret (``BONAFIDES_SECRET_KEY``) is never in a backup: it keys the audit
chain and the identifier vault, and whoever holds it and a backup can rewrite history.
The operator keeps it apart. The private report key is copied only when asked.

A restore checks every file against the manifest before it writes anything, then
restores, then proves the result: the same row counts, the same revision, the same audit
head, and a chain that verifies under the target's secret (which must be the same one).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

import bonafides
from bonafides.context import Context
from bonafides.digests import sha256_of
from bonafides.security import audit
from bonafides.security.signing import CERTIFICATE_DIR, PRIVATE_NAME, PUBLIC_DIR, keys_dir
from bonafides.settings import Settings
from bonafides.store.db import alembic_config, make_engine, migrate
from bonafides.store.tables import Base

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "store.sqlite3"
POSTGRES_FILE = "store.pgdump"
KEYS = "keys"
ATTACHMENTS = "attachments"
ABSENT_MASTER_KEY = (
    "BONAFIDES_SECRET_KEY is not in this backup: it keys the audit chain and the "
    "encryption of ID numbers. Restore into a platform with the same secret, kept apart."
)


class BackupError(ValueError):
    """Unusable input: a backup directory or target that cannot be used (exit 2)."""


class RestoreVerificationError(RuntimeError):
    """The store was restored but does not match its manifest (exit 1)."""


@dataclass(frozen=True)
class RestoreReport:
    manifest: dict[str, Any]
    rows: int
    audit_events: int
    migrated_to: list[str] | None
    notes: list[str] = field(default_factory=list)


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.relative_to(root).as_posix() != MANIFEST:
            yield path


def store_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"store {backend!r} is neither SQLite nor PostgreSQL")
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite store cannot be backed up or restored")
    return Path(str(database))


def pg_environment(url: str) -> dict[str, str]:
    """libpq's variables for the tools: the password travels in the environment, never
    on a command line that ``ps`` shows."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    host = parsed.host or parsed.query.get("host")
    values = {
        "PGHOST": host,
        "PGPORT": str(parsed.port) if parsed.port else parsed.query.get("port"),
        "PGUSER": parsed.username or parsed.query.get("user"),
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    for name, value in values.items():
        if isinstance(value, tuple):
            value = value[0]
        if value:
            env[name] = str(value)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed (install the PostgreSQL client tools)"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.strip()}") from None


def summary(conn: Connection) -> dict[str, Any]:
    """Row counts of every table, the Alembic revision and the audit head, as the
    connection's transaction sees them."""
    names = sorted(n for n in inspect(conn).get_table_names() if n != "alembic_version")
    counts = {
        name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0) for name in names
    }
    revisions: list[str] = []
    if "alembic_version" in inspect(conn).get_table_names():
        revisions = sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    head = None
    if "audit_head" in names:
        row = conn.execute(
            text("SELECT last_id, last_hash, keyed_from FROM audit_head WHERE id = 1")
        ).one_or_none()
        if row is not None:
            head = {"count": row[0], "hash": row[1], "keyed_from": row[2]}
    return {"revision": revisions, "tables": counts, "audit_head": head}


def _dump_sqlite(url: str, target: Path) -> dict[str, Any]:
    path = _sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"there is no SQLite store at {path}")
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # One self-contained file, whatever journal the live store uses.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
        copy.close()
    reader = create_engine(f"sqlite:///{target}")
    try:
        with reader.connect() as conn:
            return summary(conn)
    finally:
        reader.dispose()


def _dump_postgres(engine: Engine, url: str, target: Path) -> dict[str, Any]:
    """pg_dump reads the snapshot this transaction exported, so the counts and the
    head read here are those of the dump, however busy the platform is."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            found = summary(conn)
            _run(
                ["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(target)],
                pg_environment(url),
            )
    return found


def _copy_tree(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def backup(ctx: Context, out: Path, *, with_private_keys: bool = False) -> dict[str, Any]:
    """Write a backup of the running platform into ``out`` (new or empty) and return its
    manifest. The manifest is written last: a directory without one is no backup."""
    kind = store_kind(ctx.settings.db)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} exists and is not an empty directory")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out.chmod(0o700)  # it holds the whole store, personal data included
    if kind == "sqlite":
        found = _dump_sqlite(ctx.settings.db, out / SQLITE_FILE)
    else:
        found = _dump_postgres(ctx.engine, ctx.settings.db, out / POSTGRES_FILE)
    keys = keys_dir(ctx.settings.data_dir)
    for folder in (PUBLIC_DIR, CERTIFICATE_DIR):
        _copy_tree(keys / folder, out / KEYS / folder)
    if with_private_keys and (keys / PRIVATE_NAME).is_file():
        (out / KEYS).mkdir(exist_ok=True)
        shutil.copy2(keys / PRIVATE_NAME, out / KEYS / PRIVATE_NAME)
        (out / KEYS / PRIVATE_NAME).chmod(0o600)
    _copy_tree(ctx.settings.data_dir / ATTACHMENTS, out / ATTACHMENTS)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "bonafides": bonafides.__version__,
        "store": kind,
        "created_at": ctx.clock.now().isoformat(),
        **found,
        "secret_key": ABSENT_MASTER_KEY,
        "private_keys": with_private_keys and (out / KEYS / PRIVATE_NAME).is_file(),
        "files": {path.relative_to(out).as_posix(): sha256_of(path) for path in _files(out)},
    }
    staging = out / f".{MANIFEST}.tmp"
    staging.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
    staging.replace(out / MANIFEST)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, once every file it names matches its SHA-256 and no other file is
    there. Raises ``BackupError`` naming the first file that does not fit."""
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} is not a backup: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}") from None
    required = ("format", "store", "revision", "tables", "audit_head", "files")
    if not isinstance(manifest, dict) or any(name not in manifest for name in required):
        raise BackupError(f"{path} lacks one of the fields {', '.join(required)}")
    if manifest["format"] != FORMAT:
        raise BackupError(f"{path} is of format {manifest['format']!r}; this reads {FORMAT}")
    files = manifest["files"]
    if not isinstance(files, dict):
        raise BackupError(f"{path}: files must be an object of name to SHA-256")
    present = {p.relative_to(directory).as_posix() for p in _files(directory)}
    for name in sorted(present - set(files)):
        raise BackupError(f"{directory / name} is not in the manifest")
    for name, expected in sorted(files.items()):
        target = directory / name
        if name not in present:
            raise BackupError(f"{target} is missing")
        if sha256_of(target) != expected:
            raise BackupError(f"{target} does not match its SHA-256 in the manifest")
    dump = SQLITE_FILE if manifest["store"] == "sqlite" else POSTGRES_FILE
    if dump not in files:
        raise BackupError(f"{path} names no store file {dump}")
    return manifest


def _pending(engine: Engine, revisions: list[str]) -> bool:
    """Whether the backup's schema is behind this code's (then migrations run after the
    restore is verified). A revision this code does not know is a backup from a newer
    bonafides: refused, since nothing here could read it."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    for revision in revisions:
        try:
            script.get_revision(revision)
        except Exception:  # alembic raises several kinds for an unknown id
            raise BackupError(
                f"the backup's schema revision {revision} is unknown to bonafides "
                f"{bonafides.__version__}: restore it with the version that made it"
            ) from None
    return sorted(revisions) != sorted(script.get_heads())


def _rows_in(engine: Engine) -> int:
    """Rows in the platform's own tables: a migrated store is empty though SQLite's
    full-text index keeps a few rows of configuration in its shadow tables."""
    with engine.connect() as conn:
        counts = summary(conn)["tables"]
    return sum(count for name, count in counts.items() if name in Base.metadata.tables)


def _install(source: Path, target: Path, notes: list[str]) -> None:
    """Copy files the target lacks; never overwrite one (keys are named by their hash,
    attachments by their SHA-256, so a file of the same name is the same file)."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        destination = target / path.relative_to(source)
        if destination.exists():
            if path.name == PRIVATE_NAME and sha256_of(destination) != sha256_of(path):
                notes.append(
                    f"{destination} holds another private report key: kept; the backup's "
                    "key was not installed (its public key is, so its reports verify)"
                )
            continue
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, destination)


def _restore_sqlite(dump: Path, url: str) -> None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.restore")
    shutil.copyfile(dump, staging)
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    staging.replace(target)


def _restore_postgres(dump: Path, engine: Engine, url: str) -> None:
    with engine.begin() as conn:
        for name in inspect(conn).get_table_names():
            conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    env = pg_environment(url)
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={env['PGDATABASE']}",
            str(dump),
        ],
        env,
    )


def _differences(manifest: dict[str, Any], found: dict[str, Any]) -> list[str]:
    problems = []
    for name, count in sorted(manifest["tables"].items()):
        restored = found["tables"].get(name)
        if restored != count:
            problems.append(f"table {name} has {restored} rows, the manifest {count}")
    for name in sorted(set(found["tables"]) - set(manifest["tables"])):
        problems.append(f"table {name} is not in the manifest")
    if found["revision"] != manifest["revision"]:
        problems.append(f"revision {found['revision']}, the manifest {manifest['revision']}")
    if found["audit_head"] != manifest["audit_head"]:
        problems.append(f"audit head {found['audit_head']}, the manifest {manifest['audit_head']}")
    return problems


def restore(settings: Settings, directory: Path, *, force: bool = False) -> RestoreReport:
    """Restore the backup in ``directory`` into the store of ``settings``.

    Nothing is written until every file matches the manifest, the store kinds agree, the
    schema is one this code knows, and the target is empty (or ``force``). The platform
    must be stopped meanwhile. Raises ``BackupError`` before writing, and
    ``RestoreVerificationError`` when the restored store does not match the manifest.
    """
    manifest = read_manifest(directory)
    kind = store_kind(settings.db)
    if manifest["store"] != kind:
        raise BackupError(
            f"the backup is of a {manifest['store']} store and the target is {kind}: "
            "restore into the same kind of store"
        )
    exists = kind == "postgresql" or _sqlite_path(settings.db).exists()
    probe = make_engine(settings.db) if exists else create_engine("sqlite://")
    try:
        behind = _pending(probe, manifest["revision"])
        rows = _rows_in(probe) if exists else 0
        if rows and not force:
            raise BackupError(
                f"the target store is not empty ({rows} rows): restore into an empty store, "
                "or pass --force to replace it"
            )
        notes: list[str] = []
        keys = keys_dir(settings.data_dir)
        _install(directory / KEYS, keys, notes)
        _install(directory / ATTACHMENTS, settings.data_dir / ATTACHMENTS, notes)
        if kind == "sqlite":
            probe.dispose()
            _restore_sqlite(directory / SQLITE_FILE, settings.db)
        else:
            try:
                _restore_postgres(directory / POSTGRES_FILE, probe, settings.db)
            except BackupError as exc:
                # The target's tables are gone by now: not "nothing written" any more.
                raise RestoreVerificationError(
                    f"{exc}; the target's tables were dropped before it: run the restore again"
                ) from None
    finally:
        probe.dispose()
    return _verify(settings, manifest, behind, notes)


def _verify(
    settings: Settings, manifest: dict[str, Any], behind: bool, notes: list[str]
) -> RestoreReport:
    ctx = Context(settings)
    try:
        with ctx.engine.connect() as conn:
            found = summary(conn)
        problems = _differences(manifest, found)
        if problems:
            raise RestoreVerificationError("; ".join(problems))
        with ctx.sessions() as session:
            chain = audit.verify(session)
        if not chain.ok:
            raise RestoreVerificationError(
                f"audit chain broken at event {chain.first_broken}: {chain.reason} "
                "(is BONAFIDES_SECRET_KEY the one of the platform backed up?)"
            )
        migrated_to = None
        if behind:
            migrate(
                ctx.engine,
                vault=ctx.vault,
                anchor=ctx.audit_anchor,
                partitions=ctx.settings.pg_partitions,
            )
            with ctx.engine.connect() as conn:
                migrated_to = summary(conn)["revision"]
            with ctx.sessions() as session:
                chain = audit.verify(session)
            if not chain.ok:
                raise RestoreVerificationError(
                    f"after migrating, audit chain broken at event {chain.first_broken}: "
                    f"{chain.reason}"
                )
        return RestoreReport(
            manifest=manifest,
            rows=sum(found["tables"].values()),
            audit_events=chain.checked,
            migrated_to=migrated_to,
            notes=notes,
        )
    finally:
        ctx.close()
