"""Path operations declared by one area of the API or portal, added to the app flat.

Since 0.137, ``FastAPI.include_router`` no longer copies an included router's routes
into the app: it keeps the router as a node that every request walks, candidate by
candidate, through context variables. With a dozen routers and about a hundred
routes, a request to a route declared late spent over a millisecond just being
matched, as long as the whole query behind a public profile. Each area therefore
declares its operations on a ``Routes``, which only records them, and the app adds
them with ``add_api_route`` as if they had been declared on the app itself: the same
operations, the same OpenAPI document, matched by Starlette's flat list.

Building a route is most of the cost of making an app (its dependency tree and the
pydantic fields of every documented response: about two milliseconds a route, a fifth
of a second for the API). A route holds nothing of the app it serves, so a ``Routes``
builds each of its routes once per process and every app made after the first shares
them; a portal's ``Routes``, made afresh for its settings, builds its own. The price:
``app.dependency_overrides`` does not reach these routes (nothing here uses it; tests
run the real dependencies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRouter
from starlette.routing import BaseRoute

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    path: str
    endpoint: Callable[..., Any]
    methods: tuple[str, ...]
    options: dict[str, Any]


@dataclass
class Routes:
    """Records ``@routes.get(...)`` and the like, in order, for ``add_to``.

    The decorators take FastAPI's own keyword arguments and hand them on unchanged;
    ``tags`` here are put before an operation's own, as ``APIRouter`` does.
    """

    tags: list[str] = field(default_factory=list)
    include_in_schema: bool = True
    operations: list[Operation] = field(default_factory=list)
    _built: dict[tuple[str, int], list[BaseRoute]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def api_route(
        self, path: str, *, methods: list[str], **options: Any
    ) -> Callable[[Endpoint], Endpoint]:
        def record(endpoint: Endpoint) -> Endpoint:
            self.operations.append(Operation(path, endpoint, tuple(methods), options))
            return endpoint

        return record

    def get(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["POST"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["DELETE"], **options)

    @property
    def paths(self) -> list[str]:
        return [op.path for op in self.operations]

    def add_to(self, app: FastAPI, prefix: str = "") -> None:
        app.router.routes.extend(self.built(prefix))

    def built(self, prefix: str = "") -> list[BaseRoute]:
        """The routes of these operations under ``prefix``, built on first use: by an
        ``APIRouter`` with FastAPI's defaults, which are the app's (create_app sets none)."""
        key = (prefix, len(self.operations))
        if key not in self._built:
            router = APIRouter()
            self.add_each(router, prefix)
            self._built[key] = list(router.routes)
        return self._built[key]

    def add_each(self, target: FastAPI | APIRouter, prefix: str = "") -> None:
        """Each operation added by ``target``'s own ``add_api_route``."""
        for op in self.operations:
            options = dict(op.options)
            tags = [*self.tags, *options.pop("tags", [])]
            options.setdefault("include_in_schema", self.include_in_schema)
            target.add_api_route(
                prefix + op.path, op.endpoint, methods=list(op.methods), tags=tags, **options
            )
