"""The ASGI application: the JSON API under /api/v1 and the portal beside it.

Routers stay thin, services hold the logic. Every response carries the strict
security headers, every request body is held to ``upload_max_bytes``, and every
API error is an RFC 9457 problem.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import text

from bonafides import __version__
from bonafides.api import problems
from bonafides.api.deps import SessionDep
from bonafides.api.middleware import BodyLimit, SecurityHeaders
from bonafides.api.public import FigureCache
from bonafides.context import Context
from bonafides.settings import Settings, get_settings

API = "/api/v1"


#: Modules under bonafides.api that expose ``router``; each area adds its own.
ROUTER_MODULES: tuple[str, ...] = (
    "subjects",
    "catalogue",
    "statistics",
    "submissions",
    "reports",
    "accounts",
    "registrations",
    "workflows",
    "lists",
    "measures",
    "checks",
)


def routers() -> list[APIRouter]:
    from importlib import import_module

    return [import_module(f"bonafides.api.{name}").router for name in ROUTER_MODULES]


class Health(BaseModel):
    status: str
    version: str


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = Context(settings)
        try:
            yield
        finally:
            app.state.context.close()

    app = FastAPI(
        title="bonafides",
        version=__version__,
        summary="Public credit information: subjects, public records, catalogue, submission.",
        openapi_url=f"{API}/openapi.json",
        # The interactive docs load their scripts from a CDN, which the strict
        # content security policy (rightly) refuses; the OpenAPI document is the docs.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.figures = FigureCache()
    app.add_middleware(BodyLimit, limit=settings.upload_max_bytes)
    app.add_middleware(SecurityHeaders)

    for router in routers():
        app.include_router(router, prefix=API)

    from bonafides.web import portal

    web = portal(settings)
    app.include_router(web.router)
    app.mount("/static", web.static, name="static")

    problems.install(app, API, web.error_page)

    @app.get(f"{API}/health", tags=["meta"], response_model=Health)
    def health(session: SessionDep) -> Health:
        """Liveness and store reachability, for load balancers and `make demo`."""
        session.execute(text("SELECT 1"))
        return Health(status="ok", version=__version__)

    return app
