"""Who the client is behind trusted proxies, a request id on every request and log line,
Prometheus metrics by route template, HSTS, and the guarded ``/metrics`` endpoint.

``TrustedProxies`` believes ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only from the
listed proxy addresses (``--forwarded-allow-ips``): the client address it yields is
what rate limits, sign-in throttles and the audit trail count by, so anybody else
sending the header must not choose their own. ``RequestContext`` takes a request id
from ``X-Request-ID`` of such a proxy (or makes one), puts it in the logs' context and
echoes it in the answer, and counts the request under its route template: the path
``/api/v1/subjects/{code}``, never the code itself.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bonafides import metrics
from bonafides.logs import REQUEST_ID
from bonafides.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The scope key that says the peer is a trusted proxy (its headers were believed).
TRUSTED_PEER = "bonafides.trusted_peer"
REQUEST_ID_HEADER = "x-request-id"
#: A proxy's request id is kept only if it is short and plain: it goes into every log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DEFAULT_PROXIES = "127.0.0.1"


def networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks; ``*`` is every address."""
    found: list[Network] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part == "*":
            found += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
            continue
        found.append(ipaddress.ip_network(part, strict=False))
    return tuple(found)


def within(address: str, allowed: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in allowed)


class TrustedProxies:
    """The client address and scheme from a trusted proxy's forwarded headers.

    ``X-Forwarded-For`` is read from the right: the first address not itself a trusted
    proxy is the client (a client can prepend anything it likes; only what the proxies
    appended is sure). A request from any other peer keeps its own address, headers or
    not.
    """

    def __init__(self, app: ASGIApp, trusted: str | None) -> None:
        self.app = app
        self.trusted = networks(trusted or DEFAULT_PROXIES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if client and within(client[0], self.trusted):
            scope[TRUSTED_PEER] = True
            headers = dict(scope.get("headers", []))
            forwarded = headers.get(b"x-forwarded-for")
            if forwarded is not None:
                hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    if not within(hop, self.trusted):
                        scope["client"] = (hop, 0)
                        break
            proto = headers.get(b"x-forwarded-proto")
            if proto is not None and proto.strip().lower() in (b"http", b"https"):
                scheme = proto.strip().lower().decode()
                if scope["type"] == "websocket":
                    scheme = scheme.replace("http", "ws")
                scope["scheme"] = scheme
        await self.app(scope, receive, send)


def request_id_for(scope: Scope) -> str:
    if scope.get(TRUSTED_PEER):
        for name, value in scope.get("headers", []):
            if name == REQUEST_ID_HEADER.encode():
                given: str = value.decode("latin-1").strip()
                if _REQUEST_ID.fullmatch(given):
                    return given
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/lists/{code}``), ``unmatched`` for a
    path no route has: a label per raw path would grow without bound."""
    path = getattr(scope.get("route"), "path", None)
    return str(path) if isinstance(path, str) and path else "unmatched"


class RequestContext:
    """Request id in and out, HSTS when configured, and the request's metrics."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains".encode() if hsts_seconds else b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (n, v) for n, v in message.get("headers", []) if n.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                if self.hsts:
                    headers.append((b"strict-transport-security", self.hsts))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_of(scope)
            method = scope.get("method", "GET")
            metrics.REQUESTS.labels(method, route, str(status)).inc()
            metrics.LATENCY.labels(method, route).observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)


class _Default:
    """The process's own registry (requests, jobs, and the process collector)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class StoreCollector:
    """Queue depths, overdue cases and the last success of each job, read at the scrape."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def collect(self) -> Iterator[Metric]:
        from sqlalchemy.exc import SQLAlchemyError

        from bonafides.app.operations import operations

        up = GaugeMetricFamily(
            "bonafides_store_up", "Whether the scrape could read the store (1) or not (0)."
        )
        try:
            found = operations(self.request.app.state.context)
        except SQLAlchemyError:
            # The request counters are still worth having; the store's figures are not.
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "bonafides_queue_depth",
            "Open items per queue: objections, repairs, complaints, review.",
            labels=["queue"],
        )
        late = GaugeMetricFamily(
            "bonafides_overdue_cases",
            "Open objections, repair applications and complaints past their deadline.",
            labels=["queue"],
        )
        for queue in found.queues:
            depth.add_metric([queue.name], queue.open)
            if queue.name != "review":
                late.add_metric([queue.name], queue.overdue)
        success = GaugeMetricFamily(
            "bonafides_job_last_success_timestamp_seconds",
            "When each timed job of the worker last finished without error (Unix time).",
            labels=["job"],
        )
        for job, at in sorted(found.last_success.items()):
            success.add_metric([job], at.timestamp())
        yield from (depth, late, success)


def may_read_metrics(request: Request, settings: Settings) -> bool:
    from bonafides.http.auth import bearer_token, client_address

    if within(client_address(request), networks(settings.metrics_allow)):
        return True
    token = bearer_token(request)
    expected = settings.metrics_token
    return bool(
        token
        and expected is not None
        and expected.get_secret_value()
        and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    )


def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format; the counters of every worker process when
    ``PROMETHEUS_MULTIPROC_DIR`` is set. Sync, so Starlette runs it (and the store's
    counts) in the thread pool."""
    settings: Settings = request.app.state.context.settings
    if not may_read_metrics(request, settings):
        return PlainTextResponse("forbidden: not from an allowed network\n", status_code=403)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Default())
    registry.register(StoreCollector(request))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
