"""Accounts, passwords, sessions and API keys through the services, on both stores."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bonafides.security import apikeys, audit
from bonafides.security.accounts import (
    AccountError,
    authenticate,
    bind_subject,
    create_account,
    principal_of,
    set_active,
    set_password,
)
from bonafides.security.passwords import (
    WeakPasswordError,
    check_policy,
    hash_password,
    load_common_passwords,
    packaged_common_passwords,
    verify_password,
)
from bonafides.security.roles import Role, Scope
from bonafides.security.sessions import csrf_ok, end_session, find_session, sign_in
from bonafides.settings import Settings
from bonafides.store.tables import Account, ApiKey, AuditEvent, LoginSession
from tests import factories
from tests.security.world import PASSWORD, World, api


def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)


def test_account_rules(world: World) -> None:
    world.account("officer.samr", Role.OFFICER, department="samr")

    def refused(match: str, username: str, role: Role, **kw: Any) -> None:
        with world.ctx.sessions.begin() as session, pytest.raises(AccountError, match=match):
            create_account(
                session,
                world.ctx.catalogue,
                world.ctx.keys,
                world.clock,
                username=username,
                role=role,
                display_name="x",
                password=PASSWORD,
                actor="test",
                **kw,
            )

    refused("taken", "officer.samr", Role.OPERATOR)
    refused("belongs to a department", "nodept", Role.INQUIRER)
    refused("unknown department", "bad", Role.OFFICER, department="nope")
    refused("no department", "operator1", Role.OPERATOR, department="samr")
    refused("user name", "Robert'); DROP TABLE", Role.OPERATOR)
    refused("invalid code", "subj", Role.SUBJECT, subject_code="123")
    refused("only a subject", "officer2", Role.OFFICER, department="samr", subject_code="x")
    refused("public needs no account", "nobody", Role.PUBLIC)
    with world.ctx.sessions.begin() as session, pytest.raises(WeakPasswordError):
        create_account(
            session,
            world.ctx.catalogue,
            world.ctx.keys,
            world.clock,
            username="weak",
            role=Role.OPERATOR,
            display_name="x",
            password="short",
            actor="test",
        )


def test_subject_account_sees_nothing_until_bound(world: World) -> None:
    firm = factories.org()
    unbound = world.account("firm", Role.SUBJECT, subject=firm, bind=False)
    assert unbound.bound_subject is None
    with world.ctx.sessions.begin() as session, pytest.raises(AccountError, match="differs"):
        bind_subject(
            session,
            world.ctx.keys,
            world.clock,
            username="firm",
            code=factories.org().code,
            evidence="licence seen at the counter",
            actor="operator",
        )
    with world.ctx.sessions.begin() as session:
        account = bind_subject(
            session,
            world.ctx.keys,
            world.clock,
            username="firm",
            code=firm.code,
            evidence="licence seen at the counter",
            actor="operator",
        )
        bound = principal_of(account, via="session")
    claimant = factories.org()
    other = world.account("other", Role.SUBJECT, subject=claimant, bind=False)
    assert other.bound_subject is None
    with world.ctx.sessions.begin() as session:
        for evidence, enough in (("。。。。。。", False), ("现场核验", True)):
            if enough:
                bind_subject(
                    session,
                    world.ctx.keys,
                    world.clock,
                    username="other",
                    code=claimant.code,
                    evidence=evidence,
                    actor="operator",
                )
                continue
            with pytest.raises(AccountError, match="evidence"):
                bind_subject(
                    session,
                    world.ctx.keys,
                    world.clock,
                    username="other",
                    code=claimant.code,
                    evidence=evidence,
                    actor="operator",
                )
    assert bound.bound_subject == firm.code
    assert bound.scopes == frozenset({Scope.OWN_FILE, Scope.OWN_WORKFLOWS})


def test_person_account_keeps_no_id_number(world: World) -> None:
    someone = factories.person()
    world.account("zhangsan", Role.SUBJECT, subject=someone)
    with world.ctx.sessions() as session:
        account = session.scalar(select(Account).where(Account.username == "zhangsan"))
        assert account is not None
        assert account.subject_key is not None
        assert someone.code not in account.subject_key
        assert account.subject_display is not None
        assert "*" in account.subject_display
        events = session.scalars(select(AuditEvent)).all()
        assert all(someone.code not in str(e.detail) for e in events)


def test_sign_in_session_and_logout(world: World) -> None:
    world.account("ops", Role.OPERATOR)
    with world.ctx.sessions.begin() as session:
        assert (
            sign_in(
                session,
                world.clock,
                username="ops",
                password="wrong password!!",
                hours=8,
                client="127.0.0.1",
                user_agent=None,
            )
            is None
        )
        result = sign_in(
            session,
            world.clock,
            username="OPS",
            password=PASSWORD,
            hours=8,
            client="127.0.0.1",
            user_agent="pytest",
        )
        assert result is not None
        _, started = result
    with world.ctx.sessions() as session:
        stored = session.scalars(select(LoginSession)).one()
        assert stored.token_hash != started.token
        assert find_session(session, world.clock, started.token) is not None
        assert find_session(session, world.clock, started.token + "x") is None
        assert csrf_ok(stored.csrf_token, started.csrf_token)
        assert not csrf_ok(stored.csrf_token, "forged")
        assert not csrf_ok(stored.csrf_token, None)
        tags = [e.tag for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert "accounts:login:failed" in tags
        assert "accounts:session:started" in tags
    world.clock.advance(hours=9)
    with world.ctx.sessions() as session:
        assert find_session(session, world.clock, started.token) is None, "expired"
    world.clock.advance(hours=-9)
    with world.ctx.sessions.begin() as session:
        assert end_session(session, world.clock, started.token, actor="user:ops")
    with world.ctx.sessions() as session:
        assert find_session(session, world.clock, started.token) is None, "ended"


def test_deactivated_account_cannot_sign_in_or_use_sessions(world: World) -> None:
    world.account("leaver", Role.OFFICER, department="samr")
    with world.ctx.sessions.begin() as session:
        result = sign_in(
            session,
            world.clock,
            username="leaver",
            password=PASSWORD,
            hours=8,
            client=None,
            user_agent=None,
        )
        assert result is not None
        token = result[1].token
        set_active(session, username="leaver", active=False, actor="ops")
    with world.ctx.sessions() as session:
        assert find_session(session, world.clock, token) is None
        assert authenticate(session, "leaver", PASSWORD) is None


def test_api_key_shown_once_stored_hashed_scoped_and_revocable(world: World) -> None:
    world.account("uploader", Role.OFFICER, department="samr", password=None)
    token = world.key("uploader", "records:submit")
    assert token.startswith("bfk_")
    with world.ctx.sessions() as session:
        row = session.scalars(select(ApiKey)).one()
        assert token.split("_", 2)[2] not in row.secret_hash
        found = apikeys.resolve_key(session, world.clock, token)
        assert found is not None
        account, key = found
        assert key.scopes == ["records:submit"]
        principal = principal_of(account, via="key", scopes=frozenset({Scope.RECORDS_SUBMIT}))
        assert principal.has(Scope.RECORDS_SUBMIT)
        assert not principal.has(Scope.FILES_READ)
        forged = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert apikeys.resolve_key(session, world.clock, forged) is None
        assert apikeys.resolve_key(session, world.clock, "bfk_short") is None
        # A key-only account has no password: nobody signs in as it.
        assert authenticate(session, "uploader", "") is None
    with world.ctx.sessions.begin() as session:
        account = session.scalars(select(Account)).one()
        with pytest.raises(apikeys.ApiKeyError, match="cannot hold"):
            apikeys.issue_key(
                session, world.clock, account, name="x", scopes=["admin"], actor="ops"
            )
        with pytest.raises(apikeys.ApiKeyError, match="unknown scope"):
            apikeys.issue_key(session, world.clock, account, name="x", scopes=["*"], actor="ops")
        apikeys.revoke_key(session, world.clock, row.key_id, actor="ops")
    with world.ctx.sessions() as session:
        assert apikeys.resolve_key(session, world.clock, token) is None
        assert audit.verify(session).ok


def test_expiring_key(world: World) -> None:
    world.account("bank", Role.INQUIRER, department="pboc")
    with world.ctx.sessions.begin() as session:
        account = session.scalars(select(Account)).one()
        token = apikeys.issue_key(
            session, world.clock, account, name="q", scopes=["screen"], actor="ops", days=1
        ).token
    with world.ctx.sessions() as session:
        assert apikeys.resolve_key(session, world.clock, token) is not None
        world.clock.advance(days=1, seconds=1)
        assert apikeys.resolve_key(session, world.clock, token) is None
    assert world.clock.now() > world.clock.now() - dt.timedelta(seconds=1)


def test_common_passwords_and_own_names_are_refused(tmp_path: Path) -> None:
    assert len(packaged_common_passwords()) >= 10_000
    for common in ("qwerty123456", "QWERTY123456", " 1q2w3e4r5t6y ", "123qweasdzxc"):
        with pytest.raises(WeakPasswordError, match="most common"):
            check_policy(common)
    with pytest.raises(WeakPasswordError, match="e-mail"):
        check_policy("Zhang.Wei@Example.cn", email="zhang.wei@example.cn")
    with pytest.raises(WeakPasswordError, match="e-mail"):
        check_policy("zhangwei-2026-spring", email="zhangwei@example.cn")
    with pytest.raises(WeakPasswordError, match="user name"):
        check_policy("Zhangwei2026!", username="zhangwei")
    check_policy(PASSWORD, username="zhangwei", email="zhangwei@example.cn")
    extra = tmp_path / "local.txt"
    extra.write_text("# local additions\nbonafides-2026\n", encoding="utf-8")
    local = load_common_passwords(extra)
    assert "qwerty123456" in local
    with pytest.raises(WeakPasswordError, match="most common"):
        check_policy("Bonafides-2026", common=local)


def test_registration_and_password_change_refuse_common_passwords(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    extra = tmp_path / "local.txt"
    extra.write_text("shanghai-credit-office\n", encoding="utf-8")
    local = settings.model_copy(update={"common_passwords_file": extra})
    firm = factories.org()
    body = {"username": "firm", "display_name": "Firm", "code": firm.code}
    with api(local, world) as client:
        for weak in ("1q2w3e4r5t6y", "Shanghai-Credit-Office", "firm-firm-firm-firm"):
            refused = client.post("/api/v1/registrations", json={**body, "password": weak})
            assert refused.status_code == 422, weak
        mailed = {**body, "email": "ceo.li@example.cn", "password": "ceo.li@example.cn"}
        assert client.post("/api/v1/registrations", json=mailed).status_code == 422
        done = client.post("/api/v1/registrations", json={**body, "password": PASSWORD})
        assert done.status_code == 201, done.text
    with world.ctx.sessions.begin() as session, pytest.raises(WeakPasswordError):
        set_password(session, username="firm", password="qwertyuiop123", actor="test")


def test_starting_a_command_computes_no_password_hash() -> None:
    """Every command imports the password module; an Argon2 hash made at import cost each
    of them a quarter of a second before it did anything."""
    probe = (
        "import argon2\n"
        "made = []\n"
        "hash_ = argon2.PasswordHasher.hash\n"
        "argon2.PasswordHasher.hash = lambda s, *a, **k: made.append(1) or hash_(s, *a, **k)\n"
        "import bonafides.cli\n"
        "from bonafides.security import passwords\n"
        "print(len(made))\n"
        "passwords.verify_password(None, 'x' * 12)\n"
        "print(len(made))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "1"]
