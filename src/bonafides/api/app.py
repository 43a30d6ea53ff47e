"""The ASGI application: the JSON API under /api/v1 and the portal beside it.

Routers stay thin, services hold the logic. Every response carries the strict
security headers and is gzipped from 1 KB when the client asks, every request body is
held to its route class's limit (``upload_max_bytes`` for uploads and batches,
``request_max_bytes`` else), and every API error is an RFC 9457 problem.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from bonafides import __version__
from bonafides.api import docs
from bonafides.app.public import FigureCache
from bonafides.context import Context
from bonafides.http import problems
from bonafides.http.deps import ContextDep, ReaderDep
from bonafides.http.middleware import BodyLimit, Compression, PublicCaching, SecurityHeaders
from bonafides.http.observability import RequestContext, TrustedProxies, metrics_endpoint
from bonafides.http.routes import Routes
from bonafides.readiness import failures
from bonafides.security import logredact, passwords
from bonafides.security.clock import SystemClock
from bonafides.settings import Settings, get_settings
from bonafides.store.reads import PING, Read, reader_for

API = "/api/v1"


#: Modules under bonafides.api that expose ``router`` (a ``Routes``); each area adds its own.
ROUTER_MODULES: tuple[str, ...] = (
    "subjects",
    "catalogue",
    "statistics",
    "submissions",
    "register",
    "reports",
    "accounts",
    "registrations",
    "objections",
    "repairs",
    "complaints",
    "inquiries",
    "disclosure_requests",
    "commitments",
    "lists",
    "measures",
    "checks",
    "audit",
    "alerts",
    "exports",
    "consumers",
    "feed",
    "watchlists",
    "counterparties",
    "review",
)


def routers() -> list[Routes]:
    from importlib import import_module

    return [import_module(f"bonafides.api.{name}").router for name in ROUTER_MODULES]


class Health(BaseModel):
    status: str
    version: str


def health_routes() -> Routes:
    """First in the table, so the load balancers' probe is matched at once."""
    routes = Routes(tags=["meta"])

    @routes.get("/health", response_model=Health)
    async def health(reader: ReaderDep) -> Health:
        """Liveness and store reachability, for load balancers and `make demo`.

        One ``SELECT 1`` through the pool the public reads use: the trivial query the
        web benchmark holds the real endpoints against.
        """
        await reader.fetch(Read(PING, {}))
        return Health(status="ok", version=__version__)

    @routes.get("/ready", response_model=Health, responses=problems.errors(503))
    def ready(ctx: ContextDep) -> Health | Response:
        """Readiness: the store reachable and migrated to the code's heads, the report
        font and Pango loadable. Not for liveness: it opens a connection of the write
        pool and asks fontconfig, so it runs in the thread pool, never on the loop."""
        failed = failures(ctx.engine)
        if not failed:
            return Health(status="ok", version=__version__)
        detail = "; ".join(f"{f.check}: {f.reason}" for f in failed)
        body: dict[str, Any] = {"type": "about:blank", "title": "not ready", "status": 503}
        body["detail"] = detail
        body["checks"] = [{"check": f.check, "reason": f.reason} for f in failed]
        return JSONResponse(body, status_code=503, media_type=problems.PROBLEM_MEDIA_TYPE)

    return routes


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clock = getattr(app.state, "clock", None) or SystemClock()
        app.state.context = context = Context(settings, clock=clock)
        app.state.reader = reader = reader_for(context.engine, size=settings.read_pool_size)
        await reader.open()
        passwords.dummy_hash()
        # What start-up built (routes, schemas, the catalogue) lives as long as the
        # process: out of the collector's sight, a full collection stays short.
        gc.freeze()
        try:
            yield
        finally:
            await reader.close()
            context.close()

    app = FastAPI(
        title="bonafides",
        version=__version__,
        summary="Public credit information: subjects, public records, catalogue, submission.",
        openapi_url=f"{API}/openapi.json",
        # FastAPI's docs pages load their scripts from a CDN, which the strict content
        # security policy (rightly) refuses; ``docs`` serves a vendored Swagger UI instead.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.figures = FigureCache()
    logredact.install()
    app.add_middleware(BodyLimit, limit=settings.upload_max_bytes, small=settings.request_max_bytes)
    # Inside SecurityHeaders, so its no-store on private answers has the last word;
    # inside Compression, so the digest is of the body the route wrote.
    app.add_middleware(PublicCaching)
    app.add_middleware(SecurityHeaders)
    # It compresses the body the others have finished with, headers and all.
    app.add_middleware(Compression)
    # Request id, HSTS and metrics around everything, so the time counted is the whole answer.
    app.add_middleware(RequestContext, hsts_seconds=settings.hsts_seconds)
    # Outermost: the client address every other layer and route sees.
    app.add_middleware(TrustedProxies, trusted=settings.forwarded_allow_ips)

    health_routes().add_to(app, prefix=API)
    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    for router in routers():
        router.add_to(app, prefix=API)
    docs.install(app, API)

    from bonafides.web import portal

    web = portal(settings)
    app.state.portal = web
    web.router.add_to(app)
    app.mount("/static", web.static, name="static")

    problems.install(app, API, web.error_page)

    return app
