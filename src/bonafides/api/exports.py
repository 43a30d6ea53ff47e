"""Open-data exports for download: the list of snapshots and deltas, and their files.

The exports are made by ``bonafides export`` (or the scheduled job calling the same
function) into the data directory; these routes only serve them. A file's ETag is its
SHA-256 from the manifest, so a mirror revalidates a large file without our reading it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, Path, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from bonafides.app.exports import export_file, exports
from bonafides.http.deps import ContextDep
from bonafides.http.middleware import (
    CACHE_CONTROL,
    GZIP_EXCLUDED_TYPES,
    GZIP_MINIMUM_BYTES,
    etag_matches,
)
from bonafides.http.problems import errors
from bonafides.http.routes import Routes

router = Routes(tags=["exports"])


class ExportFileOut(BaseModel):
    rows: int
    bytes: int
    sha256: str
    schema_: list[list[str]] = Field(alias="schema", description="Column name and type.")


class ExportOut(BaseModel):
    type: str
    name: str = Field(description="Download a file at /api/v1/exports/{name}/{file}.")
    kind: str = Field(description="snapshot, or delta (changes since `since`).")
    format: str
    as_of: str
    since: str | None
    generated_at: str
    catalogue_version: str
    catalogue_digest: str
    rules_version: str
    files: dict[str, ExportFileOut]


class ExportsOut(BaseModel):
    exports: list[ExportOut] = Field(description="Newest first.")


@router.get("/exports", response_model=ExportsOut, response_model_by_alias=True)
def list_exports(ctx: ContextDep) -> dict[str, Any]:
    """Every open-data snapshot and delta on offer, with its manifest (rows, schema and
    SHA-256 of every file, catalogue version)."""
    return {"exports": exports(ctx)}


ExportName = Annotated[
    str,
    Path(max_length=120, pattern=r"^(snapshot|delta)-[0-9a-z-]+$", description="From the list."),
]
FileName = Annotated[
    str,
    Path(max_length=60, pattern=r"^[a-z_]+(\.[a-z]+){1,2}$", examples=["records.parquet"]),
]


@router.get(
    "/exports/{name}/{file}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file."},
        304: {"description": "Not modified (If-None-Match)."},
        **errors(404, 422),
    },
)
def export_download(
    name: ExportName, file: FileName, request: Request, ctx: ContextDep
) -> Response:
    """One file of an export (or its manifest.json), with its SHA-256 as a strong ETag."""
    found = export_file(ctx, name, file)
    if found is None or not found.path.is_file():
        raise HTTPException(404, f"no file {file!r} in export {name!r}")
    tag = found.sha256[:32]
    gzipped = (
        "gzip" in request.headers.get("accept-encoding", "")
        and not found.media_type.startswith(GZIP_EXCLUDED_TYPES)
        and found.path.stat().st_size >= GZIP_MINIMUM_BYTES
    )
    etag = f'"{tag}-gzip"' if gzipped else f'"{tag}"'
    headers = {"etag": etag, "cache-control": CACHE_CONTROL.decode()}
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return FileResponse(found.path, media_type=found.media_type, filename=file, headers=headers)
