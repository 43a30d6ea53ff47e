"""Federation between two live instances on loopback: ``bonafides sync``.

The province serves its feed from a real ``bonafides serve`` process (uvicorn) on one
store; the nation pulls it into the other store (SQLite and PostgreSQL each take both
parts, by the ``db_url`` parameter).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bonafides.app.sync import HttpTransport, pull
from bonafides.context import Context
from bonafides.exchange.sync import BatchRefusedError
from bonafides.records import RecordStatus
from bonafides.rules.records import change_status, write_records
from bonafides.security import apikeys
from bonafides.security.accounts import create_account
from bonafides.security.identifiers import IdentifierVault
from bonafides.security.roles import Role
from bonafides.settings import Settings, get_settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import AuditEvent, FeedEvent, ListEntry, Record, Subject, SyncSource
from tests import factories
from tests.conftest import _truncate_all
from tests.security.world import record_of
from tests.web.server import running_portal

SECRET = "sync-test-secret-0123456789abcdef"


@dataclass
class Instance:
    name: str
    settings: Settings

    @contextmanager
    def context(self) -> Iterator[Context]:
        """This instance's store, with its name as the origin of what is written (the
        feed reads it from the process's settings, as a served instance does)."""
        before = os.environ.get("BONAFIDES_INSTANCE")
        os.environ["BONAFIDES_INSTANCE"] = self.name
        get_settings.cache_clear()
        ctx = Context(self.settings)
        try:
            yield ctx
        finally:
            ctx.close()
            if before is None:
                del os.environ["BONAFIDES_INSTANCE"]
            else:
                os.environ["BONAFIDES_INSTANCE"] = before
            get_settings.cache_clear()

    def env(self) -> dict[str, str]:
        federation = self.settings.federation_secret
        return {
            "BONAFIDES_DB": self.settings.db,
            "BONAFIDES_SECRET_KEY": self.settings.secret_key.get_secret_value(),
            "BONAFIDES_DATA_DIR": str(self.settings.data_dir),
            "BONAFIDES_INSTANCE": self.name,
            **(
                {"BONAFIDES_FEDERATION_SECRET": federation.get_secret_value()} if federation else {}
            ),
        }


def _instance(
    name: str, url: str, folder: Path, secret: str = SECRET, federation: str | None = None
) -> Instance:
    settings = Settings(
        db=url,
        secret_key=secret,
        data_dir=folder / name,
        instance=name,
        federation_secret=federation,
    )
    instance = Instance(name, settings)
    with instance.context() as ctx, ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    return instance


@pytest.fixture
def pair(
    db_url: str, tmp_path: Path, sqlite_template: Path, pg_database: str | None
) -> Iterator[tuple[Instance, Instance]]:
    """The province on ``db_url``'s store, the nation on the other one."""
    if db_url.startswith("sqlite"):
        if pg_database is None:
            pytest.skip("PostgreSQL is not running here (scripts/postgres.sh starts it)")
        other = pg_database
    else:
        path = tmp_path / "nation.db"
        shutil.copyfile(sqlite_template, path)
        other = f"sqlite:///{path}"
    try:
        yield _instance("gd", db_url, tmp_path), _instance("nation", other, tmp_path)
    finally:
        if other == pg_database:
            _truncate_all(other)


def _operator_key(instance: Instance) -> str:
    with instance.context() as ctx, ctx.sessions.begin() as session:
        account = create_account(
            session,
            ctx.catalogue,
            ctx.keys,
            ctx.clock,
            username="peer",
            role=Role.OPERATOR,
            display_name="the peer platform",
            password=None,
            actor="test",
        )
        return apikeys.issue_key(
            session, ctx.clock, account, name="sync", scopes=["files:read"], actor="test"
        ).token


def _submit(instance: Instance, count: int) -> list[str]:
    items = [factories.penalty(factories.org(region="440100")) for _ in range(count)]
    with instance.context() as ctx, ctx.sessions.begin() as session:
        write_records(session, ctx.keys, items, actor="test")
    return [i.decision_no for i in items]


def _records(instance: Instance) -> dict[str, tuple[str, str | None, int | None]]:
    """decision number -> (status, origin, origin version) of every record held."""
    with instance.context() as ctx, ctx.sessions() as session:
        rows = session.execute(
            select(Record.decision_no, Record.status, Record.origin, Record.origin_version)
        )
        return {no: (status, origin, version) for no, status, origin, version in rows}


def _pull(nation: Instance, url: str, key: str, transport: Any = None) -> Any:
    with nation.context() as ctx:
        return pull(ctx, transport or HttpTransport(url, key), url, actor="test", limit=3)


def _count(instance: Instance, *where: Any, table: Any = FeedEvent) -> int:
    with instance.context() as ctx, ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def test_records_reach_the_nation_and_a_repair_at_the_origin_removes_the_copy(
    pair: tuple[Instance, Instance],
) -> None:
    province, nation = pair
    numbers = _submit(province, 5)
    key = _operator_key(province)
    with running_portal(province.env()) as url:
        first = _pull(nation, url, key)
        held = _records(nation)
        assert set(held) == set(numbers)
        assert set(held.values()) == {("active", "gd", 1)}, first
        assert first.applied == 5

        with province.context() as ctx, ctx.sessions.begin() as session:
            change_status(
                session,
                source="samr",
                decision_no=numbers[0],
                status=RecordStatus.REPAIRED,
                actor="test",
                reason="repaired",
            )
        second = _pull(nation, url, key)
        again = _pull(nation, url, key)

    assert second.applied == 1
    assert _records(nation)[numbers[0]] == ("repaired", "gd", 2)
    assert again.applied == 0
    assert again.batches == 1
    # The copy's events name the province as their origin, so the nation passes the
    # removal on to whoever copied from it, and never sends a copy back.
    assert _count(nation, FeedEvent.origin != "gd") == 0
    assert _count(nation, FeedEvent.kind == "record.repaired", FeedEvent.tombstone) == 1


def _entries(instance: Instance) -> dict[str, str]:
    """subject code -> status of every courts.defaulters entry held."""
    with instance.context() as ctx, ctx.sessions() as session:
        rows = session.execute(
            select(Subject.code_display, ListEntry.status)
            .join(Subject, Subject.id == ListEntry.subject_id)
            .where(ListEntry.list_code == "courts.defaulters")
        )
        return {str(code): str(status) for code, status in rows}


def test_a_list_entry_decided_at_the_nation_reaches_the_province_and_nothing_goes_back(
    pair: tuple[Instance, Instance],
) -> None:
    province, nation = pair
    numbers = _submit(province, 2)
    firm = factories.org(region="110105")
    decision = record_of("courts.defaulter", firm, source="spc", decided=factories.office_today())
    with running_portal(province.env()) as url:
        _pull(nation, url, _operator_key(province))
    with nation.context() as ctx, ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [decision], actor="test")
    assert _entries(nation) == {firm.code: "current"}
    key = _operator_key(nation)
    with running_portal(nation.env()) as url:
        back = _pull(province, url, key)
        assert _entries(province) == {firm.code: "current"}
        with nation.context() as ctx, ctx.sessions.begin() as session:
            change_status(
                session,
                source="spc",
                decision_no=decision.decision_no,
                status=RecordStatus.REVOKED,
                actor="test",
                reason="revoked",
            )
        _pull(province, url, key)
    assert back.skipped["made here"] == 2
    held = _records(province)
    assert {n: held[n] for n in numbers} == dict.fromkeys(numbers, ("active", None, None))
    assert held[decision.decision_no] == ("revoked", "nation", 2)
    assert _entries(province) != {firm.code: "current"}


class Tampering:
    """A man in the middle that raises a fine in every batch it passes on."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner

    def get(self, path: str, params: dict[str, Any]) -> Any:
        answer = self.inner.get(path, params)
        if isinstance(answer, dict) and "batch" in answer:
            answer["batch"] = answer["batch"].replace('"1.5"', '"0.1"')
        return answer


def test_a_batch_changed_in_transit_is_refused(pair: tuple[Instance, Instance]) -> None:
    province, nation = pair
    _submit(province, 2)
    key = _operator_key(province)
    with running_portal(province.env()) as url:
        with pytest.raises(BatchRefusedError, match="changed in transit"):
            _pull(nation, url, key, Tampering(HttpTransport(url, key)))
        assert _records(nation) == {}
        assert _count(nation, SyncSource.cursor > 0, table=SyncSource) == 0
        assert _count(nation, AuditEvent.tag == "sync:batch:refused", table=AuditEvent) == 1
        assert _pull(nation, url, key).applied == 2


def _sync_process(nation: Instance, url: str, key: str, output: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bonafides", "sync", "--from", url, "--key", key, "--batch", "1"],
        env={**os.environ, **nation.env()},
        stdout=output,
        stderr=output,
    )


def test_a_sync_killed_mid_batch_and_run_again_loses_and_duplicates_nothing(
    pair: tuple[Instance, Instance],
) -> None:
    province, nation = pair
    numbers = _submit(province, 40)
    key = _operator_key(province)
    with running_portal(province.env()) as url:
        process = _sync_process(nation, url, key, subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _count(nation, SyncSource.cursor > 5, table=SyncSource) == 0:
            assert process.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        partial = len(_records(nation))
        assert 0 < partial < len(numbers)
        rerun = _sync_process(nation, url, key, subprocess.PIPE)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err.decode()
    held = _records(nation)
    assert set(held) == set(numbers)
    assert all(v == ("active", "gd", 1) for v in held.values())
    published = _count(nation, FeedEvent.kind == "record.published")
    assert published == len(numbers)
    assert "applied" in out.decode()


FEDERATION = "federation-test-secret-0123456789abcdef"


def test_a_persons_record_reaches_the_nation_sealed_and_is_repaired_there_never_in_public(
    pair: tuple[Instance, Instance], tmp_path: Path
) -> None:
    """Each instance has its own master secret (its own vault); they share only the
    federation secret, so the nation can key the person only by opening the number the
    province sealed for it."""
    plain_province, plain_nation = pair
    province = _instance("gd", plain_province.settings.db, tmp_path, SECRET, FEDERATION)
    nation = _instance("nation", plain_nation.settings.db, tmp_path, "nation-" + SECRET, FEDERATION)
    person = factories.person(region="440106")
    # A court's list of defaulters is public about persons too (masked): the public
    # feed tells of it, and must not carry the number.
    decision = record_of("courts.defaulter", person, source="spc", decided=factories.office_today())
    with province.context() as ctx, ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [decision], actor="test")
    key = _operator_key(province)
    with running_portal(province.env()) as url:
        anonymous = [
            urllib.request.urlopen(f"{url}{path}?after=0&limit=100").read().decode()
            for path in ("/api/v1/feed", "/api/v1/feed/signed")
        ]
        first = _pull(nation, url, key)
        with province.context() as ctx, ctx.sessions.begin() as session:
            change_status(
                session,
                source="spc",
                decision_no=decision.decision_no,
                status=RecordStatus.REPAIRED,
                actor="test",
                reason="repaired",
            )
        _pull(nation, url, key)

    # The record, and the list entry it triggered (found by the sealed number too).
    assert first.applied == 2, first
    assert _records(nation)[decision.decision_no] == ("repaired", "gd", 2)
    with nation.context() as ctx, ctx.sessions() as session:
        held = session.scalars(select(Subject).where(Subject.kind == "natural_person")).one()
        assert held.key == ctx.keys.key(person.code, person.kind)
        assert held.code_cipher is not None
        assert ctx.vault.decrypt(held.code_cipher) == person.code
        assert held.key != IdentifierVault(SECRET).lookup_key(person.code)
    with province.context() as ctx, ctx.sessions() as session:
        tags = session.scalars(select(AuditEvent.tag)).all()
    assert "sync:identifiers:sealed" in tags
    for body in anonymous:
        assert "sealed_code" not in body
        assert person.code not in body
        assert decision.decision_no in body


def test_without_the_federation_secret_a_persons_record_is_not_copied(
    pair: tuple[Instance, Instance],
) -> None:
    province, nation = pair
    decision = factories.penalty(factories.person(region="440106"))
    with province.context() as ctx, ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [decision], actor="test")
    with running_portal(province.env()) as url:
        done = _pull(nation, url, _operator_key(province))
    assert done.skipped["a natural person's decision"] == 1
    assert _records(nation) == {}
