"""``bonafides notifications send``: mail what is queued, and retry what failed.

The steps mail right after they commit; this is for what an SMTP outage held back, and
for notifications written while mail was off.
"""

from __future__ import annotations

import typer

from bonafides.commands.common import DbOption, desk, fail, out, unit_of_work

notifications_app = typer.Typer(help="Notifications: e-mail delivery.")


def register(app: typer.Typer) -> None:
    notifications_app.info.no_args_is_help = True
    app.add_typer(notifications_app, name="notifications")


@notifications_app.command("send")
def send(db: DbOption = None) -> None:
    """Mail queued notifications through BONAFIDES_SMTP_HOST (retries failed ones)."""
    from bonafides.app.due_process.deadlines import send_mail
    from bonafides.workflows.notify import SmtpMailer

    with unit_of_work(db) as (ctx, unit):
        mailer = SmtpMailer.from_settings(ctx.settings)
        if mailer is None:
            fail("BONAFIDES_SMTP_HOST is not set: notifications are stored only")
        result = send_mail(unit, desk(ctx), mailer)
    out.print(f"mailed {result.sent}, failed {result.failed}")
    if result.failed:
        raise typer.Exit(1)
