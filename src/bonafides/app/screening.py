"""Screening as use cases: check one subject, screen a file, verify a certificate.

Who may screen for an action is decided here once (an operator, or an inquirer for an
action its department performs), for the API and the CLI alike; the screening service
answers, stores and audits in the session it is given, and the use case commits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bonafides.app.unit import UnitOfWork
from bonafides.context import Context
from bonafides.errors import Forbidden
from bonafides.rules.loader import rules_for
from bonafides.rules.model import Rules
from bonafides.screening import batch, service
from bonafides.screening.batch import AnswerFile, ScreenReport
from bonafides.screening.service import (
    CheckResult,
    UnknownActionError,
    UnknownCertificateError,
    Verification,
)
from bonafides.security.roles import Principal, Role, may_screen
from bonafides.store.tables import Check


def authorise(ctx: Context, principal: Principal, action: str) -> None:
    """Refuses an unknown action, then a principal whose department does not perform it."""
    rules = rules_for(ctx.catalogue)
    if action not in rules.actions:
        raise UnknownActionError(f"unknown action {action!r}: see GET /api/v1/actions")
    if not may_screen(principal, action, rules, ctx.catalogue):
        raise Forbidden(f"this account may not screen for {action!r}")


def check(
    ctx: Context,
    code: str,
    action: str,
    *,
    as_of: dt.date | None = None,
    inquirer: str,
    purpose: str,
    department: str | None = None,
    rules: Rules | None = None,
) -> CheckResult:
    """Answer, store, audit and certify one check, committed once."""
    with UnitOfWork(ctx.sessions) as unit:
        result = service.check(
            unit.session,
            ctx,
            code,
            action,
            as_of=as_of,
            inquirer=inquirer,
            purpose=purpose,
            department=department,
            rules=rules,
        )
        unit.commit()
    return result


def check_for(
    ctx: Context,
    principal: Principal,
    code: str,
    action: str,
    *,
    as_of: dt.date | None,
    purpose: str,
) -> CheckResult:
    """One check asked by ``principal``, who must be allowed to screen for ``action``."""
    authorise(ctx, principal, action)
    return check(
        ctx,
        code,
        action,
        as_of=as_of,
        inquirer=principal.actor,
        purpose=purpose,
        department=principal.department,
    )


def screen_file(
    ctx: Context,
    path: Path,
    *,
    engine: str = "sql",
    snapshot_dir: Path | None = None,
    **options: Any,
) -> ScreenReport:
    """Screen every code of a file for one action (the options of
    ``screening.batch.screen_file``): the answers are committed in one unit of work, and
    only then is the answer file (``out``) put in place.

    ``engine`` "spark" finds the lines' subjects and entries on Spark
    (``spark.screening``; a ``snapshot_dir`` keeps the Parquet snapshot it reads), the
    answers being made and stored as the store's own engine makes them."""
    if engine == "spark":
        from bonafides.spark.session import job_session

        spark = job_session(ctx.settings.spark_driver_memory)
        from bonafides.spark.screening import lookup

        options["lookup"] = lookup(spark, ctx.settings.db, snapshot_dir=snapshot_dir)
    elif engine != "sql":
        raise ValueError(f"unknown engine {engine!r}: sql or spark")
    answers: AnswerFile | None = None
    try:
        with UnitOfWork(ctx.sessions) as unit:
            report, answers = batch.screen_file(unit.session, ctx, path, **options)
            unit.commit()
    except BaseException:
        if answers is not None:
            answers.abort()
        raise
    if answers is not None:
        answers.commit()
    return report


def screen_for(ctx: Context, principal: Principal, path: Path, **options: Any) -> ScreenReport:
    """A file of codes screened for ``principal``, who must be allowed to screen for the
    action."""
    authorise(ctx, principal, str(options["action"]))
    return screen_file(
        ctx, path, inquirer=principal.actor, department=principal.department, **options
    )


def stored_digest(ctx: Context, cert_id: str) -> str | None:
    """The digest stored under a batch's certificate id."""
    with ctx.sessions() as session:
        return session.scalar(select(Check.digest).where(Check.cert_id == cert_id))


def verify(ctx: Context, cert_id: str, *, actor: str, rules: Rules | None = None) -> Verification:
    """Re-ask a stored check (``ID`` or ``ID.LINE``); the verification is audited."""
    with UnitOfWork(ctx.sessions) as unit:
        result = service.verify(unit.session, ctx, cert_id, actor=actor, rules=rules)
        unit.commit()
    return result


def verify_for(ctx: Context, principal: Principal, cert_id: str) -> Verification:
    """A certificate verified by an operator or the department that asked for it; to
    anyone else it does not exist."""
    with ctx.sessions() as session:
        department = session.execute(
            select(Check.department).where(Check.cert_id == cert_id.partition(".")[0])
        ).first()
    if department is None or (
        principal.role is not Role.OPERATOR and department[0] != principal.department
    ):
        raise UnknownCertificateError("no such certificate")
    try:
        return verify(ctx, cert_id, actor=principal.actor)
    except UnknownCertificateError as exc:
        raise UnknownCertificateError("no such certificate") from exc
