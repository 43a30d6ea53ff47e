"""Commands for lists, grades, screening and check certificates.

Each command parses, calls ``bonafides.rules.service`` or ``bonafides.screening``, and
prints; exit codes follow DESIGN §6 (0 done, 1 done with rejected lines, 2 unusable).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from bonafides.commands.engines import Engine, Snapshot, check_engine

if TYPE_CHECKING:
    from bonafides.settings import Settings

#: ``bonafides.cli`` imports this module while it is being built, so names from it are
#: looked up when a command runs, not at import.
out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def fail(message: str, code: int = 2) -> NoReturn:
    from bonafides.commands.common import fail as cli_fail

    cli_fail(message, code)


def _settings(db: str | None) -> Settings:
    from bonafides.commands.common import settings_for as cli_settings

    return cli_settings(db)


def _operator() -> str:
    from bonafides.commands.common import operator as cli_operator

    return cli_operator()


def _date_option(value: str | None, name: str) -> dt.date:
    from bonafides.commands.common import date_option as cli_date

    return cli_date(value, name)


lists_app = typer.Typer(help="Red and black lists: entries, recomputation.", no_args_is_help=True)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Day the question is asked for (YYYY-MM-DD).")
]
Inquirer = Annotated[
    str | None,
    typer.Option("--inquirer", help="Department asking (a catalogue department code)."),
]
Purpose = Annotated[
    str, typer.Option("--purpose", help="Why the check is made; stored with the certificate.")
]


class InFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    XLSX = "xlsx"
    PARQUET = "parquet"


def _department(code: str | None) -> str | None:
    from bonafides.catalogue import load_catalogue

    if code is not None and not any(d.code == code for d in load_catalogue().departments):
        fail(f"unknown department {code!r}: use a code from `bonafides catalogue`")
    return code


def _actor(department: str | None) -> str:
    return f"{_operator()}@{department}" if department else _operator()


def screen(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines, XLSX or Parquet file of codes.")],
    action: Annotated[
        str, typer.Option("--action", help="Action screened for, e.g. procurement.bid.")
    ],
    as_of: AsOf = None,
    purpose: Purpose = "screening",
    inquirer: Inquirer = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write per-line results to .csv or .jsonl.")
    ] = None,
    column: Annotated[
        str | None, typer.Option("--column", help="Column holding the codes (default: guessed).")
    ] = None,
    fmt: Annotated[
        InFormat | None, typer.Option("--format", help="Input format, if the name does not say.")
    ] = None,
    engine: Engine = "sql",
    snapshot: Snapshot = None,
    db: DbOption = None,
) -> None:
    """Screen every code of a file for one action; every line gets an answer and a certificate."""
    from bonafides.app.screening import screen_file
    from bonafides.context import Context
    from bonafides.ingest.readers import UnusableInputError
    from bonafides.progress import watch
    from bonafides.screening.batch import EntriesNotCurrentError, results_text
    from bonafides.screening.service import UnknownActionError

    day = _date_option(as_of, "--as-of") if as_of else None
    department = _department(inquirer)
    check_engine(engine)
    ctx = Context(_settings(db))
    try:
        with watch(err, f"screen {file.name}", unit="lines") as progress:
            report = screen_file(
                ctx,
                file,
                action=action,
                as_of=day,
                inquirer=_actor(department),
                purpose=purpose,
                department=department,
                out=out_path,
                column=column,
                fmt=fmt.value if fmt else None,
                progress=progress,
                engine=engine,
                snapshot_dir=snapshot,
            )
    except (UnusableInputError, UnknownActionError, EntriesNotCurrentError) as exc:
        fail(str(exc))
    finally:
        ctx.close()
    for line, reason in report.invalid[:20]:
        err.print(f"line {line}: {reason}", markup=False, highlight=False)
    if len(report.invalid) > 20:
        more = len(report.invalid) - 20
        where = "in the results file" if report.out is not None else "with --out"
        err.print(f"… and {more:,} more invalid lines; every line is {where}")
    out.print(results_text(report), markup=False, highlight=False)
    raise typer.Exit(report.exit_code)


def check(
    code: Annotated[str, typer.Argument(help="USCC or resident ID number.")],
    action: Annotated[str, typer.Option("--action", help="Action checked for.")],
    as_of: AsOf = None,
    purpose: Purpose = "check",
    inquirer: Inquirer = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
    db: DbOption = None,
) -> None:
    """Check one subject for one action; prints the answer and its certificate id."""
    from bonafides.app.screening import check as run_check
    from bonafides.context import Context
    from bonafides.screening.service import InvalidCodeError, UnknownActionError

    day = _date_option(as_of, "--as-of") if as_of else None
    department = _department(inquirer)
    ctx = Context(_settings(db))
    try:
        result = run_check(
            ctx,
            code,
            action,
            as_of=day,
            inquirer=_actor(department),
            purpose=purpose,
            department=department,
        )
    except (InvalidCodeError, UnknownActionError) as exc:
        fail(str(exc))
    finally:
        ctx.close()
    if fmt is OutputFormat.JSON:
        document = {"certificate": result.cert_id, "digest": result.digest, **result.answer}
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(f"certificate {result.cert_id}  (sha256 {result.digest[:16]}…)")
    _print_answer(result.answer)


def _print_answer(answer: dict[str, Any]) -> None:
    if "counts" in answer:
        counts = ", ".join(f"{n:,} {status}" for status, n in answer["counts"].items())
        out.print(
            f"batch of {answer['lines']:,} lines from {answer['file']} for {answer['action']} "
            f"as of {answer['as_of']}: {counts}",
            markup=False,
            highlight=False,
        )
        return
    head = f"{answer.get('code')}: {answer['status']}"
    if "action" in answer:
        head += f" for {answer['action']} as of {answer['as_of']}"
    if answer.get("name"):
        head += f" — {answer['name']}"
    out.print(head, markup=False, highlight=False)
    if answer.get("reason"):
        out.print(f"  {answer['reason']}", markup=False, highlight=False)
    measures = answer.get("measures") or []
    if not measures:
        return
    table = Table("measure", "effect", "until", "department", "list entry", "records", "basis")
    for measure in measures:
        for entry in measure["entries"]:
            table.add_row(
                f"{measure['measure']}\n{measure['title_zh']}",
                measure["effect"],
                measure["until"],
                measure["department"],
                f"{entry['rule']}\n{entry['valid_from']} – {entry['valid_until']}",
                "\n".join(str(r.get("decision_no", r["id"])) for r in entry["records"]),
                "\n".join(measure["legal_basis"]),
            )
    out.print(table)


def verify(
    cert_id: Annotated[
        str,
        typer.Argument(
            help="Certificate id (ID, or ID.LINE for a batch line), report id, or a PDF file."
        ),
    ],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
    db: DbOption = None,
) -> None:
    """Verify a check certificate, a credit report id, or a report or certificate PDF.

    A certificate shows what it answered and whether the same question gets that answer
    now; a report (or any signed PDF) is checked as ``verify-report`` does. An id that
    begins with a dash (issued before such ids were drawn again) goes after ``--``.
    """
    from pathlib import Path

    from sqlalchemy import select

    from bonafides.app.screening import verify as run_verify
    from bonafides.commands.reports import verify_report
    from bonafides.context import Context
    from bonafides.screening.common import UnknownCertificateError
    from bonafides.store.tables import IssuedReport

    if Path(cert_id).suffix.lower() == ".pdf" or Path(cert_id).is_file():
        verify_report(cert_id, code=None, db=db)
        return
    ctx = Context(_settings(db))
    try:
        result = run_verify(ctx, cert_id, actor=_operator())
    except UnknownCertificateError:
        result = None
        with ctx.sessions() as session:
            is_report = (
                session.scalar(select(IssuedReport.id).where(IssuedReport.report_id == cert_id))
                is not None
            )
    finally:
        ctx.close()
    if result is None:
        if not is_report:
            fail(f"no check certificate or credit report {cert_id!r} in this store")
        verify_report(cert_id, code=None, db=db)
        return
    if fmt is OutputFormat.JSON:
        document = {
            "certificate": result.cert_id,
            "kind": result.kind,
            "issued_at": result.created_at.isoformat(),
            "inquirer": result.inquirer,
            "department": result.department,
            "purpose": result.purpose,
            "evaluator": result.evaluator,
            "rules_version": result.rules_version,
            "digest": result.digest,
            "intact": result.intact,
            "same_now": result.same_now,
            "answer": result.answer,
            "answer_now": result.answer_now,
            "answer_today": result.answer_today,
            "changed_lines": list(result.changed_lines),
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(
        f"certificate {result.cert_id} ({result.kind}), issued {result.created_at:%Y-%m-%d %H:%M} "
        f"UTC to {result.inquirer} for {result.purpose!r}; evaluator {result.evaluator}, "
        f"rules {result.rules_version}",
        markup=False,
        highlight=False,
    )
    out.print(
        "stored answer intact (digest matches)"
        if result.intact
        else "STORED ANSWER DOES NOT MATCH ITS DIGEST"
    )
    out.print("answered then:")
    _print_answer(result.answer)
    if result.same_now:
        out.print(f"the same question (as of {result.as_of}) gets the same answer now")
    else:
        out.print(f"the same question (as of {result.as_of}) is answered differently now:")
        if result.changed_lines:
            shown = ", ".join(str(n) for n in result.changed_lines[:20])
            out.print(f"  {len(result.changed_lines):,} lines changed: {shown}")
        else:
            _print_answer(result.answer_now)
    if result.answer_today is not None and result.answer_today != result.answer_now:
        out.print("as of today:")
        _print_answer(result.answer_today)


def grades(
    code: Annotated[str, typer.Argument(help="USCC of an organisation.")],
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """An organisation's per-field grades, each with the rule line that decided it."""
    from bonafides.app.rules import read_grades
    from bonafides.codes import CodeError, parse_subject_code
    from bonafides.commands.common import unit_of_work
    from bonafides.records import SubjectKind
    from bonafides.rules.evaluate import explain_grade
    from bonafides.rules.loader import rules_for
    from bonafides.workflows.common import NotFoundError

    try:
        parse_subject_code(code)
    except CodeError as exc:
        fail(f"invalid code {code!r}: {exc.reason}")
    day = _date_option(as_of, "--as-of")
    try:
        with unit_of_work(db) as (ctx, unit):
            rules = rules_for(ctx.catalogue)
            found = read_grades(unit, ctx, rules, code=code, as_of=day, actor=_operator())
    except NotFoundError as exc:
        fail(str(exc))
    facts, results = found.facts, found.results
    if facts is not None and facts.kind == SubjectKind.NATURAL_PERSON:
        out.print("natural persons are never graded (DESIGN principle 7)")
        return
    table = Table("field", "grade", "rule line", "records", title=f"grades as of {day}")
    for result in results:
        scheme = rules.grades[result.scheme]
        table.add_row(
            f"{scheme.field} ({scheme.title_zh})",
            result.grade,
            explain_grade(scheme, result),
            ", ".join(str(i) for i in result.record_ids),
        )
    ungraded = [s.code for s in rules.grades.values() if s.code not in {r.scheme for r in results}]
    if results:
        out.print(table)
    if ungraded:
        out.print(f"no grade in {', '.join(ungraded)}: no rule line decides on this file")


@lists_app.command("recompute")
def lists_recompute(
    as_of: AsOf = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Evaluate every subject, not only those with records changed since the last run.",
        ),
    ] = False,
    engine: Engine = "sql",
    snapshot: Snapshot = None,
    db: DbOption = None,
) -> None:
    """Recompute every list for every subject in SQL, and the grades as of a day."""
    from bonafides.app.rules import STEPS, recompute
    from bonafides.commands.common import unit_of_work
    from bonafides.progress import watch
    from bonafides.rules.loader import rules_for

    day = _date_option(as_of, "--as-of")
    check_engine(engine)
    with (
        unit_of_work(db) as (ctx, unit),
        watch(err, "lists recompute", unit="steps") as progress,
    ):
        result, graded = recompute(
            unit,
            ctx,
            rules_for(ctx.catalogue),
            as_of=day,
            full=full,
            actor=_operator(),
            progress=progress,
            engine=engine,
            snapshot_dir=snapshot,
        )
        progress(STEPS, STEPS)
    out.print(
        f"lists: {result.entries:,} entries ({result.added:,} new, {result.superseded:,} "
        f"superseded) in {result.seconds:.1f} s; grades as of {day}: {graded.grades:,} "
        f"in {graded.seconds:.1f} s"
    )


@lists_app.command("show")
def lists_show(
    code: Annotated[str | None, typer.Argument(help="List code; omit for all lists.")] = None,
    as_of: AsOf = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Entries to show.")] = 50,
    db: DbOption = None,
) -> None:
    """A list's definition and its entries in force on a day (all lists without CODE)."""
    from bonafides.app.rules import show_lists
    from bonafides.commands.common import unit_of_work
    from bonafides.rules.loader import rules_for

    day = _date_option(as_of, "--as-of")
    with unit_of_work(db) as (ctx, unit):
        rules = rules_for(ctx.catalogue)
        if code is not None and code not in rules.lists:
            fail(f"unknown list {code!r}: one of {', '.join(rules.lists)}")
        view = show_lists(unit, rules, code=code, as_of=day, limit=limit, actor=_operator())
    if not view.current:
        err.print(
            "note: entries were not recomputed with the current rules in full; "
            "run `bonafides lists recompute`"
        )
    if code is None:
        table = Table("list", "kind", "title", "owner", f"in force {day}", "lines")
        for rule in rules.lists.values():
            table.add_row(
                rule.code,
                rule.kind.value,
                rule.title_zh,
                rule.owner,
                f"{view.in_force.get(rule.code, 0):,}",
                str(len(rule.entry)),
            )
        out.print(table)
        return
    rule = rules.lists[code]
    out.print(f"{rule.code} — {rule.title_zh} / {rule.title_en} ({rule.kind.value})")
    out.print(f"owner {rule.owner}; legal basis: {'；'.join(rule.legal_basis)}")
    for number, line in enumerate(rule.entry, 1):
        out.print(f"  {rule.rule_ref(number)}: {line.explain}; {line.term.describe()}")
    table = Table("subject", "from", "until", "why it ends then", "records", "rule")
    for row in view.rows:
        table.add_row(
            view.names.get(row.subject_id, str(row.subject_id)),
            row.valid_from.isoformat(),
            row.valid_until.isoformat(),
            row.until_basis,
            row.record_ids,
            f"{code}#{row.line}",
        )
    out.print(table)
    out.print(f"{view.in_force.get(code, 0):,} entries in force on {day}")


def register(app: typer.Typer) -> None:
    app.command()(screen)
    app.command()(check)
    app.command()(verify)
    app.command()(grades)
    app.add_typer(lists_app, name="lists")
