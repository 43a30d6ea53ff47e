"""``bonafides review ...`` (the review desk of rows without a code) and ``bonafides
subjects merge|split``.

Each command calls the use case the API and the portal call (``bonafides.app.review``,
``bonafides.app.merging``) as the operator at the shell, and prints; exit code 2 with one
line on refusal.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from bonafides.commands.common import DbOption, fail, operator_principal, out, unit_of_work

review_app = typer.Typer(help="The review desk: rows that named their subject without a code.")
subjects_app = typer.Typer(help="Merge a subject into another (a register reports a merger).")

ItemArg = Annotated[int, typer.Argument(min=1, help="The review item's id.")]
CodeArg = Annotated[str, typer.Argument(help="The candidate's USCC.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (stored and audited).")]


def register(app: typer.Typer) -> None:
    for sub in (review_app, subjects_app):
        sub.info.no_args_is_help = True
    app.add_typer(review_app, name="review")
    app.add_typer(subjects_app, name="subjects")


@review_app.command("list")
def list_items(
    department: Annotated[str | None, typer.Option(help="Only this department's rows.")] = None,
    type_code: Annotated[str | None, typer.Option("--type", help="Only this record type.")] = None,
    status: Annotated[str, typer.Option(help="open, unsure, accepted, rejected, or all.")] = "open",
    db: DbOption = None,
) -> None:
    """The queue, oldest first: each row's department, type, name and best candidate."""
    from bonafides.app.review import list_queue
    from bonafides.workflows.common import WorkflowError

    table = Table("id", "department", "type", "decision", "name", "best candidate", "status")
    with unit_of_work(db) as (ctx, unit):
        try:
            found = list_queue(
                unit.session,
                ctx.catalogue,
                operator_principal(),
                department=department,
                type_code=type_code,
                status=None if status == "all" else status,
            )
        except WorkflowError as exc:
            fail(str(exc))
        for item in found:
            best = (item.candidates or [{}])[0]
            table.add_row(
                str(item.id),
                item.source,
                item.type_code,
                item.decision_no or "",
                item.subject_name,
                f"{best.get('code', '')} {best.get('score', '')}".strip(),
                item.status,
            )
    out.print(table)


@review_app.command("show")
def show(item_id: ItemArg, db: DbOption = None) -> None:
    """One item as JSON: the row, its candidates with their explanations, the judgements."""
    from bonafides.app.review import read_item
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            view = read_item(unit, ctx, operator_principal(), item_id)
        except WorkflowError as exc:
            fail(str(exc))
        item = view.item
        shown = {
            "id": item.id,
            "department": item.source,
            "type": item.type_code,
            "decision_no": item.decision_no,
            "name": item.subject_name,
            "status": item.status,
            "algorithm": item.algorithm,
            "candidates": view.candidates,
            "judgements": [
                {
                    "verdict": j.verdict,
                    "code": j.code,
                    "reason": j.reason,
                    "by": j.actor,
                    "at": j.judged_at.isoformat(),
                    "record": j.record_id,
                }
                for j in view.judgements
            ],
        }
    out.print_json(json.dumps(shown, ensure_ascii=False))


@review_app.command("accept")
def accept(item_id: ItemArg, code: CodeArg, reason: ReasonOption, db: DbOption = None) -> None:
    """Link the row to the candidate: it becomes a record of that subject."""
    from bonafides.app.review import accept as accept_item
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            view = accept_item(unit, ctx, operator_principal(), item_id, code=code, reason=reason)
        except WorkflowError as exc:
            fail(str(exc))
        record = view.judgements[-1].record_id
    out.print(f"review item {item_id}: accepted, record {record} of {code.upper()}")


@review_app.command("reject")
def reject(item_id: ItemArg, code: CodeArg, reason: ReasonOption, db: DbOption = None) -> None:
    """The candidate is not the subject the row names: never proposed again for the name."""
    from bonafides.app.review import reject as reject_candidate
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            view = reject_candidate(
                unit, ctx, operator_principal(), item_id, code=code, reason=reason
            )
        except WorkflowError as exc:
            fail(str(exc))
        status, left = view.item.status, len(view.candidates)
    out.print(f"review item {item_id}: {code.upper()} rejected; {left} candidate(s) left, {status}")


@review_app.command("unsure")
def unsure(item_id: ItemArg, reason: ReasonOption, db: DbOption = None) -> None:
    """No judgement yet: the item stays on the desk with the note."""
    from bonafides.app.review import unsure as mark_unsure
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            mark_unsure(unit, ctx, operator_principal(), item_id, reason=reason)
        except WorkflowError as exc:
            fail(str(exc))
    out.print(f"review item {item_id}: unsure, kept on the desk")


@subjects_app.command("merge")
def merge(
    from_code: Annotated[str, typer.Argument(metavar="FROM", help="The absorbed subject.")],
    into_code: Annotated[str, typer.Argument(metavar="INTO", help="The subject absorbing it.")],
    reason: ReasonOption,
    db: DbOption = None,
) -> None:
    """Move FROM's records to INTO; FROM stays findable, marked merged (undo: split)."""
    from bonafides.app.merging import merge_subjects
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            done = merge_subjects(
                unit,
                ctx,
                operator_principal(),
                from_code=from_code,
                into_code=into_code,
                reason=reason,
            )
        except WorkflowError as exc:
            fail(str(exc))
    out.print(
        f"merge {done.merge_id}: {done.from_code} into {done.into_code}, {done.records} record(s)"
    )


@subjects_app.command("split")
def split(
    from_code: Annotated[str, typer.Argument(metavar="FROM", help="The merged subject.")],
    reason: ReasonOption,
    db: DbOption = None,
) -> None:
    """Undo FROM's merge: exactly the records it moved go back, its status is restored."""
    from bonafides.app.merging import split_subject
    from bonafides.workflows.common import WorkflowError

    with unit_of_work(db) as (ctx, unit):
        try:
            done = split_subject(
                unit, ctx, operator_principal(), from_code=from_code, reason=reason
            )
        except WorkflowError as exc:
            fail(str(exc))
    out.print(
        f"merge {done.merge_id} undone: {done.records} record(s) back from {done.into_code} "
        f"to {done.from_code}"
    )
