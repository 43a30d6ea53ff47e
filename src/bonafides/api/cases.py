"""What the due-process routers share: path ids, the roles they admit, uploads, and how
attachments are shown. The routers are ``objections``, ``repairs``, ``complaints`` and
``inquiries``; each calls ``bonafides.app.due_process`` and only parses and renders.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, UploadFile
from pydantic import BaseModel
from sqlalchemy.orm import Session

from bonafides.http.auth import require
from bonafides.http.deps import Id
from bonafides.security.roles import Principal, Role, Scope
from bonafides.workflows import attachments

__all__ = ["Answerer", "AttachmentOut", "Files", "Id", "OwnWorkflows", "SignedIn"]

OwnWorkflows = Annotated[Principal, Depends(require(Role.SUBJECT, scope=Scope.OWN_WORKFLOWS))]
Answerer = Annotated[Principal, Depends(require(Role.OFFICER, scope=Scope.WORKFLOWS_ANSWER))]
SignedIn = Annotated[Principal, Depends(require())]
Files = Annotated[
    list[UploadFile] | None,
    File(description="PDF, PNG, JPEG or plain text; at most 5 files."),
]


def uploads(files: list[UploadFile] | None, limit: int) -> list[attachments.Upload]:
    """Read one byte past the limit, so an oversized file is refused without reading it all."""
    return [
        attachments.Upload(
            file_name=upload.filename or "attachment",
            content_type=upload.content_type or "",
            data=upload.file.read(limit + 1),
        )
        for upload in files or []
    ]


class AttachmentOut(BaseModel):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str


def attachments_out(session: Session, kind: str, owner_id: int) -> list[AttachmentOut]:
    return [
        AttachmentOut(
            id=a.id,
            file_name=a.file_name,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
        )
        for a in attachments.of(session, kind, owner_id)
    ]
