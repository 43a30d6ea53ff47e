"""Record submission by departments: a JSON batch or a file, answered with the ingest report.

A department authenticates with its submission key (``Authorization: Bearer KEY``),
or an officer with an API key holding ``records:submit``, and submits as itself only.
Unusable input (an unknown type, a type the department is not a source of, a file that
cannot be read) is refused whole with 422 and nothing is written; otherwise the report
lists every rejected row and why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Header, HTTPException, Security, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bonafides.app.submit import (
    BatchIn,
    ReportOut,
    SubmissionKeyError,
    department_for_key,
    ingest_rows,
    ingest_upload,
    report_out,
)
from bonafides.http.auth import key_department
from bonafides.http.deps import ContextDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.ingest.readers import UnusableInputError
from bonafides.security.apikeys import looks_like_key

router = Routes(tags=["submissions"])

#: The department's submission key, as ``Authorization: Bearer KEY``.
bearer = HTTPBearer(auto_error=False, description="A department's submission key.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
Department = Annotated[
    str | None,
    Header(
        alias="X-Department",
        max_length=32,
        description="The submitting department's code; required with the demo key.",
    ),
]
_ERRORS = errors(400, 401, 413, 422)


def _department(
    ctx: ContextDep, credentials: HTTPAuthorizationCredentials | None, claimed: str | None
) -> str:
    token = credentials.credentials if credentials else None
    try:
        if token is not None and looks_like_key(token):
            return key_department(ctx, token, claimed=claimed)
        return department_for_key(ctx.settings, token, claimed=claimed)
    except SubmissionKeyError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


@router.post("/submissions", response_model=ReportOut, responses=_ERRORS)
def submit_batch(
    batch: BatchIn,
    ctx: ContextDep,
    credentials: Credentials,
    department: Department = None,
) -> ReportOut:
    """Store a batch of decisions of one type; resubmitting the same batch changes nothing."""
    source = _department(ctx, credentials, department)
    try:
        report = ingest_rows(
            ctx, source=source, type_code=batch.type, rows=batch.rows, actor=f"api:{source}"
        )
    except UnusableInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return report_out(report)


@router.post("/submissions/file", response_model=ReportOut, responses=_ERRORS)
def submit_file(
    ctx: ContextDep,
    type: Annotated[str, Form(min_length=1, max_length=64, description="Record type code.")],
    file: Annotated[UploadFile, File(description="CSV, JSON Lines, XLSX or Parquet.")],
    credentials: Credentials,
    department: Department = None,
) -> ReportOut:
    """Store a department file of one record type and return its validation report."""
    source = _department(ctx, credentials, department)
    try:
        report = ingest_upload(
            ctx,
            source=source,
            type_code=type,
            file_name=file.filename,
            content=file.file,
            actor=f"api:{source}",
        )
    except UnusableInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return report_out(report)
