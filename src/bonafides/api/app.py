"""The ASGI application: routers stay thin, services hold the logic."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bonafides import __version__
from bonafides.api.deps import ContextDep, SessionDep, problem
from bonafides.codes import CodeError, parse_subject_code
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.settings import Settings, get_settings
from bonafides.store.profiles import load_profile
from bonafides.views import record_json

API = "/api/v1"

#: Modules under bonafides.api that expose ``router``; each area adds its own.
ROUTER_MODULES: tuple[str, ...] = ()


def routers() -> list[APIRouter]:
    return [import_module(f"bonafides.api.{name}").router for name in ROUTER_MODULES]


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
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    for router in routers():
        app.include_router(router, prefix=API)

    @app.exception_handler(HTTPException)
    async def http_problem(_request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.get(f"{API}/health", tags=["meta"])
    def health(session: SessionDep) -> dict[str, str]:
        """Liveness and store reachability, for load balancers and `make demo`."""
        session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get(f"{API}/subjects/{{code}}", tags=["subjects"])
    def subject(code: str, ctx: ContextDep, session: SessionDep) -> dict[str, Any]:
        """A subject's public file: identity and the records the law makes public today."""
        try:
            parse_subject_code(code)
        except CodeError as exc:
            raise HTTPException(422, f"invalid code: {exc.reason}") from exc
        profile = load_profile(
            session, ctx.keys, code, audience=Audience.PUBLIC, today=dt.date.today()
        )
        if profile is None:
            raise HTTPException(404, "no such subject")
        return {
            "code": profile.code,
            "kind": profile.kind,
            "name": profile.name,
            "name_en": profile.name_en,
            "former_names": profile.former_names,
            "region": profile.region,
            "region_name": profile.region_name,
            "records": [record_json(r) for r in profile.records],
        }

    return app
