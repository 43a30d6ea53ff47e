"""The verification page that a report's QR code opens: is this report genuine, and has
the subject's data changed since it was issued?

It runs the same use cases as ``bonafides verify`` and ``POST /api/v1/reports/verify``
(``bonafides.app.reports``), so the page, the CLI and the API cannot disagree. Anyone may
verify; nobody learns a full report's content here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from bonafides.app import reports
from bonafides.app.reports import MAX_PDF_BYTES
from bonafides.errors import TooLarge
from bonafides.http.auth import client_address, hit, search_limit
from bonafides.http.deps import ContextDep
from bonafides.reports.envelope import EnvelopeError
from bonafides.reports.service import Verification
from bonafides.security.ratelimit import Rate
from bonafides.web.forms import form_reader
from bonafides.web.i18n import N_
from bonafides.web.pages import NavEntry, Portal

ACTOR = "public:verify"


VerifyForm = Annotated[FormData, Depends(form_reader(max_files=1, max_fields=4))]


def _rate_limited(request: Request, ctx: ContextDep) -> None:
    """Before the form is read: a flood is refused before its files are."""
    hit(request, None, f"verify:ip:{client_address(request)}", Rate(search_limit(ctx.settings)))


def register(web: Portal) -> None:
    router = web.router

    def page(
        request: Request,
        *,
        status: int = 200,
        result: Verification | None = None,
        error: str | None = None,
        asked: str = "",
    ) -> HTMLResponse:
        return web.render(
            request, "verify.html", status=status, result=result, error=error, asked=asked
        )

    @router.get("/verify", response_class=HTMLResponse)
    async def verify_page(
        request: Request,
        ctx: ContextDep,
        report: str | None = None,
        certificate: str | None = None,
        code: str | None = None,
    ) -> HTMLResponse:
        asked = (report or certificate or "")[:64]
        if not asked:
            return page(request)
        _rate_limited(request, ctx)
        given = (code or None) and code[:20]
        result = await run_in_threadpool(reports.verify_id, ctx, asked, given, actor=ACTOR)
        if result is None:
            return page(request, status=404, error="unknown", asked=asked)
        return page(request, result=result, asked=asked)

    @router.post("/verify", response_class=HTMLResponse)
    def verify_upload(
        request: Request,
        ctx: ContextDep,
        _limited: Annotated[None, Depends(_rate_limited)],
        form: VerifyForm,
    ) -> HTMLResponse:
        asked = form.get("id")
        code = form.get("code")
        upload = form.get("file")
        given = code[:20].strip() if isinstance(code, str) and code.strip() else None
        data = b""
        if isinstance(upload, UploadFile) and upload.filename:
            data = upload.file.read(MAX_PDF_BYTES + 1)
        if data:
            try:
                checked = reports.verify_upload(ctx, data, code=given, actor=ACTOR)
            except TooLarge:
                return page(request, status=413, error="large")
            except EnvelopeError:
                return page(request, status=422, error="unreadable")
            return page(request, result=checked)
        text = asked[:64].strip() if isinstance(asked, str) else ""
        if not text:
            return page(request, status=422, error="missing")
        found = reports.verify_id(ctx, text, given, actor=ACTOR)
        if found is None:
            return page(request, status=404, error="unknown", asked=text)
        return page(request, result=found, asked=text)

    web.nav.append(NavEntry("/verify", N_("Verify a report")))
