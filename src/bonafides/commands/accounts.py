"""Operator commands: accounts, API keys, overdue objections, special inquiries, mail.

``bonafides accounts ...``, ``bonafides keys ...``, ``bonafides objections ...``,
``bonafides repairs escalate``, ``bonafides complaints escalate``,
``bonafides inquiries ...`` and ``bonafides notifications send``. Each parses, calls the
same service the API calls, commits, and prints; exit code 2 with one line on refusal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.context import Context

if TYPE_CHECKING:
    from bonafides.security.roles import Principal

out = Console()

accounts_app = typer.Typer(help="Accounts: operators, officers, inquirers, subjects.")
keys_app = typer.Typer(help="API keys for machine clients.")
objections_app = typer.Typer(help="Objections: overdue ones and their escalation.")
repairs_app = typer.Typer(help="Credit repair applications: overdue ones and their escalation.")
complaints_app = typer.Typer(help="Complaints and reports: overdue ones and their escalation.")
inquiries_app = typer.Typer(help="Special inquiries: applications to read restricted records.")
notifications_app = typer.Typer(help="Notifications: e-mail delivery.")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


def register(app: typer.Typer) -> None:
    for sub in (
        accounts_app,
        keys_app,
        objections_app,
        repairs_app,
        complaints_app,
        inquiries_app,
        notifications_app,
    ):
        sub.info.no_args_is_help = True
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(keys_app, name="keys")
    app.add_typer(objections_app, name="objections")
    app.add_typer(repairs_app, name="repairs")
    app.add_typer(complaints_app, name="complaints")
    app.add_typer(inquiries_app, name="inquiries")
    app.add_typer(notifications_app, name="notifications")


@contextmanager
def _transaction(db: str | None) -> Iterator[tuple[Context, Session]]:
    from bonafides.commands.common import settings_for as _settings

    ctx = Context(_settings(db))
    try:
        with ctx.sessions.begin() as session:
            yield ctx, session
    finally:
        ctx.close()


def _actor() -> str:
    from bonafides.commands.common import operator as _operator

    return _operator()


def _fail(message: str) -> NoReturn:
    from bonafides.commands.common import fail

    fail(message)


def _operator_principal() -> Principal:
    from bonafides.security.roles import ROLE_SCOPES, Principal, Role

    return Principal(
        role=Role.OPERATOR,
        username=_actor().removeprefix("cli:"),
        scopes=ROLE_SCOPES[Role.OPERATOR],
        via="cli",
    )


# --------------------------------------------------------------------------- accounts


@accounts_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Lower-case user name.")],
    role: Annotated[str, typer.Option(help="operator, officer, inquirer or subject.")],
    name: Annotated[str | None, typer.Option(help="Display name; default the user name.")] = None,
    department: Annotated[
        str | None, typer.Option(help="Department code (officers and inquirers).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Address for e-mail notifications.")] = None,
    subject_code: Annotated[
        str | None, typer.Option("--code", help="The code a subject account claims.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="A key-only account nobody can sign in as.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create an account; a subject account is bound to its code later (accounts bind)."""
    from bonafides.security.accounts import AccountError, create_account
    from bonafides.security.passwords import WeakPasswordError
    from bonafides.security.roles import Role

    try:
        chosen = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}: operator, officer, inquirer or subject")
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _transaction(db) as (ctx, session):
        try:
            account = create_account(
                session,
                ctx.catalogue,
                ctx.keys,
                ctx.clock,
                username=username,
                role=chosen,
                display_name=name or username,
                password=password,
                actor=_actor(),
                department=department,
                email=email,
                subject_code=subject_code,
                common_passwords=ctx.common_passwords,
            )
        except (AccountError, WeakPasswordError) as exc:
            _fail(str(exc))
        out.print(f"created {account.role} account {account.username}")


@accounts_app.command("bind")
def bind(
    username: Annotated[str, typer.Argument(help="The subject account.")],
    code: Annotated[str, typer.Argument(help="The subject's USCC or resident ID number.")],
    evidence: Annotated[
        str, typer.Option(help="How the claimant's identity was verified (audited).")
    ],
    db: DbOption = None,
) -> None:
    """Bind a subject account to its code after verifying who the claimant is."""
    from bonafides.security.accounts import AccountError, UnknownAccountError, bind_subject

    with _transaction(db) as (ctx, session):
        try:
            account = bind_subject(
                session,
                ctx.keys,
                ctx.clock,
                username=username,
                code=code,
                evidence=evidence,
                actor=_actor(),
            )
        except (AccountError, UnknownAccountError) as exc:
            _fail(str(exc.args[0]))
        out.print(f"bound {account.username} to {account.subject_display}")


@accounts_app.command("list")
def list_accounts(db: DbOption = None) -> None:
    """Every account with its role, department, subject and state."""
    from bonafides.store.tables import Account

    table = Table("user", "role", "department", "subject", "bound", "active")
    with _transaction(db) as (_ctx, session):
        for a in session.scalars(select(Account).order_by(Account.username)):
            table.add_row(
                a.username,
                a.role,
                a.department or "",
                a.subject_display or "",
                "yes" if a.bound_at else "no",
                "yes" if a.active else "no",
            )
    out.print(table)


@accounts_app.command("deactivate")
def deactivate(
    username: Annotated[str, typer.Argument()],
    db: DbOption = None,
) -> None:
    """Deactivate an account: its sessions and keys stop working at once."""
    from bonafides.security.accounts import UnknownAccountError, set_active

    with _transaction(db) as (_ctx, session):
        try:
            set_active(session, username=username, active=False, actor=_actor())
        except UnknownAccountError as exc:
            _fail(str(exc.args[0]))
    out.print(f"deactivated {username}")


# --------------------------------------------------------------------------- keys


@keys_app.command("issue")
def issue(
    username: Annotated[str, typer.Argument(help="The account the key acts as.")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'nightly upload'.")],
    scope: Annotated[list[str], typer.Option("--scope", help="A scope (repeatable).")],
    days: Annotated[int | None, typer.Option(min=1, help="Lifetime in days; default none.")] = None,
    db: DbOption = None,
) -> None:
    """Issue an API key and print it once; only its hash is kept."""
    from bonafides.security.accounts import UnknownAccountError, get_account
    from bonafides.security.apikeys import ApiKeyError, issue_key

    with _transaction(db) as (ctx, session):
        try:
            account = get_account(session, username)
            issued = issue_key(
                session,
                ctx.clock,
                account,
                name=name,
                scopes=scope,
                actor=_actor(),
                days=days,
            )
        except (ApiKeyError, UnknownAccountError) as exc:
            _fail(str(exc.args[0]))
    out.print(f"key {issued.key.key_id} for {username} ({', '.join(issued.key.scopes)})")
    sys.stdout.write(issued.token + "\n")


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the 12 hex digits after bfk_).")],
    db: DbOption = None,
) -> None:
    """Revoke an API key at once."""
    from bonafides.security.apikeys import ApiKeyError, revoke_key

    with _transaction(db) as (ctx, session):
        try:
            revoke_key(session, ctx.clock, key_id, actor=_actor())
        except ApiKeyError as exc:
            _fail(str(exc))
    out.print(f"revoked key {key_id}")


@keys_app.command("list")
def list_keys(db: DbOption = None) -> None:
    """Every key: id, account, scopes, expiry and revocation (never the key itself)."""
    from bonafides.store.tables import Account, ApiKey

    table = Table("key", "account", "name", "scopes", "expires", "revoked")
    with _transaction(db) as (_ctx, session):
        rows = session.execute(
            select(ApiKey, Account.username)
            .join(Account, Account.id == ApiKey.account_id)
            .order_by(ApiKey.id)
        ).all()
        for key, user in rows:
            table.add_row(
                key.key_id,
                user,
                key.name,
                " ".join(key.scopes),
                key.expires_at.date().isoformat() if key.expires_at else "",
                key.revoked_at.date().isoformat() if key.revoked_at else "",
            )
    out.print(table)


# --------------------------------------------------------------------------- objections


@objections_app.command("overdue")
def overdue(db: DbOption = None) -> None:
    """Open objections past their deadline, oldest deadline first."""
    from bonafides.workflows import objections
    from bonafides.workflows.common import services_for

    table = Table("objection", "record", "department", "due", "escalated")
    with _transaction(db) as (ctx, session):
        services = services_for(ctx)
        for o in objections.overdue(session, services.deadlines):
            table.add_row(
                str(o.id),
                str(o.record_id),
                o.source,
                o.due_on.isoformat(),
                o.escalated_at.date().isoformat() if o.escalated_at else "",
            )
    out.print(table)


def _escalate(db: str | None, area: str, what: str) -> None:
    from importlib import import_module

    from bonafides.workflows.common import services_for

    workflow = import_module(f"bonafides.workflows.{area}")
    with _transaction(db) as (ctx, session):
        services = services_for(ctx)
        done = workflow.escalate(session, services.deadlines, services.notifier, actor=_actor())
    out.print(f"escalated {len(done)} overdue {what}(s)")


@objections_app.command("escalate")
def escalate(db: DbOption = None) -> None:
    """Escalate overdue objections to the operators (run daily; safe to repeat)."""
    _escalate(db, "objections", "objection")


@repairs_app.command("escalate")
def escalate_repairs(db: DbOption = None) -> None:
    """Escalate repair applications past their review deadline to the operators (run daily;
    safe to repeat)."""
    _escalate(db, "repair", "repair application")


@complaints_app.command("escalate")
def escalate_complaints(db: DbOption = None) -> None:
    """Escalate complaints and reports past their deadline to the operators (run daily;
    safe to repeat). The operators learn the department and deadline, not the informant."""
    _escalate(db, "complaints", "complaint")


# --------------------------------------------------------------------------- inquiries


@inquiries_app.command("list")
def list_inquiries(db: DbOption = None) -> None:
    """Every special inquiry with its department, purpose, period and status."""
    from bonafides.workflows import inquiries

    principal = _operator_principal()
    table = Table("id", "department", "purpose", "subjects", "from", "until", "status")
    with _transaction(db) as (_ctx, session):
        for i in inquiries.visible_to(session, principal):
            table.add_row(
                str(i.id),
                i.department,
                i.purpose,
                str(len(i.subject_ids)),
                i.valid_from.isoformat(),
                i.valid_until.isoformat(),
                i.status,
            )
    out.print(table)


@inquiries_app.command("decide")
def decide_inquiry(
    inquiry_id: Annotated[int, typer.Argument(min=1)],
    approve: Annotated[bool, typer.Option("--approve/--refuse", help="The decision.")],
    note: Annotated[str, typer.Option(help="Why (audited; required to refuse).")],
    db: DbOption = None,
) -> None:
    """Approve or refuse a special inquiry."""
    from bonafides.workflows import inquiries
    from bonafides.workflows.common import WorkflowError, services_for

    principal = _operator_principal()
    with _transaction(db) as (ctx, session):
        try:
            inquiry = inquiries.decide(
                session,
                services_for(ctx).deadlines,
                principal,
                inquiry_id,
                approve=approve,
                note=note,
            )
        except WorkflowError as exc:
            _fail(str(exc))
    out.print(f"special inquiry {inquiry.id}: {inquiry.status}")


# --------------------------------------------------------------------------- notifications


@notifications_app.command("send")
def send(db: DbOption = None) -> None:
    """Mail queued notifications through BONAFIDES_SMTP_HOST (retries failed ones)."""
    from bonafides.workflows.notify import SmtpMailer, deliver

    with _transaction(db) as (ctx, session):
        mailer = SmtpMailer.from_settings(ctx.settings)
        if mailer is None:
            _fail("BONAFIDES_SMTP_HOST is not set: notifications are stored only")
        result = deliver(session, mailer, ctx.clock)
    out.print(f"mailed {result.sent}, failed {result.failed}")
    if result.failed:
        raise typer.Exit(1)
