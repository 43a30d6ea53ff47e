"""Posted forms, read before the handler runs, so that handlers stay plain functions.

A handler that awaits ``request.form()`` must itself be ``async``, and everything it did
next ran on the event loop: the signed-in check, a workflow's audited write waiting on
the audit chain's head row, an attachment hashed and stored. Each stalled every other
request of the worker meanwhile, the public profiles included. Here an async dependency
parses the form, within the limits its route sets, and hands it to a sync handler that
FastAPI runs in the thread pool; the form's files are closed after the response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from bonafides.workflows import attachments


def form_reader(*, max_files: int, max_fields: int) -> Callable[[Request], AsyncIterator[FormData]]:
    """The dependency that parses a route's form within its limits, for a parameter typed
    ``Annotated[FormData, Depends(form_reader(max_files=0, max_fields=4))]``."""

    async def read(request: Request) -> AsyncIterator[FormData]:
        async with request.form(max_files=max_files, max_fields=max_fields) as form:
            yield form

    return read


#: The form of a button that only posts its CSRF token and a field or two.
TokenForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=4))]


def text(value: object, limit: int) -> str:
    """A text field cut to ``limit``; empty when absent or a file."""
    return value[:limit] if isinstance(value, str) else ""


def number(value: object) -> int | None:
    """A positive id field, or None."""
    if isinstance(value, str) and value.isdigit() and len(value) < 18:
        return int(value)
    return None


def uploads(form: FormData, limit: int) -> list[attachments.Upload]:
    """The files posted as ``files``, each read to one byte past ``limit`` so that the
    service can refuse one too large."""
    found = []
    for item in form.getlist("files"):
        if isinstance(item, UploadFile) and item.filename:
            found.append(
                attachments.Upload(
                    file_name=item.filename,
                    content_type=item.content_type or "",
                    data=item.file.read(limit + 1),
                )
            )
    return found
