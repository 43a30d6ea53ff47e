"""The ``bonafides`` command. Each command parses, calls a service, and prints.

Exit codes (DESIGN §6): 0 done; 1 done with rejected input; 2 unusable input or
arguments, with one clear line and nothing written.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer._click.core import Context as ClickContext
from typer.core import TyperGroup

from bonafides.commands.common import DbOption, OutputFormat, err, fail, out
from bonafides.commands.common import date_option as _date_option
from bonafides.commands.common import operator as _operator
from bonafides.commands.common import settings_for as _settings
from bonafides.commands.engines import Engine, Snapshot, check_engine
from bonafides.errors import EXIT_REFUSED, BonafidesError
from bonafides.settings import Settings, get_settings


class _Commands(TyperGroup):
    """The command group that answers every refusal a use case raises the one CLI way:
    ``error: <message>`` on stderr and exit code 2, nothing written."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except BonafidesError as exc:
            sys.stderr.write(f"error: {exc}\n")
            raise typer.Exit(EXIT_REFUSED) from exc


app = typer.Typer(
    cls=_Commands,
    name="bonafides",
    help="Public credit information platform: records, lists, screening, reports, due process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
stats_app = typer.Typer(help="Operator statistics.", no_args_is_help=True)
app.add_typer(stats_app, name="stats")


@app.command()
def init(
    db: DbOption = None,
    demo: Annotated[
        int, typer.Option("--demo", min=0, help="Also load N synthetic subjects with records.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 1,
) -> None:
    """Create or upgrade the store and load the catalogue and departments."""
    from bonafides.app.bootstrap import initialise
    from bonafides.progress import watch

    settings = _settings(db)
    with watch(err, "demo data", unit="subjects") as progress:
        summary = initialise(settings, demo_subjects=demo, seed=seed, progress=progress)
    out.print(summary)
    _warn_about_the_calendar(settings)


def _warn_about_the_calendar(settings: Settings) -> None:
    """Tell the operator before a subject meets it: deadlines need next year's holidays."""
    from bonafides.security.clock import SystemClock, office_day
    from bonafides.workdays import CalendarFileError, coverage_warning, load_calendar

    try:
        calendar = load_calendar(settings.holidays)
    except CalendarFileError as exc:
        fail(str(exc))
    warning = coverage_warning(calendar, office_day(SystemClock(), settings.timezone))
    if warning:
        err.print(f"warning: {warning}", markup=False, highlight=False)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="Comma-separated addresses of trusted reverse proxies whose X-Forwarded-For "
            "names the client; default BONAFIDES_FORWARDED_ALLOW_IPS, else 127.0.0.1.",
        ),
    ] = None,
) -> None:
    """Serve the portal and the API (API under /api/v1)."""
    import os

    from bonafides.api.server import run
    from bonafides.settings import InsecureSettingsError

    settings = _settings(db)
    try:
        settings.check()
    except InsecureSettingsError as exc:
        fail(str(exc))
    _warn_about_the_calendar(settings)
    os.environ["BONAFIDES_DB"] = settings.db
    # The workers build their settings from the environment: the proxies go with it.
    if forwarded_allow_ips:
        os.environ["BONAFIDES_FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    get_settings.cache_clear()
    run(host, port, workers=workers)


@app.command()
def subject(
    code: Annotated[str, typer.Argument(help="USCC or resident ID number.")],
    db: DbOption = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date to judge publication by (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Print a subject's whole file: names, kind, region, records by field."""
    from bonafides.app.records import operator_file
    from bonafides.codes import CodeError, parse_subject_code
    from bonafides.context import Context
    from bonafides.views import profile_json, profile_tables

    try:
        parse_subject_code(code)
    except CodeError as exc:
        fail(f"invalid code {code!r}: {exc.reason}")
    today = _date_option(as_of, "--as-of")
    ctx = Context(_settings(db))
    try:
        profile = operator_file(ctx, code, actor=_operator(), today=today)
    finally:
        ctx.close()
    if fmt is OutputFormat.JSON:
        out.print_json(json.dumps(profile_json(profile), ensure_ascii=False))
        return
    for renderable in profile_tables(profile):
        out.print(renderable)


@app.command()
def catalogue(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
) -> None:
    """Print the record-type catalogue (the machine-readable document with --format json)."""
    from bonafides.catalogue import load_catalogue
    from bonafides.catalogue.render import catalogue_document, catalogue_table
    from bonafides.rules.loader import load_rules

    cat = load_catalogue()
    lists = load_rules(cat).lists_by_type
    if fmt is OutputFormat.JSON:
        document = catalogue_document(cat, lists)
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(catalogue_table(cat, lists))


class InputFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    XLSX = "xlsx"
    PARQUET = "parquet"


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines, XLSX or Parquet file.")],
    type_code: Annotated[
        str, typer.Option("--type", help="Record type code, e.g. market.penalty.")
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Submitting department code; if left out, each row's department is the one "
            "whose USCC is in its 数据来源单位统一社会信用代码 column.",
        ),
    ] = None,
    fmt: Annotated[
        InputFormat | None, typer.Option("--format", help="Format, if the file name does not say.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding (detected: UTF-8 or GB18030).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the full JSON report here.")
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows per committed chunk.")
    ] = 5_000,
    db: DbOption = None,
) -> None:
    """Validate a department's file and store its good rows; report the rest by row."""
    from bonafides.app.ingest import ingest_file
    from bonafides.context import Context
    from bonafides.ingest.readers import UnusableInputError
    from bonafides.progress import watch
    from bonafides.views import ingest_summary

    ctx = Context(_settings(db))
    try:
        with watch(err, f"ingest {file.name}") as progress:
            result = ingest_file(
                ctx,
                file,
                type_code=type_code,
                source=source,
                actor=f"{_operator()}@{source or 'data'}",
                fmt=fmt.value if fmt else None,
                encoding=encoding,
                chunk_rows=chunk_rows,
                progress=progress,
            )
    except UnusableInputError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    if report is not None:
        report.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    out.print(ingest_summary(result))
    raise typer.Exit(result.exit_code)


@app.command()
def revoke(
    source: Annotated[str, typer.Option(help="Department that made the decision.")],
    decision: Annotated[str, typer.Option(help="Decision number.")],
    reason: Annotated[str, typer.Option(help="Why the decision is revoked.")],
    subject: Annotated[
        str | None,
        typer.Option(help="The subject's code, where the decision names several subjects."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Revoke one record: a new version with status revoked; nothing is deleted."""
    from bonafides.app.records import revoke as revoke_record
    from bonafides.context import Context

    if not reason.strip():
        fail("a revocation needs a reason")
    ctx = Context(_settings(db))
    try:
        record = revoke_record(
            ctx, source=source, decision=decision, subject=subject, reason=reason, actor=_operator()
        )
        out.print(f"revoked record {record.id} ({source} {decision}), now version {record.version}")
    except LookupError as exc:
        fail(str(exc.args[0]))
    finally:
        ctx.close()


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    checkpoints: Annotated[
        list[str] | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint kept outside the platform: a JSON file, or a URL such as "
            "https://HOST/api/v1/audit/checkpoints (repeatable). The chain must extend it.",
        ),
    ] = None,
) -> None:
    """Check the whole audit chain and name the first broken event.

    Every event's hash, its subject links, every checkpoint the platform stored and every
    one given with --checkpoint: each must be signed by the platform's key and lie on the
    chain, so a chain cut short, emptied or rewritten fails.
    """
    from bonafides.context import Context
    from bonafides.progress import watch
    from bonafides.security import audit
    from bonafides.security.anchor import CheckpointError, load_checkpoints

    given = []
    try:
        for source in checkpoints or []:
            given.extend(load_checkpoints(source))
    except CheckpointError as exc:
        fail(str(exc))
    ctx = Context(_settings(db))
    try:
        with ctx.sessions() as session, watch(err, "audit verify", unit="events") as progress:
            report = audit.verify(session, given, progress=progress)
    finally:
        ctx.close()
    if not report.ok:
        fail(f"audit chain broken at event {report.first_broken}: {report.reason}", code=1)
    keyed = (
        "all keyed"
        if report.keyed_from <= 1
        else f"keyed from event {report.keyed_from}, plain SHA-256 before it"
    )
    line = f"audit chain intact: {report.checked} events ({keyed})"
    if report.checkpoints:
        line += (
            f"; extends {report.checkpoints} signed checkpoints, "
            f"the latest at event {report.anchored_at}"
        )
    else:
        line += "; no checkpoint to anchor it"
    out.print(line)


@audit_app.command("checkpoint")
def audit_checkpoint(db: DbOption = None) -> None:
    """Sign a checkpoint of the chain's head now and print it as JSON (to keep elsewhere).

    Appends write checkpoints on their own every BONAFIDES_AUDIT_CHECKPOINT_EVENTS events
    or BONAFIDES_AUDIT_CHECKPOINT_MINUTES minutes; this signs one at once, for a scheduler
    or before a backup. A head already checkpointed is printed, not signed again.
    """
    import json

    from bonafides.app.records import audit_checkpoint as sign_checkpoint
    from bonafides.context import Context

    ctx = Context(_settings(db))
    try:
        checkpoint = sign_checkpoint(ctx)
    except LookupError as exc:
        fail(str(exc.args[0]))
    finally:
        ctx.close()
    typer.echo(json.dumps(checkpoint.to_json(), indent=2))


@stats_app.command("delay")
def stats_delay(
    db: DbOption = None,
    type_codes: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only these record types (repeatable); default all."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only decisions from this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Publication delay per department in working days, against the publicity limit."""
    from bonafides.context import Context
    from bonafides.store.statistics import missing_years, publication_delay
    from bonafides.workdays import CalendarFileError, load_calendar

    settings = _settings(db)
    start = _date_option(since, "--since") if since else None
    ctx = Context(settings)
    try:
        with ctx.sessions() as session:
            rows = publication_delay(
                session,
                load_calendar(settings.holidays),
                limit_days=settings.publicity_working_days,
                type_codes=type_codes,
                since=start,
            )
    except CalendarFileError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    limit = settings.publicity_working_days
    table = Table(title=f"publication delay (limit {limit} working days)")
    columns = ("department", "records", f"within {limit}", "share", "median", "p90", "max")
    for column in (*columns, "uncounted"):
        table.add_column(column, justify="left" if column == "department" else "right")
    for row in rows:
        table.add_row(
            row.source,
            f"{row.records:,}",
            f"{row.within_limit:,}",
            f"{row.share_within:.1%}",
            str(row.median_days),
            str(row.p90_days),
            str(row.max_days),
            f"{row.uncounted:,}",
        )
    out.print(table)
    if years := missing_years(rows):
        named = ", ".join(str(y) for y in years)
        err.print(
            f"warning: delays into {named} are not counted: the working-day calendar does "
            f"not cover {named}; add the holiday arrangement to BONAFIDES_HOLIDAYS "
            "(docs/configuration.md)"
        )


@stats_app.command("figures")
def stats_figures(
    months: Annotated[
        int, typer.Option("--months", min=1, max=120, help="Months of decisions to count.")
    ] = 12,
    engine: Engine = "sql",
    snapshot: Snapshot = None,
    db: DbOption = None,
) -> None:
    """The public figures as of today: subjects, public records, and decisions per field
    and month by the disclosure rule that counts public figures (as the statistics page)."""
    from bonafides.app.statistics import public_figures
    from bonafides.context import Context

    check_engine(engine)
    ctx = Context(_settings(db))
    try:
        found = public_figures(ctx, months=months, engine=engine, snapshot_dir=snapshot)
    finally:
        ctx.close()
    out.print(
        f"as of {found.as_of}: {found.subjects:,} subjects, "
        f"{found.public_records:,} public records",
        markup=False,
        highlight=False,
    )
    table = Table("month", "field", "decisions", title="decisions per field and month")
    for field, month, count in found.by_field_month:
        table.add_row(month, field, f"{count:,}")
    out.print(table)


@stats_app.command("report")
def stats_report(
    period: Annotated[
        str, typer.Option(help="A year (2026), a quarter (2026-Q4) or a month (2026-11).")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="File to write: .pdf or .xlsx (one sheet per table).")
    ],
    lang: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    public: Annotated[
        bool,
        typer.Option(
            "--public", help="Count only what the disclosure rule counts in public figures."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """The periodic statistics report an office sends up, with tables and charts.

    Volumes by region and department, timeliness against the publicity limit, objection,
    repair and complaint deadlines met, and data quality per department. Figures stand as
    of the period's last day (today while it runs): the same period gives the same file.
    """
    from bonafides.app.statistics import periodic_report
    from bonafides.context import Context
    from bonafides.periods import PeriodError, parse_period
    from bonafides.reports.messages import LANGS
    from bonafides.workdays import CalendarFileError

    suffix = out_file.suffix.lower().lstrip(".")
    if suffix not in ("pdf", "xlsx"):
        fail(f"--out {out_file}: the file name must end in .pdf or .xlsx")
    if lang not in LANGS:
        fail(f"--lang {lang!r}: choose {' or '.join(LANGS)}")
    try:
        chosen = parse_period(period)
    except PeriodError as exc:
        fail(f"--period: {exc}")
    ctx = Context(_settings(db))
    try:
        content = periodic_report(
            ctx,
            chosen,
            fmt="pdf" if suffix == "pdf" else "xlsx",
            lang=lang,
            scope="counted" if public else "all",
        )
    except CalendarFileError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    out_file.write_bytes(content)
    err.print(f"{chosen.label} ({chosen.start} to {chosen.end}) written to {out_file}")


@app.command()
def synth(
    subjects: Annotated[int, typer.Option("--subjects", min=1, help="Number of subjects.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same files.")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet.")] = "csv",
) -> None:
    """Write deterministic synthetic subjects and records in the import format."""
    from bonafides.progress import watch
    from bonafides.synth.files import FORMATS, write_dataset

    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    with watch(err, "synthetic subjects", unit="subjects") as progress:
        summary = write_dataset(out_dir, subjects=subjects, seed=seed, fmt=fmt, progress=progress)
    table = Table("file", "rows", title=f"synthetic data in {out_dir}")
    for name, rows in summary.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)


def _register_areas() -> None:
    from bonafides.commands import register_all

    register_all(app)


_register_areas()
