"""A store with the catalogue, accounts of every role, records, and a clock to move.

Shared by the security and workflow tests; everything goes through the real services
on the real store (both stores, through ``db_url``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.api.app import create_app
from bonafides.catalogue import load_catalogue
from bonafides.context import Context
from bonafides.records import RecordInput, RecordStatus, SubjectRef
from bonafides.rules.records import write_records
from bonafides.security import apikeys
from bonafides.security.accounts import bind_subject, create_account, principal_of
from bonafides.security.clock import FixedClock, office_day
from bonafides.security.roles import Principal, Role
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import Account, Record
from bonafides.workflows.common import Services, services_for
from bonafides.workflows.notify import StoredNotifier
from tests import factories

SECRET = "security-test-secret-0123456789"
PASSWORD = "correct horse battery staple"
ZONE = "Asia/Shanghai"
#: The world's clock starts here, not at the machine's time: deadlines are counted on the
#: China calendar, which covers only the years whose holiday arrangement is published, so
#: a test must not depend on the day it runs (Monday 2026-06-01, 10:00 in Beijing).
START = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id at a test cost: production's 64 MiB per hash would dominate the suite."""
    from bonafides.security import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    dummy = cheap.hash("no such user")
    monkeypatch.setattr(passwords, "dummy_hash", lambda: dummy)


@pytest.fixture
def settings(db_url: str, tmp_path: Any) -> Settings:
    return Settings(
        db=db_url,
        secret_key=SECRET,
        data_dir=tmp_path / "var",
        department_keys={"samr": "samr-key-0123456789abcdef"},
        upload_max_bytes=1 << 20,
        attachment_max_bytes=64 * 1024,
        login_rate_per_minute=5,
        search_rate_per_minute=8,
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context(settings)
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


@dataclass
class World:
    ctx: Context
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))

    @property
    def today(self) -> dt.date:
        return office_day(self.clock, ZONE)

    def services(self, *, mail: bool = False) -> Services:
        return services_for(
            self.ctx, clock=self.clock, notifier=StoredNotifier(self.clock, mail_enabled=mail)
        )

    def account(
        self,
        username: str,
        role: Role,
        *,
        department: str | None = None,
        subject: SubjectRef | None = None,
        bind: bool = True,
        email: str | None = None,
        password: str | None = PASSWORD,
    ) -> Principal:
        with self.ctx.sessions.begin() as session:
            account = create_account(
                session,
                self.ctx.catalogue,
                self.ctx.keys,
                self.clock,
                username=username,
                role=role,
                display_name=username.title(),
                password=password,
                actor="test",
                department=department,
                email=email,
                subject_code=subject.code if subject else None,
            )
            if subject is not None and bind:
                account = bind_subject(
                    session,
                    self.ctx.keys,
                    self.clock,
                    username=username,
                    code=subject.code,
                    evidence="licence seen at the counter",
                    actor="test",
                )
            return principal_of(account, via="session")

    def principal(self, username: str) -> Principal:
        with self.ctx.sessions() as session:
            account = session.scalar(select(Account).where(Account.username == username))
            assert account is not None
            return principal_of(account, via="session")

    def key(self, username: str, *scopes: str) -> str:
        with self.ctx.sessions.begin() as session:
            account = session.scalar(select(Account).where(Account.username == username))
            assert account is not None
            chosen = scopes or tuple(sorted(principal_of(account, via="key").scopes))
            return apikeys.issue_key(
                session, self.clock, account, name="test", scopes=chosen, actor="test"
            ).token

    def store(self, *items: RecordInput) -> list[int]:
        with self.ctx.sessions.begin() as session:
            result = write_records(session, self.ctx.keys, list(items), actor="test")
            return [rid for _, rid in result.outcomes]

    def record(self, record_id: int) -> Record:
        with self.ctx.sessions() as session:
            found = session.get(Record, record_id)
            assert found is not None
            return found

    def penalty(self, subject: SubjectRef, *, days_ago: int = 30, **kw: Any) -> int:
        item = factories.penalty(
            subject, decision_date=self.today - dt.timedelta(days=days_ago), **kw
        )
        return self.store(item)[0]


@pytest.fixture
def world(ctx: Context) -> World:
    return World(ctx)


def record_of(
    type_code: str,
    subject: SubjectRef,
    *,
    source: str,
    decided: dt.date,
    content: dict[str, Any] | None = None,
    status: RecordStatus = RecordStatus.ACTIVE,
) -> RecordInput:
    """A record of any catalogue type with the publication its type gives it."""
    catalogue = load_catalogue()
    rtype = catalogue.type(type_code) if catalogue.has_type(type_code) else None
    number = f"{source}-{type_code}-{next(_numbers)}"
    body = {"subject_name": subject.name, "decision_no": number, "decision_date": str(decided)}
    body.update(content or {})
    return RecordInput(
        type_code=type_code,
        source=source,
        decision_no=number,
        decision_date=decided,
        subject=subject,
        content=body,
        raw={k: str(v) for k, v in body.items()},
        legal_basis="；".join(rtype.legal_basis) if rtype else "test basis",
        status=status,
        published_until=rtype.publication_ends(decided)
        if rtype and not rtype.has_severity
        else None,
        retention_until=rtype.retention_ends(decided) if rtype else None,
        shared_decision_no=rtype.shared_decision_no if rtype else False,
    )


def api(settings: Settings, world: World) -> TestClient:
    """The app on https (so Secure cookies are sent back) with the world's clock."""
    app = create_app(settings)
    app.state.clock = world.clock
    return TestClient(app, base_url="https://testserver")
