"""The kill campaign: ``bonafides`` processes SIGKILLed at random points, then rerun.

For each store (a SQLite file; a PostgreSQL database made for the run and dropped after)
and each operation — ``register load``, ``ingest``, ``lists recompute``, ``screen`` (a
batch), ``export`` and ``sync`` (from a peer instance served once per campaign) — the
script:

1. builds the state the operation starts from, once, with clean runs (synthetic data
   from ``bonafides synth``), and keeps it as a snapshot; the operation's own clean run
   is the reference (duration, exit code, and result: the rows it leaves in the store,
   its output file or export manifest) and leaves the state the next one starts from;
2. ``--kills`` rounds of one trial per operation: restores the snapshot, starts the
   operation, sends SIGKILL after a random delay within the length of a whole run,
   reruns it to completion, then checks that the rerun exits as the clean run did, that
   the audit chain verifies, and that the result equals the reference row for row: a
   reference row missing is *lost*, a row more often than in the reference is
   *duplicated* (the idempotency keys — department and decision number, subject key,
   list and subject, export file, the sync cursor — are in every row).

Commands run in children forked from this process (``Forked``): a real process each, to
kill, without an interpreter's start-up per trial; ``--spawn`` starts new interpreters.

It prints a table of kills (and how many landed mid-work), reruns, rows checked, lost
and duplicated per store and operation, and exits 1 if anything was lost, duplicated,
left behind or failed to verify::

    python scripts/chaos.py --kills 100 --store both --seed 19

``make chaos`` runs that (``--minutes`` stops it at a deadline, with the table so far);
tests/test_chaos.py runs one kill per operation.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from bonafides.cli import app as cli
from bonafides.context import Context
from bonafides.security import audit
from bonafides.security.clock import SystemClock, office_day
from bonafides.settings import Settings, get_settings
from bonafides.store.db import make_engine
from bonafides.store.tables import (
    AuditEvent,
    Check,
    CheckLine,
    FeedEvent,
    Grade,
    IngestBatch,
    IngestRejection,
    ListEntry,
    Record,
    RecordVersion,
    Subject,
    SubjectEvent,
    SubjectName,
    SubjectRegister,
    SyncSource,
)

SECRET = "chaos-campaign-secret-key"  # noqa: S105 (a throwaway store's key)
AS_OF = "2026-12-01"
ACTION = "procurement.bid"
OPERATIONS = ("register", "ingest", "lists", "screen", "export", "sync")
PG_ADMIN = os.environ.get("BONAFIDES_TEST_PG", "postgresql+psycopg:///postgres")
# Record files ingested (cleanly) before the lists are computed: types that feed lists,
# with the department for files that do not name one per row.
SETUP_TYPES = (
    ("courts.defaulter", "spc"),
    ("market.abnormal_operations", None),
    ("market.serious_violation_list", None),
    ("environment.penalty", None),
)
INGEST_TYPE = "general.licence"
SCREEN_REPEAT = 10
REGISTER_STATUS = ("存续", "在业", "吊销，未注销", "注销")
# The peer instance ``sync`` pulls from: its name in the change feed, the record files
# it holds (its own synthetic subjects), and the events per signed batch, small enough
# that a sync is many transactions a kill can fall between.
SOURCE_INSTANCE = "origin"
TARGET_INSTANCE = "chaos"
SOURCE_TYPES = (("courts.defaulter", "spc"), ("environment.penalty", None))
SYNC_BATCH = 20

Rows = dict[str, Counter[tuple[Any, ...]]]
# Files a killed run left beside its output that its rerun did not clear away.
DEBRIS = "debris"


# --------------------------------------------------------------------------- stores


class Store:
    """Where the trials run: ``save`` keeps the working store as a named snapshot and
    ``restore`` makes the working store a copy of one."""

    name: str
    url: str

    def fresh(self) -> None:
        raise NotImplementedError

    def save(self, snapshot: str) -> None:
        raise NotImplementedError

    def restore(self, snapshot: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteStore(Store):
    name = "sqlite"

    def __init__(self, work: Path) -> None:
        self.dir = work
        self.path = work / "store.db"
        self.url = f"sqlite:///{self.path}"

    def _clear(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def fresh(self) -> None:
        self._clear()

    def save(self, snapshot: str) -> None:
        # The online backup API folds any write-ahead log into one consistent file.
        target = self.dir / f"{snapshot}.db"
        target.unlink(missing_ok=True)
        with sqlite3.connect(self.path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()

    def restore(self, snapshot: str) -> None:
        self._clear()
        shutil.copyfile(self.dir / f"{snapshot}.db", self.path)

    def close(self) -> None:
        self._clear()


class PostgresStore(Store):
    """Databases named after the run; snapshots are template databases."""

    name = "postgresql"

    def __init__(self, admin_url: str) -> None:
        self.prefix = f"bonafides_chaos_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.url = self._url(f"{self.prefix}_work", admin_url)
        self.made: list[str] = []

    @staticmethod
    def _url(database: str, admin_url: str) -> str:
        url = make_url(admin_url).set(database=database)
        return url.render_as_string(hide_password=False)

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def _copy(self, source: str, target: str) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
        if target not in self.made:
            self.made.append(target)

    def fresh(self) -> None:
        work = f"{self.prefix}_work"
        self._sql(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{work}"')
        self.made.append(work)

    def save(self, snapshot: str) -> None:
        self._copy(f"{self.prefix}_work", f"{self.prefix}_{snapshot}")

    def restore(self, snapshot: str) -> None:
        self._copy(f"{self.prefix}_{snapshot}", f"{self.prefix}_work")

    def close(self) -> None:
        for database in self.made:
            self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.admin.dispose()


# --------------------------------------------------------------------------- processes


class Forked:
    """A ``bonafides`` command in a child forked from this process, which has imported the
    CLI already: the same code on its own process, to be SIGKILLed like any, without the
    seconds an interpreter takes to start and import it on a loaded machine (most of a
    trial's cost otherwise). It answers what ``subprocess.Popen`` does here."""

    def __init__(self, args: list[str], env: dict[str, str], folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex[:12]
        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        self.returncode: int | None = None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child: measured by its effects)
            os._exit(_child(args, env, self.out, self.err))
        self.pid = pid

    def _reap(self, flags: int) -> None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, flags)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)

    def poll(self) -> int | None:
        self._reap(os.WNOHANG)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def communicate(self) -> tuple[bytes, bytes]:
        self._reap(0)
        found = []
        for path in (self.out, self.err):
            found.append(path.read_bytes() if path.exists() else b"")
            path.unlink(missing_ok=True)
        return found[0], found[1]


def _child(args: list[str], env: dict[str, str], out: Path, err: Path) -> int:
    """Run the CLI as ``python -m bonafides`` would, its output in files; the exit code."""
    code = 1
    try:
        for fd, path in ((1, out), (2, err)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        os.environ.clear()
        os.environ.update(env)
        get_settings.cache_clear()
        try:
            cli(args=args, prog_name="bonafides")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def office_today() -> dt.date:
    """The credit office's day, as the commands the campaign runs will see it: what they
    write (snapshot names, entries in force, screening dates) depends on it."""
    zone = os.environ.get("BONAFIDES_TIMEZONE") or Settings.model_fields["timezone"].default
    return office_day(SystemClock(), zone)


@dataclass
class Runner:
    """Runs ``bonafides`` commands against the working store, as an operator would:
    forked from this process (``Forked``), or with ``spawn`` a new interpreter each."""

    store: Store
    data_dir: Path
    # Seconds a command takes to start (interpreter, imports, options): a kill before
    # then tests nothing, so kills land between it and the end of an unkilled run.
    startup: float = 0.0
    # The name this instance writes into its change feed (sync refuses its own name).
    instance: str = TARGET_INSTANCE
    spawn: bool = False
    # A reference holds for the office day it was taken on: at the office's midnight the
    # same command writes other snapshot names and other entries in force.
    today: Callable[[], dt.date] = office_today

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BONAFIDES_INSTANCE": self.instance,
            "BONAFIDES_DB": self.store.url,
            "BONAFIDES_SECRET_KEY": SECRET,
            "BONAFIDES_DEMO": "1",
            "BONAFIDES_DATA_DIR": str(self.data_dir),
            "COLUMNS": "160",
        }

    def start(self, args: list[str]) -> subprocess.Popen[bytes] | Forked:
        if not self.spawn:
            return Forked(args, self.env(), self.data_dir / "output")
        return self.spawned(args, subprocess.PIPE)

    def spawned(self, args: list[str], output: Any) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "bonafides", *args]
        return subprocess.Popen(  # noqa: S603
            command, env=self.env(), stdout=output, stderr=output
        )

    def run(self, args: list[str], codes: tuple[int, ...] = (0,)) -> tuple[int, float]:
        code, seconds, _, _ = self.output(args, codes)
        return code, seconds

    def output(self, args: list[str], codes: tuple[int, ...] = (0,)) -> tuple[int, float, str, str]:
        """Exit code, seconds, and what the command printed: its output, then the end of
        its output and errors (a problem's account)."""
        started = time.perf_counter()
        process = self.start(args)
        out, err = process.communicate()
        seconds = time.perf_counter() - started
        if process.returncode not in codes:
            raise RuntimeError(
                f"bonafides {' '.join(args)} exited {process.returncode}:\n{_said(out, err)}"
            )
        return process.returncode, seconds, out.decode(errors="replace"), _said(out, err)


@contextmanager
def serving(runner: Runner, log: Path) -> Iterator[str]:
    """``bonafides serve`` on a free loopback port; its base URL once it answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = runner.spawned(["serve", "--port", str(port)], output)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"bonafides serve exited {server.returncode}: see {log}")
                try:
                    with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as answer:  # noqa: S310
                        if answer.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"bonafides serve did not answer: see {log}") from None
                    time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def sync_source(store: Store, work: Path, data: Path) -> Iterator[tuple[str, str]]:
    """The peer ``sync`` pulls from, built and served once per campaign: its own store
    with its own subjects' records and lists, an operator key for the target, and a
    ``bonafides serve`` process. Yields its URL and the key."""
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(store, work / "var", instance=SOURCE_INSTANCE)
    try:
        store.fresh()
        runner.run(["init"])
        for type_code, source in SOURCE_TYPES:
            args = ["ingest", str(data / f"{type_code}.csv"), "--type", type_code]
            runner.run(args + (["--source", source] if source else []), (0, 1))
        runner.run(["lists", "recompute", "--as-of", AS_OF, "--full"])
        runner.run(["accounts", "create", "peer", "--role", "operator", "--no-password"])
        issued = runner.output(
            ["keys", "issue", "peer", "--name", "chaos sync", "--scope", "files:read"]
        )
        key = issued[2].strip().splitlines()[-1]
        with serving(runner, work / "serve.log") as url:
            yield url, key
    finally:
        store.close()


# --------------------------------------------------------------------------- data


def synth(data: Path, subjects: int, seed: int) -> None:
    args = ["synth", "--subjects", str(subjects), "--out", str(data), "--seed", str(seed)]
    env = {**os.environ, "BONAFIDES_SECRET_KEY": SECRET, "BONAFIDES_DEMO": "1"}
    process = Forked(args, env, data.parent / "output")
    _out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bonafides synth exited {process.returncode}: {err.decode()[-2000:]}")


def write_data(work: Path, subjects: int, seed: int) -> Path:
    """Synthetic record files, a register export of the same organisations, and a file
    of codes to screen (the register's and some unknown ones); in ``source/`` the files
    of the peer that ``sync`` pulls from, of other subjects."""
    data = work / "data-files"
    synth(data, subjects, seed)
    synth(data / "source", subjects, seed + 1)
    rng = random.Random(seed)  # noqa: S311
    with (data / "subjects.csv").open(encoding="utf-8", newline="") as handle:
        people = list(csv.DictReader(handle))
    organisations = [row for row in people if row["kind"] != "natural_person"]
    with (data / "register.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("统一社会信用代码", "名称", "曾用名", "登记状态", "住所"))
        for row in organisations:
            writer.writerow(
                (
                    row["code"],
                    row["name"],
                    row["former_names"].split("|")[0] if row["former_names"] else "",
                    rng.choice(REGISTER_STATUS),
                    f"{row['region']} 路{rng.randrange(1, 999)}号",
                )
            )
    # A batch as long as an inquirer's, so that a kill can land while it is answered.
    with (data / "codes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("统一社会信用代码",))
        for _ in range(SCREEN_REPEAT):
            writer.writerows((row["code"],) for row in organisations)
    return data


# --------------------------------------------------------------------------- results


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _rows(engine: Engine, queries: dict[str, Any]) -> Rows:
    found: Rows = {}
    with engine.connect() as conn:
        for name, query in queries.items():
            found[name] = Counter(tuple(row) for row in conn.execute(query))
    return found


def register_rows(engine: Engine) -> Rows:
    return _rows(
        engine,
        {
            "subjects": select(Subject.key, Subject.kind, Subject.name, Subject.status),
            "subject names": select(Subject.key, SubjectName.name, SubjectName.current).join(
                Subject, Subject.id == SubjectName.subject_id
            ),
            "register": select(Subject.key, SubjectRegister.status, SubjectRegister.version).join(
                Subject, Subject.id == SubjectRegister.subject_id
            ),
            "subject events": select(Subject.key, SubjectEvent.version, SubjectEvent.kind).join(
                Subject, Subject.id == SubjectEvent.subject_id
            ),
            "feed events": select(FeedEvent.kind, FeedEvent.subject_code),
        },
    )


def ingest_rows(engine: Engine) -> Rows:
    return _rows(
        engine,
        {
            "records": select(
                Record.source, Record.decision_no, Record.party, Record.status, Record.version
            ),
            "record versions": select(
                Record.source, Record.decision_no, RecordVersion.version, RecordVersion.status
            ).join(Record, Record.id == RecordVersion.record_id),
            "subjects": select(Subject.key, Subject.name),
            "rejections": select(
                IngestBatch.file_name, IngestRejection.row, IngestRejection.field
            ).join(IngestBatch, IngestBatch.id == IngestRejection.batch_id),
            "batches": select(IngestBatch.file_name, IngestBatch.status),
            "feed events": select(FeedEvent.kind, FeedEvent.source, FeedEvent.subject_code),
        },
    )


def lists_rows(engine: Engine) -> Rows:
    return _rows(
        engine,
        {
            "list entries": select(
                ListEntry.list_code,
                Subject.key,
                ListEntry.valid_from,
                ListEntry.valid_until,
                ListEntry.status,
                ListEntry.superseded_at.is_(None),
            ).join(Subject, Subject.id == ListEntry.subject_id),
            "grades": select(Grade.scheme, Subject.key, Grade.grade, Grade.as_of).join(
                Subject, Subject.id == Grade.subject_id
            ),
            "feed events": select(FeedEvent.kind, FeedEvent.subject_code),
        },
    )


def screen_rows(engine: Engine, out: Path) -> Rows:
    found = _rows(
        engine,
        {
            "batch checks": select(Check.kind, Check.action, Check.lines).where(
                Check.kind == "batch"
            ),
            "check lines": select(CheckLine.line, CheckLine.code_display, CheckLine.status),
        },
    )
    lines: Counter[tuple[Any, ...]] = Counter()
    if out.exists():
        with out.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            # The certificate id is new on every run: every other cell must match.
            lines.update(tuple(row[:-1]) for row in reader)
    found["result lines"] = lines
    found[DEBRIS] = Counter((p.name,) for p in out.parent.iterdir() if p != out)
    return found


def export_rows(root: Path) -> Rows:
    exports: Counter[tuple[Any, ...]] = Counter()
    files: Counter[tuple[Any, ...]] = Counter()
    debris: Counter[tuple[Any, ...]] = Counter()
    for directory in sorted(root.iterdir()) if root.is_dir() else []:
        if directory.name.startswith("."):
            debris[(directory.name,)] += 1
            continue
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        exports[(manifest["name"], manifest["kind"])] += 1
        for name, entry in manifest["files"].items():
            files[(manifest["name"], name, entry["rows"], entry["sha256"])] += 1
    return {"exports": exports, "files (name, rows, sha256)": files, DEBRIS: debris}


def sync_rows(engine: Engine) -> Rows:
    return _rows(
        engine,
        {
            "records": select(
                Record.source,
                Record.decision_no,
                Record.party,
                Record.status,
                Record.version,
                Record.origin,
                Record.origin_version,
            ),
            "record versions": select(
                Record.source, Record.decision_no, RecordVersion.version, RecordVersion.status
            ).join(Record, Record.id == RecordVersion.record_id),
            "subjects": select(Subject.key, Subject.name),
            "list entries": select(
                ListEntry.list_code,
                Subject.key,
                ListEntry.valid_from,
                ListEntry.valid_until,
                ListEntry.status,
                ListEntry.superseded_at.is_(None),
            ).join(Subject, Subject.id == ListEntry.subject_id),
            "feed events": select(
                FeedEvent.kind,
                FeedEvent.origin,
                FeedEvent.source,
                FeedEvent.subject_code,
                FeedEvent.record_version,
            ),
            # The cursor and the counters move with each batch, in its transaction.
            "sync sources": select(
                SyncSource.origin,
                SyncSource.key_id,
                SyncSource.cursor,
                SyncSource.applied,
                SyncSource.skipped,
                SyncSource.conflicts,
            ),
            "sync audit events": select(AuditEvent.tag, AuditEvent.object_ref).where(
                AuditEvent.tag.like("sync:%")
            ),
        },
    )


def compare(expected: Rows, got: Rows) -> tuple[int, int, int, list[str]]:
    """(rows checked, lost, duplicated, what differed): a row of the reference missing is
    lost; a row more often than in the reference (or not in it at all) is duplicated."""
    checked = lost = duplicated = 0
    problems = []
    for name in sorted((set(expected) | set(got)) - {DEBRIS}):
        want, have = expected.get(name, Counter()), got.get(name, Counter())
        checked += sum(want.values())
        missing, extra = want - have, have - want
        lost += sum(missing.values())
        duplicated += sum(extra.values())
        if missing or extra:
            sample = list(missing)[:2] + list(extra)[:2]
            problems.append(f"{name}: {len(missing)} missing, {len(extra)} extra, e.g. {sample}")
    return checked, lost, duplicated, problems


def _said(out: bytes, err: bytes) -> str:
    """The end of what a command printed, for a problem's account."""
    return f"{out.decode(errors='replace')[-2000:]}\n{err.decode(errors='replace')[-2000:]}"


def _problem(tally: Tally, trial: int, problem: str, say: Callable[[str], None]) -> None:
    tally.problems.append(f"trial {trial + 1}: {problem}")
    say(f"{tally.store}: {tally.operation}: trial {trial + 1}: {problem}")


def _differ(one: Rows, other: Rows) -> bool:
    return compare(one, other)[1:3] != (0, 0)


# --------------------------------------------------------------------------- the campaign


@dataclass
class Operation:
    name: str
    args: list[str]
    codes: tuple[int, ...]
    result: Callable[[], Rows]
    reset: Callable[[], None] = lambda: None


@dataclass
class Tally:
    store: str
    operation: str
    clean_seconds: float = 0.0
    kills: int = 0
    midwork: int = 0
    partial: int = 0
    finished_first: int = 0
    reruns: int = 0
    checked: int = 0
    lost: int = 0
    duplicated: int = 0
    unverified: int = 0
    debris: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unverified or self.debris or self.problems)


def _chain_verifies(runner: Runner) -> str | None:
    """What ``bonafides audit verify`` checks, in this process: a third interpreter per
    trial would cost more than the trial's own work."""
    ctx = Context(
        Settings(db=runner.store.url, secret_key=SECRET, demo=True, data_dir=runner.data_dir)
    )
    try:
        with ctx.sessions() as session:
            report = audit.verify(session)
    finally:
        ctx.close()
    if report.ok:
        return None
    return f"broken at event {report.first_broken}: {report.reason}"


def campaign(
    store: Store,
    work: Path,
    data: Path,
    *,
    kills: int,
    seed: int,
    operations: tuple[str, ...],
    say: Callable[[str], None],
    peer: Callable[[], Store],
    spawn: bool = False,
    until: float | None = None,
) -> list[Tally]:
    """The trials of each operation in ``operations``, in the order of OPERATIONS, each
    from the state the clean runs of the ones before it leave; ``peer`` makes the store
    of the instance ``sync`` pulls from."""
    runner = Runner(store, work / "var", spawn=spawn)
    rng = random.Random(f"{seed}-{store.name}")  # noqa: S311
    screen_dir = work / "screen"
    export_dir = work / "exports"

    def fresh_dir(directory: Path) -> None:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)

    def rows(reader: Callable[[Engine], Rows]) -> Callable[[], Rows]:
        def read() -> Rows:
            with _engine(store.url) as engine:
                return reader(engine)

        return read

    def screened() -> Rows:
        with _engine(store.url) as engine:
            return screen_rows(engine, screen_dir / "results.csv")

    ops = {
        "register": Operation(
            "register load",
            [
                "register",
                "load",
                str(data / "register.csv"),
                "--source",
                "samr",
                "--chunk-rows",
                "40",
            ],
            (0, 1),
            rows(register_rows),
        ),
        "ingest": Operation(
            "ingest",
            [
                "ingest",
                str(data / f"{INGEST_TYPE}.csv"),
                "--type",
                INGEST_TYPE,
                "--chunk-rows",
                "100",
            ],
            (0, 1),
            rows(ingest_rows),
        ),
        "lists": Operation(
            "lists recompute",
            ["lists", "recompute", "--as-of", AS_OF, "--full"],
            (0,),
            rows(lists_rows),
        ),
        "screen": Operation(
            "screen",
            [
                "screen",
                str(data / "codes.csv"),
                "--action",
                ACTION,
                "--as-of",
                AS_OF,
                "--out",
                str(screen_dir / "results.csv"),
            ],
            (0, 1),
            screened,
            lambda: fresh_dir(screen_dir),
        ),
        "export": Operation(
            "export",
            ["export", "--format", "csv", "--out", str(export_dir)],
            (0,),
            lambda: export_rows(export_dir),
            lambda: fresh_dir(export_dir),
        ),
    }

    store.fresh()
    runner.run(["init"])
    # A command that does no work: what a run costs before its work begins.
    runner.startup = min(runner.run(["--help"])[1] for _ in range(2))
    say(f"{store.name}: store initialised; a command starts in {runner.startup:.1f} s")
    last = max(OPERATIONS.index(key) for key in operations)
    prepared: list[Trials] = []
    with ExitStack() as stack:
        # Every operation's starting state kept, and the clean run of each one, which
        # leaves the state the next starts from.
        for key in OPERATIONS[: last + 1]:
            if key == "sync":
                url, token = stack.enter_context(
                    sync_source(peer(), work / "peer", data / "source")
                )
                say(f"{store.name}: the peer serves its feed at {url}")
                ops[key] = Operation(
                    "sync",
                    ["sync", "--from", url, "--key", token, "--batch", str(SYNC_BATCH)],
                    (0,),
                    rows(sync_rows),
                )
            op = ops[key]
            store.save(key)
            if key in operations:
                prepared.append(Trials.reference(store, runner, op, key, say))
            else:
                op.reset()
                runner.run(op.args, op.codes)
            if key == "register":
                for type_code, source in SETUP_TYPES:
                    args = ["ingest", str(data / f"{type_code}.csv"), "--type", type_code]
                    runner.run(args + (["--source", source] if source else []), (0, 1))
        # Then the kills, one per operation in turn: a campaign stopped at its deadline
        # has killed every operation about as often.
        for trial in range(kills):
            if until is not None and time.time() >= until:
                say(f"{store.name}: deadline reached after {trial} rounds of kills")
                break
            for trials in prepared:
                trials.trial(store, runner, trial, rng, say)
    for trials in prepared:
        say(f"{store.name}: {trials.op.name}: " + " | ".join(row(trials.tally)[2:]))
    return [trials.tally for trials in prepared]


@dataclass
class Trials:
    """One operation's trials: its starting snapshot, and the clean run to compare with."""

    op: Operation
    snapshot: str
    tally: Tally
    before: Rows
    expected: Rows
    code: int
    # How long a whole run takes now: the clean run's, then each rerun's and each run
    # that ended before its kill. A shared machine speeds up and slows down, and kills
    # drawn from a stale duration all land after the end or in the start-up.
    pace: float

    # The office day the reference was taken on.
    day: dt.date = dt.date.min

    @classmethod
    def reference(
        cls, store: Store, runner: Runner, op: Operation, snapshot: str, say: Callable[[str], None]
    ) -> Trials:
        trials = cls(op, snapshot, Tally(store.name, op.name), {}, {}, 0, 0.0)
        trials._clean_run(store, runner, say)
        return trials

    def _clean_run(self, store: Store, runner: Runner, say: Callable[[str], None]) -> None:
        """The clean run from the starting snapshot: the result every trial must equal."""
        op, tally = self.op, self.tally
        self.day = runner.today()
        op.reset()
        self.before = op.result()
        self.code, tally.clean_seconds = runner.run(op.args, op.codes)
        self.pace = tally.clean_seconds
        self.expected = op.result()
        if (problem := _chain_verifies(runner)) is not None:
            tally.problems.append(f"clean run: audit chain: {problem}")
        say(
            f"{store.name}: {op.name}: clean run {tally.clean_seconds:.1f} s, exit {self.code}"
            f" (office day {self.day})"
        )

    def trial(
        self,
        store: Store,
        runner: Runner,
        trial: int,
        rng: random.Random,
        say: Callable[[str], None],
    ) -> None:
        """One kill and its rerun, against a reference of the office day it runs on; a
        trial the office's midnight falls inside is not counted (its two halves ran on
        different days) and the next one takes a new reference."""
        day = runner.today()
        if day != self.day:
            store.restore(self.snapshot)
            self._clean_run(store, runner, say)
        kept = copy.deepcopy(self.tally)
        self._trial(store, runner, trial, rng, say)
        if runner.today() != day:
            self.tally = kept
            say(f"{store.name}: {self.op.name}: trial {trial} not counted: the office day changed")

    def _trial(
        self,
        store: Store,
        runner: Runner,
        trial: int,
        rng: random.Random,
        say: Callable[[str], None],
    ) -> None:
        op, tally, expected, code = self.op, self.tally, self.expected, self.code
        store.restore(self.snapshot)
        op.reset()
        started = time.perf_counter()
        process = runner.start(op.args)
        drawn = rng.uniform(min(runner.startup, tally.clean_seconds), tally.clean_seconds)
        delay = drawn * self.pace / tally.clean_seconds
        while process.poll() is None and time.perf_counter() - started < delay:
            time.sleep(0.01)
        if process.poll() is not None:
            self.pace = (self.pace + time.perf_counter() - started) / 2
        rerun = False
        said = ""
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            left = op.result()
            # A kill while the process was exiting, its work whole, needs no rerun: an
            # operator who finds the output whole would not run it again.
            rerun = _differ(expected, left)
        else:
            said = _said(*process.communicate())
        if rerun:
            tally.kills += 1
            # A kill that left some of the work done (not none of it, not all).
            partial = _differ(self.before, left)
            tally.partial += partial
            # Mid-work: it left part of the work done, or came past the start-up of a
            # command that does nothing (on a starved machine that start-up can outlast
            # a short operation's whole run: then only what it left can tell).
            tally.midwork += partial or delay >= runner.startup
            try:
                exit_code, seconds, _, said = runner.output(op.args, op.codes)
                self.pace = (self.pace + seconds) / 2
            except RuntimeError as exc:
                _problem(tally, trial, f"rerun failed: {exc}", say)
                return
            tally.reruns += 1
        else:
            # Done before the kill: a rerun would be a resubmission, not a recovery, so
            # the run itself must equal the reference.
            ended = process.returncode
            exit_code = code if ended is None or ended == -signal.SIGKILL else ended
            tally.finished_first += 1
        if exit_code != code:
            # What the command said is the only account of why it ended otherwise.
            _problem(tally, trial, f"exited {exit_code}, the clean run {code}:\n{said}", say)
        result = op.result()
        if not rerun:
            # What a process killed while exiting left, the next run clears (no rerun).
            result.pop(DEBRIS, None)
        checked, lost, duplicated, problems = compare(expected, result)
        tally.checked += checked
        tally.lost += lost
        tally.duplicated += duplicated
        for problem in problems:
            _problem(tally, trial, problem, say)
        debris = result.get(DEBRIS, Counter())
        if debris:
            tally.debris += sum(debris.values())
            _problem(tally, trial, f"left behind {sorted(debris)}", say)
        if (chain := _chain_verifies(runner)) is not None:
            tally.unverified += 1
            _problem(tally, trial, f"audit chain: {chain}", say)
        if (trial + 1) % 10 == 0:
            say(f"{store.name}: {op.name}: after {trial + 1}: " + " | ".join(row(tally)[2:]))


COLUMNS = (
    "store",
    "operation",
    "clean run s",
    "kills",
    "mid-work",
    "partial",
    "done before kill",
    "reruns",
    "rows checked",
    "lost",
    "duplicated",
    "chain fails",
    "debris",
)


def row(t: Tally) -> tuple[str, ...]:
    return (
        t.store,
        t.operation,
        f"{t.clean_seconds:.1f}",
        str(t.kills),
        str(t.midwork),
        str(t.partial),
        str(t.finished_first),
        str(t.reruns),
        f"{t.checked:,}",
        str(t.lost),
        str(t.duplicated),
        str(t.unverified),
        str(t.debris),
    )


def table(tallies: list[Tally]) -> str:
    lines = [COLUMNS] + [row(t) for t in tallies]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(lines):
        out.append(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


def _pg_reachable(admin_url: str) -> bool:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT 1")) == 1)
    except Exception:
        return False
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    # A campaign stopped with kill still drops its databases and stops the peer:
    # SystemExit unwinds through the stores' ``close``.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="kills per operation per store")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--subjects", type=int, default=600, help="synthetic subjects")
    parser.add_argument(
        "--operations",
        default=",".join(OPERATIONS),
        help="comma-separated, of " + ", ".join(OPERATIONS),
    )
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="PostgreSQL URL to create databases")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="stop killing after this long (a table of the kills so far is still printed)",
    )
    parser.add_argument(
        "--spawn",
        action="store_true",
        help="start each command in a new interpreter, not forked from this one (slower)",
    )
    parser.add_argument("--work", type=Path, default=None, help="folder for files and stores")
    args = parser.parse_args(argv)
    operations = tuple(args.operations.split(","))
    unknown = set(operations) - set(OPERATIONS)
    if unknown:
        parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
    stores = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    args.until = None if args.minutes is None else time.time() + args.minutes * 60
    work = args.work or Path(tempfile.mkdtemp(prefix="bonafides_chaos_"))
    work.mkdir(parents=True, exist_ok=True)

    def say(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    data = write_data(work, args.subjects, args.seed)
    tallies: list[Tally] = []
    for name in stores:
        if name == "postgresql" and not _pg_reachable(args.pg_admin):
            say(f"PostgreSQL unreachable at {args.pg_admin}: scripts/postgres.sh starts it")
            return 2
        store: Store = (
            SqliteStore(work / "sqlite") if name == "sqlite" else PostgresStore(args.pg_admin)
        )
        (work / name).mkdir(exist_ok=True)

        def peer(name: str = name) -> Store:
            if name == "sqlite":
                return SqliteStore(work / name / "peer")
            return PostgresStore(args.pg_admin)

        try:
            tallies += campaign(
                store,
                work / name,
                data,
                kills=args.kills,
                seed=args.seed,
                operations=operations,
                say=say,
                peer=peer,
                spawn=args.spawn,
                until=args.until,
            )
        finally:
            store.close()
    say("")
    say(table(tallies))
    say(f"\n{time.perf_counter() - started:.0f} s, seed {args.seed}, work in {work}")
    failed = [t for t in tallies if not t.ok]
    for tally in failed:
        for problem in tally.problems[:10]:
            say(f"{tally.store} {tally.operation}: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
