"""The operator's commands as typed, the refusal to serve with a default secret, and the
audit chain naming a row altered directly in the database. Both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bonafides.cli import app
from bonafides.context import Context
from bonafides.settings import DEFAULT_SECRET, Settings, get_settings
from bonafides.store.tables import Account, AuditEvent
from tests import factories
from tests.security.world import PASSWORD, SECRET

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", SECRET)
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BONAFIDES_DEMO", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["init", "--db", db_url])
    assert result.exit_code == 0, result.output
    yield db_url
    get_settings.cache_clear()


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_serve_refuses_the_default_or_a_missing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    def never(*_args: object, **_kw: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(uvicorn, "run", never)
    monkeypatch.delenv("BONAFIDES_DEMO", raising=False)
    for secret in (None, "", DEFAULT_SECRET):
        if secret is None:
            monkeypatch.delenv("BONAFIDES_SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("BONAFIDES_SECRET_KEY", secret)
        get_settings.cache_clear()
        code, output = _run("serve", "--db", "sqlite://")
        assert code == 2, output
        assert "BONAFIDES_SECRET_KEY" in output
    get_settings.cache_clear()


def test_accounts_keys_and_binding(env: str) -> None:
    firm = factories.org()
    code, out = _run(
        "accounts",
        "create",
        "firm",
        "--role",
        "subject",
        "--code",
        firm.code,
        "--password-stdin",
        "--db",
        env,
        stdin=PASSWORD + "\n",
    )
    assert code == 0, out
    code, out = _run(
        "accounts",
        "create",
        "clerk",
        "--role",
        "officer",
        "--department",
        "nowhere",
        "--no-password",
        "--db",
        env,
    )
    assert code == 2
    assert "unknown department" in out
    code, out = _run(
        "accounts",
        "create",
        "clerk",
        "--role",
        "officer",
        "--department",
        "samr",
        "--no-password",
        "--db",
        env,
    )
    assert code == 0, out
    code, out = _run(
        "accounts", "bind", "firm", factories.org().code, "--evidence", "seen", "--db", env
    )
    assert code == 2, "another code than the one claimed"
    code, out = _run(
        "accounts",
        "bind",
        "firm",
        firm.code,
        "--evidence",
        "licence seen at the counter",
        "--db",
        env,
    )
    assert code == 0, out
    assert firm.code in out
    code, out = _run("keys", "issue", "clerk", "--name", "upload", "--scope", "admin", "--db", env)
    assert code == 2
    assert "cannot hold" in out
    code, out = _run(
        "keys", "issue", "clerk", "--name", "upload", "--scope", "records:submit", "--db", env
    )
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("bfk_")
    key_id = token.split("_")[1]
    code, out = _run("keys", "list", "--db", env)
    assert key_id in out
    assert token not in out
    assert _run("keys", "revoke", key_id, "--db", env)[0] == 0
    assert _run("keys", "revoke", "000000000000", "--db", env)[0] == 2
    code, out = _run("accounts", "list", "--db", env)
    assert "firm" in out
    assert "clerk" in out
    assert _run("accounts", "deactivate", "clerk", "--db", env)[0] == 0
    ctx = Context(Settings(db=env, secret_key=SECRET))
    with ctx.sessions() as session:
        clerk = session.scalar(select(Account).where(Account.username == "clerk"))
        assert clerk is not None
        assert not clerk.active
    ctx.close()
    assert _run("audit", "verify", "--db", env)[0] == 0


def test_escalation_job_and_listing(env: str) -> None:
    code, out = _run("objections", "overdue", "--db", env)
    assert code == 0, out
    code, out = _run("objections", "escalate", "--db", env)
    assert code == 0, out
    assert "escalated 0" in out
    for kind in ("repairs", "complaints", "disclosure"):
        code, out = _run(kind, "escalate", "--db", env)
        assert code == 0, out
        assert "escalated 0 overdue" in out
    code, out = _run("disclosure", "figures", "--db", env)
    assert code == 0, out
    assert "median days" in out
    code, out = _run("notifications", "send", "--db", env)
    assert code == 2
    assert "SMTP" in out


def test_audit_verify_names_a_row_altered_in_the_database(env: str) -> None:
    for name in ("one", "two", "three"):
        code, out = _run(
            "accounts",
            "create",
            f"user.{name}",
            "--role",
            "operator",
            "--no-password",
            "--db",
            env,
        )
        assert code == 0, out
    assert _run("audit", "verify", "--db", env)[0] == 0
    ctx = Context(Settings(db=env, secret_key=SECRET))
    with ctx.sessions.begin() as session:
        target = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == "accounts:account:created")
            .order_by(AuditEvent.id)
        ).all()[1]
        session.execute(
            update(AuditEvent).where(AuditEvent.id == target.id).values(actor="someone-else")
        )
    ctx.close()
    code, out = _run("audit", "verify", "--db", env)
    assert code == 1
    assert f"broken at event {target.id}" in out


def test_inquiry_decisions_from_the_shell(env: str) -> None:
    import datetime as dt

    from bonafides.records import RecordStatus
    from bonafides.security.clock import SystemClock
    from bonafides.security.roles import Role
    from bonafides.workflows import inquiries
    from bonafides.workflows.common import services_for
    from tests.security.world import World

    code, out = _run("inquiries", "decide", "1", "--approve", "--note", "ok", "--db", env)
    assert code == 2
    assert "no special inquiry 1" in out
    ctx = Context(Settings(db=env, secret_key=SECRET))
    world = World(ctx)
    firm = factories.org()
    world.penalty(firm, status=RecordStatus.ACTIVE)
    banker = world.account("banker", Role.INQUIRER, department="pboc")
    today = services_for(ctx, clock=SystemClock()).deadlines.today()
    with ctx.sessions.begin() as session:
        inquiry = inquiries.apply(
            session,
            ctx.keys,
            services_for(ctx).deadlines,
            banker,
            inquiries.InquiryRequest(
                purpose="bribery check before a state loan",
                legal_basis="《商业银行法》",
                codes=[firm.code],
                valid_from=today,
                valid_until=today + dt.timedelta(days=3),
            ),
            max_days=90,
        )
    code, out = _run("inquiries", "list", "--db", env)
    assert code == 0
    assert "pending" in out
    code, out = _run(
        "inquiries",
        "decide",
        str(inquiry.id),
        "--refuse",
        "--note",
        "no legal basis for it",
        "--db",
        env,
    )
    assert code == 0, out
    assert "refused" in out
    with ctx.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "inquiry:application:refused")
        ).one()
        assert event.actor.startswith("cli:")
    ctx.close()
