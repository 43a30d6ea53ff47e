"""``bonafides report``, ``verify-report`` and ``report-keys``: credit reports from the shell.

Each command parses, calls ``bonafides.reports.service`` (as the API does) and prints.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ViewOption(StrEnum):
    PUBLIC = "public"
    FULL = "full"


class AudienceOption(StrEnum):
    SUBJECT = "subject"
    AUTHORITY = "authority"
    RESTRICTED = "restricted"


class LangOption(StrEnum):
    ZH = "zh"
    EN = "en"


#: How ``verify-report`` names what it checked (``Verification.checks``).
_STEP_LABELS = {
    "pdf_signature": "PDF signature",
    "registry_digest": "registry digest",
    "data_signature": "data signature",
    "issued_here": "issued here",
    "code": "verification code",
    "data_unchanged": "data unchanged since issue",
}

#: The formats ``--out`` can name, by suffix.
_SUFFIXES = (".pdf", ".html")


def _day(value: str | None, name: str) -> dt.date | None:
    from bonafides.commands.common import fail

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name} must be a date like 2026-01-31, not {value!r}")


def _write(path: Path, data: bytes) -> None:
    """Through a temporary file, so a failed render never leaves half a report behind."""
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(path)


def report(
    code: Annotated[str, typer.Argument(help="USCC or resident ID number of the subject.")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the report: a .pdf or .html file.")
    ],
    view: Annotated[
        ViewOption, typer.Option(help="public: what the law makes public; full: the whole file.")
    ] = ViewOption.PUBLIC,
    audience: Annotated[
        AudienceOption,
        typer.Option(help="Who a full report is for (ignored for the public view)."),
    ] = AudienceOption.SUBJECT,
    lang: Annotated[LangOption, typer.Option(help="Language of the page.")] = LangOption.ZH,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day of the period (YYYY-MM-DD); default today.")
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(help="Credit fields, comma-separated (e.g. tax,courts); default all."),
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="Why the report is issued; kept in the audit chain.")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
    ] = None,
) -> None:
    """Issue a signed credit report for a subject and write it as PDF or HTML."""
    from bonafides.app.reports import issue_pdf, issue_report
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import operator as _operator
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.disclosure import Audience
    from bonafides.reports.model import (
        ReportRequest,
        ReportRequestError,
        SubjectNotFoundError,
        View,
    )
    from bonafides.reports.render import render_html
    from bonafides.security.signing import KeyStoreError

    suffix = out_file.suffix.lower()
    if suffix not in _SUFFIXES:
        fail(f"--out must end in .pdf or .html, not {out_file.name!r}")
    if not out_file.parent.is_dir():
        fail(f"no such directory: {out_file.parent}")
    chosen_view = View(view.value)
    request = ReportRequest(
        code=code,
        view=chosen_view,
        audience=Audience(audience.value) if chosen_view is View.FULL else None,
        period_from=_day(date_from, "--from"),
        period_to=_day(date_to, "--to"),
        fields=[f for f in (fields or "").split(",") if f.strip()],
        purpose=purpose,
    )
    ctx = Context(_settings(db))
    try:
        signed = issue_report(ctx, request, actor=_operator())
        if suffix == ".pdf":
            _write(out_file, issue_pdf(ctx, signed, lang.value))
        else:
            _write(out_file, render_html(signed, lang.value).encode())
    except (ReportRequestError, SubjectNotFoundError, KeyStoreError) as exc:
        fail(str(exc))
    finally:
        ctx.close()
    doc = signed.document
    out.print(f"report {doc['number']} ({doc['view']}) written to {out_file}")
    out.print(f"id {doc['id']}  verification code {signed.printed_code}")
    out.print(f"verify at {doc['verify_url']}")


def verify_report(
    target: Annotated[
        str, typer.Argument(help="A report id, or the path of a report PDF to check.")
    ],
    code: Annotated[
        str | None,
        typer.Option(help="The verification code printed on a paper copy, to check it too."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
    ] = None,
) -> None:
    """Check a report: its PDF signature and registered digest (for a file), its signed
    data, and whether the subject's data changed since issue.

    A check certificate's PDF (from ``bonafides certificate``) is checked the same way.
    Exit 0 when it is authentic (even if the data changed since: that is said), 1 when
    it is not, 2 when the input cannot be read (no such file, or no report in it).
    """
    from bonafides.app.reports import verify_pdf, verify_report
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import operator as _operator
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.reports.envelope import EnvelopeError
    from bonafides.reports.service import ReportNotFoundError, Verification
    from bonafides.security.signing import KeyStoreError

    path = Path(target)
    data: bytes | None = None
    if path.suffix.lower() == ".pdf" or path.is_file():
        if not path.is_file():
            fail(f"no such file: {target}")
        data = path.read_bytes()
    ctx = Context(_settings(db))
    result: Verification
    try:
        if data is not None:
            result = verify_pdf(ctx, data, code=code, actor=_operator())
        else:
            result = verify_report(ctx, report_id=target, code=code, actor=_operator())
    except EnvelopeError as exc:
        fail(f"{target}: {exc}")
    except ReportNotFoundError as exc:
        fail(str(exc.args[0]), code=1)
    except KeyStoreError as exc:
        fail(str(exc))
    finally:
        ctx.close()
    what = "certificate" if result.view == "check" else f"report {result.number or '?'}"
    out.print(f"{what} ({result.view or '?'}), id {result.report_id}")
    out.print(f"subject {result.subject_code or '?'}, issued {result.issued_at or '?'}")
    verdict = "valid" if result.signature_valid else "INVALID"
    out.print(f"signature: {verdict} (key {result.key_id})")
    if result.verification_code:
        out.print(f"verification code {result.verification_code}")
    if result.code_matches is not None:
        out.print(f"code given: {'matches' if result.code_matches else 'DOES NOT MATCH'}")
    out.print("checked:")
    for step in result.checks:
        verdict = "passed" if step.passed else ("FAILED" if step.required else "no")
        out.print(f"  {_STEP_LABELS.get(step.name, step.name)}: {verdict} — {step.detail}")
    if not result.authentic:
        fail(f"not authentic: {result.problem}", code=1)
    out.print("authentic: issued by this platform and unaltered")
    if result.expired:
        out.print(f"expired: valid until {result.valid_until}")
    if result.changed_since_issue:
        out.print("the subject's data has CHANGED since issue: ask for a new report")
    else:
        out.print("the subject's data is unchanged since issue")


def certificate(
    cert_id: Annotated[
        str,
        typer.Argument(help="Certificate id of a single check, or ID.LINE for a batch line."),
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write it: a .pdf or .html file.")
    ],
    lang: Annotated[LangOption, typer.Option(help="Language of the page.")] = LangOption.ZH,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL; default BONAFIDES_DB or sqlite:///bonafides.db."),
    ] = None,
) -> None:
    """Write a screening check certificate as a signed PDF or HTML page."""
    from bonafides.app.reports import issue_pdf
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import settings_for as _settings
    from bonafides.context import Context
    from bonafides.reports.certificates import CertificateError, sign_certificate
    from bonafides.reports.render import render_html
    from bonafides.reports.service import key_store
    from bonafides.security.signing import KeyStoreError

    suffix = out_file.suffix.lower()
    if suffix not in _SUFFIXES:
        fail(f"--out must end in .pdf or .html, not {out_file.name!r}")
    if not out_file.parent.is_dir():
        fail(f"no such directory: {out_file.parent}")
    ctx = Context(_settings(db))
    try:
        signed = sign_certificate(ctx, cert_id, key_store(ctx))
        if suffix == ".pdf":
            _write(out_file, issue_pdf(ctx, signed, lang.value))
        else:
            _write(out_file, render_html(signed, lang.value).encode())
    except (CertificateError, KeyStoreError) as exc:
        fail(str(exc.args[0]))
    finally:
        ctx.close()
    out.print(f"certificate {cert_id} written to {out_file}")
    out.print(f"verification code {signed.printed_code}; verify at {signed.document['verify_url']}")


def report_keys() -> None:
    """Create the report signing key if there is none, and print the published keys.

    The keys live under BONAFIDES_DATA_DIR/keys; run this once after ``bonafides init``.
    """
    from bonafides.commands.common import fail, out
    from bonafides.commands.common import settings_for as _settings
    from bonafides.security.signing import KeyStoreError, file_key_store, keys_dir

    settings = _settings(None)
    store = file_key_store(keys_dir(settings.data_dir).resolve())
    try:
        keys = store.public_keys()
    except KeyStoreError as exc:
        fail(str(exc))
    for key in keys:
        out.print(f"{key.key_id}  Ed25519  {'current' if key.current else 'retired'}")
    out.print(f"private key: {store.private_path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("verify-report")(verify_report)
    app.command("report-keys")(report_keys)
    app.command("certificate")(certificate)
