"""Path operations declared by one area of the API or portal, added to the app flat.

Since 0.137, ``FastAPI.include_router`` no longer copies an included router's routes
into the app: it keeps the router as a node that every request walks, candidate by
candidate, through context variables. With a dozen routers and about a hundred
routes, a request to a route declared late spent over a millisecond just being
matched, as long as the whole query behind a public profile. Each area therefore
declares its operations on a ``Routes``, which only records them, and the app adds
them with ``add_api_route`` as if they had been declared on the app itself: the same
operations, the same OpenAPI document, matched by Starlette's flat list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI

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
        for op in self.operations:
            options = dict(op.options)
            tags = [*self.tags, *options.pop("tags", [])]
            options.setdefault("include_in_schema", self.include_in_schema)
            app.add_api_route(
                prefix + op.path, op.endpoint, methods=list(op.methods), tags=tags, **options
            )
