"""The register of subjects over the API: a department loads its register export.

Only an officer's API key holding ``register:load`` may load, and only as the officer's
own department. The answer is the load report; a file or batch that cannot be used at
all is refused with 422 and nothing is written.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import File, HTTPException, Security, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bonafides.app.register import (
    RegisterBatchIn,
    RegisterReportOut,
    load_rows,
    load_upload,
    report_out,
)
from bonafides.app.submit import SubmissionKeyError
from bonafides.http.auth import key_department
from bonafides.http.deps import ContextDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.ingest.readers import UnusableInputError
from bonafides.security.apikeys import looks_like_key
from bonafides.security.roles import Scope

router = Routes(tags=["register"])

bearer = HTTPBearer(auto_error=False, description="An officer's API key with register:load.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
_ERRORS = errors(400, 401, 413, 422)


def _department(ctx: ContextDep, credentials: HTTPAuthorizationCredentials | None) -> str:
    token = credentials.credentials if credentials else None
    try:
        if token is None or not looks_like_key(token):
            raise SubmissionKeyError("an API key with the register:load scope is required")
        return key_department(ctx, token, claimed=None, scope=Scope.REGISTER_LOAD)
    except SubmissionKeyError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


@router.post("/register", response_model=RegisterReportOut, responses=_ERRORS)
def load_register_rows(
    batch: RegisterBatchIn, ctx: ContextDep, credentials: Credentials
) -> RegisterReportOut:
    """Load register rows (统一社会信用代码, 名称, 曾用名, 登记状态, ...) as the key's
    department; loading the same rows again changes nothing."""
    source = _department(ctx, credentials)
    try:
        report = load_rows(ctx, source=source, rows=batch.rows, actor=f"api:{source}")
    except UnusableInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return report_out(report)


@router.post("/register/file", response_model=RegisterReportOut, responses=_ERRORS)
def load_register_file(
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="CSV, JSON Lines, XLSX or Parquet.")],
    credentials: Credentials,
) -> RegisterReportOut:
    """Load a register export file as the key's department and return its load report."""
    source = _department(ctx, credentials)
    try:
        report = load_upload(
            ctx, source=source, file_name=file.filename, content=file.file, actor=f"api:{source}"
        )
    except UnusableInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return report_out(report)
