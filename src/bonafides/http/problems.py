"""One error shape everywhere (RFC 9457), in the answers and in the OpenAPI document.

Clients handle a single ``application/problem+json`` body with a title a person can
read; the OpenAPI document says so for every error status, so contract tests can hold
the server to it. A failure nobody foresaw is logged with its traceback and answered
with a plain 500 problem that gives nothing of the internals away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bonafides.errors import BonafidesError, RateLimited, Unauthenticated, http_status
from bonafides.http.deps import problem
from bonafides.http.middleware import SECURITY_HEADERS
from bonafides.workdays import CalendarFileError, CalendarNotCoveredError

log = logging.getLogger("bonafides.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "bad request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request too large",
    415: "unsupported media type",
    422: "invalid request",
    429: "too many requests",
    500: "internal error",
    503: "service unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="What went wrong, in one line.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="Specifics of this occurrence.")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry documenting the problems a route may answer with."""
    return {
        status: {"model": Problem, "description": _TITLES.get(status, "error")}
        for status in statuses
    }


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


HtmlError = Callable[[Request, int, str], Response]


def install(app: FastAPI, api_prefix: str, html: HtmlError) -> None:
    """Problem answers under ``api_prefix``; ``html`` renders the portal's error pages."""

    def answer(request: Request, status: int, title: str, detail: str | None = None) -> Response:
        if request.url.path.startswith(f"{api_prefix}/"):
            return problem(status, title, detail)
        return html(request, status, detail or title)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = answer(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(BonafidesError)
    async def refused(request: Request, exc: BonafidesError) -> Response:
        """Every refusal a use case raises, answered here and nowhere else; its message is
        the title, as for the routes' own refusals."""
        response = answer(request, http_status(exc), str(exc))
        if isinstance(exc, Unauthenticated):
            response.headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, 422, "invalid request", _validation_detail(exc))

    @app.exception_handler(CalendarNotCoveredError)
    @app.exception_handler(CalendarFileError)
    async def no_calendar(request: Request, exc: Exception) -> Response:
        """A deadline the calendar cannot count is the operator's to fix, not a crash:
        the caller learns why the step is refused, and the log tells the operator."""
        log.error("working-day calendar: %s (%s %s)", exc, request.method, request.url.path)
        return answer(request, 503, "working-day calendar incomplete", str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        # Answered outside the other middleware, so the headers are added here.
        response = problem(500, "internal error", "the error was logged")
        for name, value in SECURITY_HEADERS:
            response.headers[name.decode()] = value.decode()
        return response

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_openapi(default_openapi(), api_prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_openapi(schema: dict[str, Any], api_prefix: str) -> dict[str, Any]:
    """Every error response as ``application/problem+json`` of the Problem schema.

    FastAPI documents its own validation error body for 422; the API answers with a
    problem instead, so the document is corrected to describe what is really sent.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in components:
        components["Problem"] = Problem.model_json_schema()
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(api_prefix):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("422", {"description": _TITLES[422]})
            if "requestBody" in operation:
                # A body that cannot even be parsed (broken JSON, multipart) is a 400; one
                # over the body limit is a 413, answered by the middleware before any route.
                responses.setdefault("400", {"description": _TITLES[400]})
                responses.setdefault("413", {"description": _TITLES[413]})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": ref}}
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
