"""Checks over HTTP: one subject or a file of codes screened for an action, and verification.

Only an operator, or an inquirer for an action its department performs (``may_screen``),
may screen; every answer is stored and audited by ``bonafides.screening`` under a
certificate id, as the CLI's are. A certificate is verified by operators and by the
department that asked for it; to anyone else it does not exist.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, File, Form, HTTPException, Path, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from bonafides.app import screening
from bonafides.app.submit import safe_file_name
from bonafides.context import Context
from bonafides.http.auth import require
from bonafides.http.deps import ContextDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.ingest.readers import UnusableInputError
from bonafides.security.roles import Principal, Role

router = Routes(tags=["checks"])

Screener = Annotated[Principal, Depends(require(Role.OPERATOR, Role.INQUIRER))]
CertId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_-]{24}(?:\.[0-9]{1,9})?$",
        description="A certificate id, or ID.LINE for one line of a batch.",
        examples=["Jq3v0lXbq2m1Zr8CkP5o9TtU"],
    ),
]
_ACTION = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$", examples=["procurement.bid"])


class CheckIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, description="USCC or resident ID number.")
    action: str = _ACTION
    as_of: dt.date | None = Field(default=None, description="The day asked about; default today.")
    purpose: str = Field(min_length=1, max_length=300, description="Why; kept with the answer.")


class CheckOut(BaseModel):
    certificate: str
    digest: str = Field(description="sha256 of the answer's canonical JSON.")
    answer: dict[str, Any] = Field(
        description="status (measures_apply, clear, unknown) and the measures that apply, "
        "each with its legal basis and the list entries behind it."
    )


class BatchOut(BaseModel):
    certificate: str
    digest: str
    action: str
    as_of: dt.date
    file: str
    counts: dict[str, int]
    lines: list[dict[str, Any]] = Field(description="One answer per line, certificate ID.LINE.")


class VerificationOut(BaseModel):
    certificate: str
    kind: str
    issued_at: dt.datetime
    inquirer: str
    department: str | None
    purpose: str
    action: str
    as_of: dt.date
    evaluator: str
    rules_version: str
    digest: str
    intact: bool = Field(description="The stored answer still matches its digest.")
    same_now: bool = Field(description="The same question, same day, is answered the same now.")
    answer: dict[str, Any]
    answer_now: dict[str, Any]
    answer_today: dict[str, Any] | None
    changed_lines: list[int]


@router.post("/checks", response_model=CheckOut, status_code=201, responses=errors(401, 403, 422))
def single_check(body: CheckIn, ctx: ContextDep, principal: Screener) -> CheckOut:
    """Check one subject for one action; the answer is stored under a certificate id."""
    result = screening.check_for(
        ctx, principal, body.code, body.action, as_of=body.as_of, purpose=body.purpose
    )
    return CheckOut(certificate=result.cert_id, digest=result.digest, answer=result.answer)


def _screen_upload(
    ctx: Context, principal: Principal, upload: UploadFile, **options: Any
) -> BatchOut:
    with tempfile.TemporaryDirectory(prefix="bonafides-screen-") as tmp:
        path = FilePath(tmp) / safe_file_name(upload.filename, "codes.csv")
        with path.open("wb") as handle:
            while block := upload.file.read(1 << 20):
                handle.write(block)
        out = FilePath(tmp) / "results.jsonl"
        report = screening.screen_for(ctx, principal, path, out=out, **options)
        with out.open(encoding="utf-8") as handle:
            lines = [json.loads(text) for text in handle]
    return BatchOut(
        certificate=report.cert_id,
        digest=screening.stored_digest(ctx, report.cert_id) or "",
        action=report.action,
        as_of=report.as_of,
        file=report.file,
        counts=report.counts,
        lines=lines,
    )


@router.post(
    "/checks/batch",
    response_model=BatchOut,
    status_code=201,
    responses=errors(401, 403, 413, 422),
)
async def batch_check(
    ctx: ContextDep,
    principal: Screener,
    action: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")],
    purpose: Annotated[str, Form(min_length=1, max_length=300)],
    file: Annotated[UploadFile, File(description="CSV, JSON Lines, XLSX or Parquet of codes.")],
    as_of: Annotated[dt.date | None, Form(description="The day asked about.")] = None,
    column: Annotated[
        str | None, Form(max_length=100, description="The column of codes; guessed if absent.")
    ] = None,
) -> BatchOut:
    """Screen every code of a file for one action: one certificate, an answer per line."""
    screening.authorise(ctx, principal, action)
    try:
        return await run_in_threadpool(
            _screen_upload,
            ctx,
            principal,
            file,
            action=action,
            purpose=purpose,
            as_of=as_of,
            column=column or None,
        )
    except UnusableInputError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/checks/{cert_id}", response_model=VerificationOut, responses=errors(401, 403, 404))
def verify_check(cert_id: CertId, ctx: ContextDep, principal: Screener) -> VerificationOut:
    """What a certificate answered, whether it is intact, and whether it would differ now."""
    result = screening.verify_for(ctx, principal, cert_id)
    return VerificationOut(
        certificate=result.cert_id,
        kind=result.kind,
        issued_at=result.created_at,
        inquirer=result.inquirer,
        department=result.department,
        purpose=result.purpose,
        action=result.action,
        as_of=result.as_of,
        evaluator=result.evaluator,
        rules_version=result.rules_version,
        digest=result.digest,
        intact=result.intact,
        same_now=result.same_now,
        answer=result.answer,
        answer_now=result.answer_now,
        answer_today=result.answer_today,
        changed_lines=list(result.changed_lines),
    )
