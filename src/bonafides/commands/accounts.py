"""``bonafides accounts ...`` and ``bonafides keys ...``: the operator's accounts and API keys.

Each command parses, calls the use case the API calls (``bonafides.app.accounts``), and
prints; exit code 2 with one line on refusal.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from bonafides.commands.common import DbOption, fail, operator_principal, out, unit_of_work

accounts_app = typer.Typer(help="Accounts: operators, officers, inquirers, subjects.")
keys_app = typer.Typer(help="API keys for machine clients.")


def register(app: typer.Typer) -> None:
    for sub in (accounts_app, keys_app):
        sub.info.no_args_is_help = True
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(keys_app, name="keys")


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
    from bonafides.app.accounts import create_account
    from bonafides.security.accounts import AccountError
    from bonafides.security.passwords import WeakPasswordError
    from bonafides.security.roles import Role

    try:
        chosen = Role(role)
    except ValueError:
        fail(f"unknown role {role!r}: operator, officer, inquirer or subject")
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with unit_of_work(db) as (ctx, unit):
        try:
            account = create_account(
                unit,
                ctx,
                ctx.clock,
                operator_principal(),
                username=username,
                role=chosen,
                display_name=name or username,
                password=password,
                department=department,
                email=email,
                subject_code=subject_code,
            )
        except (AccountError, WeakPasswordError) as exc:
            fail(str(exc))
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
    from bonafides.app.accounts import bind_subject
    from bonafides.security.accounts import AccountError, UnknownAccountError

    with unit_of_work(db) as (ctx, unit):
        try:
            account = bind_subject(
                unit,
                ctx,
                ctx.clock,
                operator_principal(),
                username=username,
                code=code,
                evidence=evidence,
            )
        except (AccountError, UnknownAccountError) as exc:
            fail(str(exc.args[0]))
        out.print(f"bound {account.username} to {account.subject_display}")


@accounts_app.command("list")
def list_accounts(db: DbOption = None) -> None:
    """Every account with its role, department, subject and state."""
    from bonafides.store.tables import Account

    table = Table("user", "role", "department", "subject", "bound", "active")
    with unit_of_work(db) as (_ctx, unit):
        for a in unit.session.scalars(select(Account).order_by(Account.username)):
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
    from bonafides.app import accounts
    from bonafides.security.accounts import UnknownAccountError

    with unit_of_work(db) as (_ctx, unit):
        try:
            accounts.deactivate(unit, operator_principal(), username)
        except UnknownAccountError as exc:
            fail(str(exc.args[0]))
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
    from bonafides.app.accounts import issue_key
    from bonafides.security.accounts import UnknownAccountError
    from bonafides.security.apikeys import ApiKeyError

    with unit_of_work(db) as (ctx, unit):
        try:
            _account, issued = issue_key(
                unit,
                ctx.clock,
                operator_principal(),
                username=username,
                name=name,
                scopes=scope,
                days=days,
            )
        except (ApiKeyError, UnknownAccountError) as exc:
            fail(str(exc.args[0]))
    out.print(f"key {issued.key.key_id} for {username} ({', '.join(issued.key.scopes)})")
    sys.stdout.write(issued.token + "\n")


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the 12 hex digits after bfk_).")],
    db: DbOption = None,
) -> None:
    """Revoke an API key at once."""
    from bonafides.app.accounts import revoke_key
    from bonafides.security.apikeys import ApiKeyError

    with unit_of_work(db) as (ctx, unit):
        try:
            revoke_key(unit, ctx.clock, operator_principal(), key_id)
        except ApiKeyError as exc:
            fail(str(exc))
    out.print(f"revoked key {key_id}")


@keys_app.command("list")
def list_keys(db: DbOption = None) -> None:
    """Every key: id, account, scopes, expiry and revocation (never the key itself)."""
    from bonafides.store.tables import Account, ApiKey

    table = Table("key", "account", "name", "scopes", "expires", "revoked")
    with unit_of_work(db) as (_ctx, unit):
        rows = unit.session.execute(
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
