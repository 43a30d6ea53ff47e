"""A page module as another area would write one, for the extension point's test."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from bonafides.web.i18n import N_
from bonafides.web.pages import NavEntry, Portal


def register(web: Portal) -> None:
    @web.router.get("/example", response_class=HTMLResponse)
    def example(request: Request) -> HTMLResponse:
        return web.render(request, "error.html", status_code=200, detail="example page")

    web.nav.append(NavEntry("/example", N_("Statistics")))
