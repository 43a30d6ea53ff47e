"""``bonafides objections ...``, ``repairs escalate``, ``complaints escalate``,
``disclosure ...`` and ``inquiries ...``: the daily escalation of what is overdue,
applications for disclosure, and special inquiries.

Each command calls the use case the API calls (``bonafides.app.due_process``) and prints;
exit code 2 with one line on refusal.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bonafides.commands.common import DbOption, desk, fail, operator_principal, out, unit_of_work

objections_app = typer.Typer(help="Objections: overdue ones and their escalation.")
repairs_app = typer.Typer(help="Credit repair applications: overdue ones and their escalation.")
complaints_app = typer.Typer(help="Complaints and reports: overdue ones and their escalation.")
inquiries_app = typer.Typer(help="Special inquiries: applications to read restricted records.")
disclosure_app = typer.Typer(
    help="Disclosure on application (依申请公开): overdue ones, escalation and figures."
)


def register(app: typer.Typer) -> None:
    for sub in (objections_app, repairs_app, complaints_app, inquiries_app, disclosure_app):
        sub.info.no_args_is_help = True
    app.add_typer(objections_app, name="objections")
    app.add_typer(repairs_app, name="repairs")
    app.add_typer(complaints_app, name="complaints")
    app.add_typer(inquiries_app, name="inquiries")
    app.add_typer(disclosure_app, name="disclosure")


@objections_app.command("overdue")
def overdue(db: DbOption = None) -> None:
    """Open objections past their deadline, oldest deadline first."""
    from bonafides.app.due_process.deadlines import overdue_objections

    table = Table("objection", "record", "department", "due", "escalated")
    with unit_of_work(db) as (ctx, unit):
        for o in overdue_objections(unit.session, desk(ctx)):
            table.add_row(
                str(o.id),
                str(o.record_id),
                o.source,
                o.due_on.isoformat(),
                o.escalated_at.date().isoformat() if o.escalated_at else "",
            )
    out.print(table)


def _escalate(db: str | None, area: str, what: str) -> None:
    from bonafides.app.due_process.deadlines import escalate

    with unit_of_work(db) as (ctx, unit):
        done = escalate(unit, desk(ctx), operator_principal(), area)
    out.print(f"escalated {done} overdue {what}(s)")


@objections_app.command("escalate")
def escalate(db: DbOption = None) -> None:
    """Escalate overdue objections to the operators (run daily; safe to repeat)."""
    _escalate(db, "objections", "objection")


@repairs_app.command("escalate")
def escalate_repairs(db: DbOption = None) -> None:
    """Escalate repair applications past their review deadline to the operators (run daily;
    safe to repeat)."""
    _escalate(db, "repairs", "repair application")


@complaints_app.command("escalate")
def escalate_complaints(db: DbOption = None) -> None:
    """Escalate complaints and reports past their deadline to the operators (run daily;
    safe to repeat). The operators learn the department and deadline, not the informant."""
    _escalate(db, "complaints", "complaint")


@disclosure_app.command("escalate")
def escalate_disclosure(db: DbOption = None) -> None:
    """Escalate applications for disclosure unanswered after their 20 working days to the
    operators (run daily; safe to repeat)."""
    _escalate(db, "disclosure", "disclosure request")


@disclosure_app.command("figures")
def disclosure_figures(db: DbOption = None) -> None:
    """Per department: applications received, decided, decided in time, open past their
    deadline, and the median working days to a decision."""
    from bonafides.app.due_process.disclosure_requests import department_figures

    table = Table("department", "received", "decided", "in time", "overdue", "median days")
    with unit_of_work(db) as (ctx, unit):
        for f in department_figures(unit.session, desk(ctx)):
            table.add_row(
                f.department,
                str(f.received),
                str(f.decided),
                str(f.decided_in_time),
                str(f.open_overdue),
                "" if f.median_days is None else f"{f.median_days:g}",
            )
    out.print(table)


# --------------------------------------------------------------------------- inquiries


@inquiries_app.command("list")
def list_inquiries(db: DbOption = None) -> None:
    """Every special inquiry with its department, purpose, period and status."""
    from bonafides.app.due_process.inquiries import list_inquiries

    table = Table("id", "department", "purpose", "subjects", "from", "until", "status")
    with unit_of_work(db) as (_ctx, unit):
        for i in list_inquiries(unit.session, operator_principal()):
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
    from bonafides.app.due_process.inquiries import decide_inquiry
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            inquiry = decide_inquiry(
                unit, desk(ctx), operator_principal(), inquiry_id, approve=approve, note=note
            )
        except WorkflowError as exc:
            fail(str(exc))
    out.print(f"special inquiry {inquiry.id}: {inquiry.status}")
