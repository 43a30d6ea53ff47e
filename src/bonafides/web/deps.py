"""Dependencies of the portal's pages, so their handlers can live at module level."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bonafides.web.pages import Portal


async def _portal(request: Request) -> Portal:
    """The app's portal (``create_app`` keeps it on ``app.state``): its templates and settings."""
    web = request.app.state.portal
    assert isinstance(web, Portal)
    return web


PortalDep = Annotated[Portal, Depends(_portal)]
