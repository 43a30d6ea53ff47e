"""Attachments to objections, repair applications and complaints.

Files are kept under ``data_dir/attachments`` by their SHA-256, never under a name the
uploader chose, so no upload can reach another path or overwrite another file. The type
is decided by the bytes, not by what the client declared: a declared type that the
content does not bear out is refused, and only PDF, PNG, JPEG and plain UTF-8 text are
taken, none of which a browser runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.security.clock import Clock
from bonafides.store.tables import Attachment
from bonafides.workflows.common import InvalidError

MAX_FILES = 5
ALLOWED = ("application/pdf", "image/png", "image/jpeg", "text/plain")
_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class Upload:
    file_name: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type the bytes show, among the allowed ones; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return None
    return "text/plain"


def clean_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._ ")[-120:]
    return cleaned or "attachment"


def check(uploads: list[Upload], *, max_bytes: int) -> list[tuple[Upload, str]]:
    """Each upload with its verified type; the whole set is refused if one is unusable."""
    if len(uploads) > MAX_FILES:
        raise InvalidError(f"at most {MAX_FILES} attachments")
    out: list[tuple[Upload, str]] = []
    for upload in uploads:
        name = clean_name(upload.file_name)
        if not upload.data:
            raise InvalidError(f"attachment {name!r} is empty")
        if len(upload.data) > max_bytes:
            raise InvalidError(f"attachment {name!r} is larger than {max_bytes} bytes")
        found = sniff(upload.data)
        if found is None:
            raise InvalidError(f"attachment {name!r} is not a PDF, PNG, JPEG or plain text file")
        declared = upload.content_type.split(";")[0].strip().lower()
        if declared not in ("", "application/octet-stream") and declared != found:
            raise InvalidError(f"attachment {name!r} is declared {declared} but is {found}")
        out.append((upload, found))
    return out


def store(
    session: Session,
    clock: Clock,
    data_dir: Path,
    *,
    owner_kind: str,
    owner_id: int,
    checked: list[tuple[Upload, str]],
    actor: str,
) -> list[Attachment]:
    """Write the files (content-addressed, atomically) and their rows."""
    root = data_dir / "attachments"
    rows: list[Attachment] = []
    for upload, content_type in checked:
        digest = hashlib.sha256(upload.data).hexdigest()
        relative = Path(digest[:2]) / digest
        target = root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(f".{os.getpid()}.part")
            temporary.write_bytes(upload.data)
            temporary.replace(target)
        row = Attachment(
            owner_kind=owner_kind,
            owner_id=owner_id,
            file_name=clean_name(upload.file_name),
            content_type=content_type,
            size=len(upload.data),
            sha256=digest,
            path=relative.as_posix(),
            uploaded_at=clock.now(),
            uploaded_by=actor,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def of(session: Session, owner_kind: str, owner_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        )
    )


def read(data_dir: Path, attachment: Attachment) -> bytes:
    """The stored bytes, checked against the digest recorded at upload."""
    data = (data_dir / "attachments" / attachment.path).read_bytes()
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise InvalidError(f"attachment {attachment.id} does not match its recorded digest")
    return data
