"""Commands for unusual-reading alerts (plan §67): scan a day, list them, acknowledge one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bonafides.commands.rules import DbOption, _date_option, _operator, _settings, fail, out

alerts_app = typer.Typer(
    help="Alerts on unusual reading of non-public files.", no_args_is_help=True
)


@alerts_app.command("scan")
def alerts_scan(
    day: Annotated[
        str | None,
        typer.Option("--day", help="Office day to scan (YYYY-MM-DD); default today."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Compare each reader's non-public reads on a day with its own baseline and alert the
    operators about the unusual ones (run hourly or daily; safe to repeat)."""
    from bonafides.app.alerts import scan_day
    from bonafides.context import Context

    when = _date_option(day, "--day") if day else None
    ctx = Context(_settings(db))
    try:
        alerts = scan_day(ctx, day=when, actor=_operator())
    finally:
        ctx.close()
    if not alerts:
        out.print("no unusual reading")
        return
    for alert in alerts:
        out.print(
            f"alert {alert.id}: {alert.actor} read {alert.reads} files on {alert.day} "
            f"(baseline {alert.baseline:g}, threshold {alert.threshold})"
        )


@alerts_app.command("list")
def alerts_list(
    all_: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts.")] = False,
    db: DbOption = None,
) -> None:
    """The alerts still open (or all of them), newest day first."""
    from bonafides.app.alerts import list_alerts
    from bonafides.context import Context

    ctx = Context(_settings(db))
    try:
        alerts = list_alerts(ctx, include_acknowledged=all_)
    finally:
        ctx.close()
    table = Table("id", "reader", "day", "reads", "baseline", "threshold", "acknowledged")
    for a in alerts:
        table.add_row(
            str(a.id),
            a.actor,
            a.day.isoformat(),
            str(a.reads),
            f"{a.baseline:g}",
            str(a.threshold),
            f"{a.acknowledged_by}: {a.note}" if a.acknowledged_at else "",
        )
    out.print(table)


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id.")],
    note: Annotated[str, typer.Option("--note", help="What the check found.")],
    db: DbOption = None,
) -> None:
    """Close an alert with what checking the access log found (audited)."""
    from bonafides.app.alerts import acknowledge_alert
    from bonafides.context import Context
    from bonafides.workflows.common import WorkflowError

    ctx = Context(_settings(db))
    try:
        alert = acknowledge_alert(ctx, alert_id, actor=_operator(), note=note)
    except WorkflowError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    out.print(f"alert {alert.id} acknowledged")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
